"""Run the `gridchain` command of this checkout as its own OS process (process-level tests of daemons)."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def gridchain_argv(*args: str) -> list[str]:
    """The argv that runs `gridchain ARGS` with this interpreter."""
    return [sys.executable, "-c", "from gridchain.cli import main; main()", *args]


def gridchain_env(**extra: str) -> dict[str, str]:
    """The environment for it: this checkout's sources first on the path."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def rpc(url: str, method: str, params: list | None = None) -> object:
    """One JSON-RPC call (a node's answer or its error raised as RuntimeError)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]
