"""The message board: its state in the store (`board`) and its loopback HTTP service with a client (`http`).

Layer `service` of escrow/negotiation: imports its model, the shared adapters (net, store) and the kernel; never
its parties (they reach the board through a port both the board and its client fill).
"""
