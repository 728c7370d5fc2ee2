"""The experiments page: the JSON outputs of `gridchain experiment grid`, `experiment fig2` and `gas-report` in
the deployment's results folder ([dashboard] results), listed with their configuration, each shown as charts
(plotly.js, drawn by static/experiments.js from the page's JSON block) over tables of the same numbers.

Reads files only: no chain, no index. A file name in a path is looked up in the folder and nowhere else."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.outputs.folder import Result, ResultsFolder

TITLE, PATH = "Experiments", "/experiments"
OTHERS_SHOWN = 20  # names of non-JSON files listed (the rest counted)


def not_found(file: str) -> str:
    return f"file: {file!r} is not a JSON file in the results folder"


def find(folder: ResultsFolder, file: str) -> Result | None:
    return folder.read(file) if file.endswith(".json") else None


def router(deployment: Deployment, templates) -> APIRouter:
    folder = ResultsFolder(deployment.settings.results)
    api = APIRouter()

    @api.get(PATH, response_class=HTMLResponse)
    def listing(request: Request):
        results = folder.listing()
        others = folder.others()
        context = {
            "folder": str(folder.root),
            "exists": folder.root.is_dir(),
            "results": [r for r in results if not r.skipped],
            "skipped": [r for r in results if r.skipped],
            "others": others[:OTHERS_SHOWN],
            "others_count": len(others),
        }
        return templates.TemplateResponse(request, "experiments.html", context)

    @api.get(PATH + "/{file:path}", response_class=HTMLResponse)
    def result_page(request: Request, file: str):
        result = find(folder, file)
        if result is None:
            context = {"result": None, "missing": not_found(file), "charts": {}}
            return templates.TemplateResponse(request, "experiment.html", context, status_code=404)
        sections = result.view.get("sections", [])
        charts = {
            s["id"]: {"traces": s["chart"]["traces"], "layout": s["chart"]["layout"]} for s in sections if s["chart"]
        }
        return templates.TemplateResponse(request, "experiment.html", {"result": result, "charts": charts})

    @api.get("/api/experiments")
    def listing_api():
        return {"folder": str(folder.root), "files": [_summary(r) for r in folder.listing()]}

    @api.get("/api/experiments/{file:path}")
    def result_api(file: str):
        result = find(folder, file)
        if result is None:
            raise HTTPException(404, not_found(file))
        return {**_summary(result), "view": result.view}

    return api


def _summary(result: Result) -> dict:
    keys = ("name", "kind", "title", "configuration", "status", "error", "skipped")
    return {k: getattr(result, k) for k in keys}
