"""The one adapter to the EVM: compile, deploy, transact and read events, on the embedded chain (titanoboa,
py-evm) or on any node over JSON-RPC, behind one Gateway protocol; nothing above it knows which chain it has.

Shared adapter: imports only crypto, the kernel and libraries; never ocpp, net, experiments, ui, a feature or
the CLI.
"""
