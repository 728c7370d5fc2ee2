"""The one adapter to the EVM: compile, deploy, transact, read events.

`Gateway` is the protocol; `BoaGateway` runs the embedded chain in-process (titanoboa / py-evm) and
`RpcGateway` talks JSON-RPC to a node (anvil in tests, any EVM node in production) with locally signed
transactions. Nothing above this package knows which one it has.
"""
