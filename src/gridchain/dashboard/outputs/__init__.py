"""The experiments' JSON outputs as the dashboard shows them: a results folder read safely (no path out of it,
each file parsed once per modification), each file recognised as one kind of experiment and checked field by
field into tables and chart specifications (plotly traces and layouts), so that a malformed file is named with
what is wrong instead of breaking a page.

Pure: reads files, imports no feature (the writers' schemas are read, not imported). A kind is one module with
`KIND`, `TITLE`, `PREFIX`, `recognise(doc)`, `configuration(doc)` and `view(doc)`; `KINDS` is the registry.
"""

from __future__ import annotations

from gridchain.dashboard.outputs import fig2, gas, grid

KINDS = (grid, fig2, gas)
