"""The web dashboard: what a deployment's chain and index hold, as pages people look at (`gridchain dashboard`).

Entry point, read-only: it holds no keys and sends no transaction. It reads the event indexer's store and the
node, through the features' clients and models (the same recomputation as `gridchain verify`); nothing in
gridchain imports it but the root CLI. A page is one module in `pages/` and one line in `pages.PAGES`.
"""
