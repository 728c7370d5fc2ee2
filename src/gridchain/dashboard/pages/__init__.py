"""The dashboard's pages: each module here has `TITLE`, `PATH` (its place in the navigation) and
`router(deployment, templates)` (a FastAPI router with its page and its JSON API). `PAGES` is the registry:
a new page adds one line."""

from __future__ import annotations

from gridchain.dashboard.pages import community, data_access, experiments, household, market, metering, v2v

PAGES = (community, household, v2v, market, metering, data_access, experiments)
