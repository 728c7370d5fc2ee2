"""The services' common ground: an ASGI app served on 127.0.0.1 (in a background thread or in the foreground) and
clients for it, and what keeps a daemon running and observable (loops that survive their node's outages, JSON-line
logs, Prometheus metrics, a /health that tells the truth).

Shared adapter: imports chain, crypto and the kernel at most; never ocpp, experiments, ui, a feature or the CLI.
"""
