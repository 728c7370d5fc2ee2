"""No service serves FastAPI's docs pages (/docs and /redoc load scripts from a CDN; the machines that run the
services, and a dashboard, have no internet): every `FastAPI(...)` in src says docs_url=None, redoc_url=None."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src/gridchain"


def fastapi_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "FastAPI":
                calls.append((f"{path.relative_to(SRC)}:{node.lineno}", node))
    return calls


def test_every_fastapi_app_has_no_docs_pages():
    calls = fastapi_calls()
    assert len(calls) >= 3  # the utility's, the relayer's, the V2V provider's
    for where, call in calls:
        given = {k.arg: k.value for k in call.keywords}
        for key in ("docs_url", "redoc_url"):
            assert isinstance(given.get(key), ast.Constant) and given[key].value is None, f"{where}: {key}"
