"""`gridchain gas-report` (gas_<hardfork>_<chain>_seed<S>.json): receipt gas of each contract function, per
feature section (coordination, the paper's baseline, V2V, metering, ...), some per slot size; the targets and
what issue 14's security fixes cost. The writer is gridchain.experiments.gas_report (`run`), its sections each
feature's gas.py. Sections are read generically: a number is a function's gas, an object keyed by sizes is gas
per size (with verdicts such as `under_cap` beside), an object of strings is notes (e.g. the baseline's failures),
a list of objects is one row per call; `contract` and `note` are a section's notes in words, `config` its
parameters. Only gas is drawn: verdicts, parameters and figures named as counts or ratios are in the tables."""

from __future__ import annotations

from typing import Any

from gridchain.dashboard.outputs.fields import dotted, is_number, mapping, number, text
from gridchain.dashboard.outputs.views import axes, cell, chart, log_worth, section, table
from gridchain.errors import InputError

KIND, TITLE, PREFIX = "gas", "Gas report", "gas_"
META = ("hardfork", "chain", "config", "targets", "before_security_fixes")
HARDFORKS = {"osaka": "Osaka", "prague": "Prague"}
# names of figures that are not gas (kept out of the charts): by their ending, or whole (a name's last part)
COUNTS = ("_calls", "_per_root", "_intervals", "_wh", "_under_cap", "_in_one_clear")
NOT_GAS = ("units", "pairs", "orders", "traders", "seed", "n")
NOTES = ("contract", "note")  # a section's words: where its figures come from, why some are missing
PARAMETERS = ("config",)  # a section's parameters: shown in its table, never drawn
MEASURED = ("gas", "ratio", "gas_per_request", "n")  # a target's measured figure, the first found


def recognise(doc: dict) -> bool:
    return isinstance(doc.get("hardfork"), str) and isinstance(doc.get("targets"), dict)


def hardfork(doc: dict) -> str:
    name = text(doc, "hardfork")
    return HARDFORKS.get(name.lower(), name)


def configuration(doc: dict) -> str:
    return f"{hardfork(doc)} on {text(doc, 'chain')}, seed {number(doc, 'config', 'seed')}"


def view(doc: dict) -> dict:
    """The page: facts (the hardfork first), the targets, each section's gas, the cost of the security fixes."""
    sections = [_targets(mapping(doc, "targets"))]
    for key, value in doc.items():
        if key in META or key.endswith("_setup"):
            continue
        if not isinstance(value, dict):
            raise InputError(key, "is not an object of gas figures")
        setup = doc.get(f"{key}_setup")
        sections += _section(key, value, setup if isinstance(setup, dict) else None)
    if "before_security_fixes" in doc:
        sections.append(_before(mapping(doc, "before_security_fixes")))
    facts = [
        ("hardfork", cell(hardfork(doc))),
        ("chain", cell(text(doc, "chain"))),
        ("seed", cell(number(doc, "config", "seed"))),
    ]
    cfg = mapping(doc, "config")
    for key in ("coordination_sizes", "baseline_sizes"):
        if isinstance(cfg.get(key), list):
            facts.append((key.replace("_", " "), cell(", ".join(f"{n:,}" for n in cfg[key] if is_number(n)))))
    return {"title": f"{TITLE}: {configuration(doc)}", "hardfork": hardfork(doc), "facts": facts, "sections": sections}


def _flatten(name: str, figures: dict) -> tuple[list, dict[str, dict[int, Any]], list[str]]:
    """A section's scalars [(function, gas)], its figures per size {function: {size: gas}} and its notes."""
    scalars, sized, notes = [], {}, []
    for fn, value in figures.items():
        if fn in NOTES:
            if value is not None and not isinstance(value, str):
                raise InputError(f"{name}.{fn}", "is not text")
            notes += [f"{fn}: {value}"] if value else []
        elif fn in PARAMETERS and isinstance(value, dict):
            scalars += [(f"{fn}.{k}", _figure((name, fn, k), v)) for k, v in value.items()]
        elif value is None or is_number(value) or isinstance(value, bool):
            scalars.append((fn, value))
        elif isinstance(value, list) and all(isinstance(row, dict) for row in value):
            for i, row in enumerate(value):
                scalars += [(f"{fn}[{i + 1}].{k}", _figure((name, fn, i, k), v)) for k, v in row.items()]
        elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            notes += [f"{fn} {k}: {v}" for k, v in value.items()]
        elif isinstance(value, dict) and all(k.isdigit() for k in value):
            for size, sub in value.items():
                for key, gas in sub.items() if isinstance(sub, dict) else [("", sub)]:
                    path = (name, fn, size, key) if key else (name, fn, size)
                    sized.setdefault(f"{fn}.{key}" if key else fn, {})[int(size)] = _figure(path, gas)
        else:
            raise InputError(f"{name}.{fn}", "is neither gas, gas per size nor notes")
    return scalars, sized, notes


def _figure(path: tuple, value: Any) -> Any:
    """A figure as read: a number, a verdict (true or false) or null (not measured)."""
    if value is not None and not is_number(value) and not isinstance(value, bool):
        raise InputError(dotted(path), "is not a number")
    return value


def _is_gas(function: str) -> bool:
    last = function.rsplit(".", 1)[-1]
    top = function.split(".", 1)[0].split("[", 1)[0]
    return not (function.endswith(COUNTS) or last in NOT_GAS or "ratio" in function or top in PARAMETERS)


def _section(name: str, figures: dict, setup: dict | None) -> list[dict]:
    """A feature's part of the report: its functions' gas, then its gas per slot size (with any notes)."""
    scalars, sized, notes = _flatten(name, figures)
    title = name.replace("_", " ")
    out = [_scalars(name, title, scalars, setup, [] if sized else notes)] if scalars or setup else []
    return out + ([_sized(name, title, sized, notes)] if sized else [])


def _scalars(name: str, title: str, scalars: list, setup: dict | None, notes: list[str]) -> dict:
    rows = [[cell(fn), cell(gas)] for fn, gas in scalars]
    rows += [[cell(f"setup: {k}"), cell(v)] for k, v in (setup or {}).items() if v is None or is_number(v)]
    drawn = [(fn, gas) for fn, gas in scalars if _is_gas(fn) and not isinstance(gas, bool)]
    bars = {"type": "bar", "orientation": "h", "name": "gas", "marker": {"color": "#0b5cad"}}
    bars |= {"x": [gas for _, gas in drawn], "y": [fn for fn, _ in drawn]}
    log = log_worth(bars["x"])
    layout = axes("gas (log scale)" if log else "gas", "", hovermode="closest", showlegend=False)
    layout["margin"] = {"l": 10, "r": 10, "t": 10, "b": 45}
    layout["xaxis"]["type"] = "log" if log else "linear"
    layout["yaxis"] = {"autorange": "reversed", "automargin": True}
    label = f"Bar chart: gas per function of {title}{', log scale' if log else ''}"
    return section(
        f"gas-{name}",
        f"{title}: gas per function",
        " ".join(notes),
        chart(label, [bars], layout) if drawn else None,
        table(f"{title}: gas per function", ["function", "gas"], rows),
        height=max(200, 70 + 24 * len(drawn)),
    )


def _sized(name: str, title: str, sized: dict[str, dict[int, Any]], notes: list[str]) -> dict:
    sizes = sorted({n for per in sized.values() for n in per})
    traces = [
        {"type": "bar", "name": fn, "x": [f"{n:,}" for n in sizes], "y": [per.get(n) for n in sizes]}
        for fn, per in sized.items()
        if _is_gas(fn) and not any(isinstance(g, bool) for g in per.values())
    ]
    log = log_worth([g for trace in traces for g in trace["y"]])
    layout = axes("requests in the slot", "gas (log scale)" if log else "gas", barmode="group", hovermode="closest")
    layout["yaxis"]["type"] = "log" if log else "linear"
    layout["xaxis"]["type"] = "category"
    rows = [[cell(n)] + [cell(per.get(n)) for per in sized.values()] for n in sizes]
    return section(
        f"sized-{name}",
        f"{title}: gas per slot size",
        " ".join(notes) or "A dash: not measured at that size.",
        chart(f"Grouped bar chart: gas of {title} functions per number of requests in the slot", traces, layout)
        if traces
        else None,
        table(f"{title}: gas per slot size", ["requests", *sized], rows),
    )


def _targets(targets: dict) -> dict:
    rows = []
    for key, target in targets.items():
        if not isinstance(target, dict):
            raise InputError(f"targets.{key}", "is not an object")
        measured = next((target[k] for k in MEASURED if k in target), None)
        if "max" in target:
            limit = cell(target["max"], shown=f"≤ {target['max']:,}" if is_number(target["max"]) else "—")
        elif "min" in target:
            limit = cell(target["min"], shown=f"≥ {target['min']:,}" if is_number(target["min"]) else "—")
        else:
            limit = cell(None)
        others = ", ".join(
            f"{k} {v:,}" if is_number(v) else f"{k} {v}"
            for k, v in target.items()
            if k not in (*MEASURED, "max", "min", "met")
        )
        rows.append([cell(key), cell(measured), limit, cell(target.get("met")), cell(others)])
    met = sum(bool(t.get("met")) for t in targets.values())
    return section(
        "targets",
        "Targets",
        f"{met} of {len(targets)} targets met.",
        None,
        table("Targets", ["target", "measured", "limit", "met", "details"], rows),
    )


def _before(before: dict) -> dict:
    functions = mapping(before, "functions")
    rows = []
    for fn, pair in functions.items():
        if not isinstance(pair, dict):
            raise InputError(f"before_security_fixes.functions.{fn}", "is not an object")
        b, a = pair.get("before"), pair.get("after")
        for key, v in (("before", b), ("after", a)):
            if v is not None and not is_number(v):
                raise InputError(f"before_security_fixes.functions.{fn}.{key}", "is not a number")
        change = a - b if b is not None and a is not None else None
        rows.append([cell(fn), cell(b), cell(a), cell(change, shown=f"{change:+,}" if change is not None else "—")])
    commit = before.get("commit", "?")
    return section(
        "before",
        "What issue 14's security fixes cost",
        f"Gas before the fixes (commit {commit}) and after; a dash: the function did not exist before.",
        None,
        table("Gas before and after the security fixes", ["function", "before", "after", "change"], rows),
    )
