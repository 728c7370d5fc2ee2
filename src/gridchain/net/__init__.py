"""Loopback networking for the services: an ASGI app served on 127.0.0.1 in a background thread or in the
foreground, and clients for it.

Shared adapter: imports chain, crypto and the kernel at most; never ocpp, experiments, ui, a feature or the CLI.
"""
