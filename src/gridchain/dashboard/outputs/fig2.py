"""`gridchain experiment fig2` (fig2_runs<R>_seed<S>_lam<...>.json, `"experiment": "fig2"`): the paper's Fig. 2,
the charging index against the request rate lambda per policy, and the share of energy delivered and of ESUs
fully served, each a mean over the runs with its 95 % half-width. The writer is
gridchain.coordination.scenarios.fig2 (`Fig2Result.summary`)."""

from __future__ import annotations

from gridchain.dashboard.outputs.fields import mapping, number, numbers
from gridchain.dashboard.outputs.views import axes, cell, chart, line, section, table
from gridchain.errors import InputError

KIND, TITLE, PREFIX = "fig2", "Fig. 2", "fig2_"
PANELS = {  # metric: (its half-width's key, title)
    "charging_index": ("ci95", "Charging index (the paper's Fig. 2)"),
    "energy_delivered": ("energy_delivered_ci95", "Share of energy delivered"),
    "fully_served": ("fully_served_ci95", "Share of ESUs fully served"),
}
LABELS = {"greedy": "greedy U/demand (paper)", "fcfs": "first come, first served", "optimal": "exact knapsack optimum"}
MARKERS = {"greedy": "circle", "fcfs": "square", "optimal": "x-thin-open"}


def recognise(doc: dict) -> bool:
    return doc.get("experiment") == "fig2"


def configuration(doc: dict) -> str:
    lambdas = numbers(doc, "lambdas")
    span = f"{lambdas[0]:g}..{lambdas[-1]:g}" if lambdas else "none"
    policies = ", ".join(mapping(doc, "policies"))
    return f"{number(doc, 'runs')} runs, seed {number(doc, 'config', 'seed')}, λ = {span}, {policies}"


def view(doc: dict) -> dict:
    """The page: facts of the setup, then one chart and table per metric."""
    lambdas = numbers(doc, "lambdas")
    policies = mapping(doc, "policies")
    if not policies:
        raise InputError("policies", "names no policy")
    metrics = [m for m in PANELS if all(m in entry for entry in policies.values() if isinstance(entry, dict))]
    if not metrics:
        raise InputError("policies", f"none of {', '.join(PANELS)} is there for every policy")
    sections = [_metric(metric, lambdas, policies) for metric in metrics]
    return {"title": f"{TITLE}: {configuration(doc)}", "facts": _facts(doc), "sections": sections}


def _facts(doc: dict) -> list[tuple[str, dict]]:
    cfg = mapping(doc, "config")
    facts = [("runs per λ", cell(number(doc, "runs"))), ("seed", cell(number(cfg, "seed")))]
    for key, label, scale, digits in (
        ("arrival_slots", "slots with arrivals", 1, None),
        ("initial_esus", "ESUs at the start", 1, None),
        ("battery_wh", "battery kWh", 1000, 0),
        ("capacity_w", "C − P_R kW", 1000, 0),
        ("mean_tcc", "mean charging deadline (slots)", 1, 1),
        ("beta1_pm", "β1 (per-mille)", 1, None),
    ):
        if key in cfg:
            value = number(cfg, key)
            facts.append((label, cell(value / scale if scale != 1 else value, digits)))
    return facts


def _series(metric: str, lambdas: list, policies: dict) -> list[tuple[str, list, list | None]]:
    """Per policy: its means and half-widths (None when the file has none), each as long as `lambdas`."""
    half, _ = PANELS[metric]
    out = []
    for name in policies:
        entry = mapping(policies, name)
        try:
            means = numbers(entry, metric, length=len(lambdas))
            halves = numbers(entry, half, length=len(lambdas)) if half in entry else None
        except InputError as e:
            raise e.within(f"policies.{name}") from None
        out.append((name, means, halves))
    return out


def _metric(metric: str, lambdas: list, policies: dict) -> dict:
    _, title = PANELS[metric]
    series = _series(metric, lambdas, policies)
    traces = []
    for i, (name, means, halves) in enumerate(series):
        trace = line(name, i, lambdas, means, name=LABELS.get(name, name), mode="lines+markers")
        trace["marker"] = {"symbol": MARKERS.get(name, "circle"), "size": 8, "color": trace["line"]["color"]}
        if halves is not None:
            trace["error_y"] = {"type": "data", "array": halves, "visible": True, "color": trace["line"]["color"]}
        traces.append(trace)
    head = ["λ"]
    for name, _, halves in series:
        head += [f"{name} mean"] + ([f"{name} ± 95 %"] if halves is not None else [])
    rows = []
    for j, lam in enumerate(lambdas):
        row = [cell(lam)]
        for _, means, halves in series:
            row += [cell(means[j], 4)] + ([cell(halves[j], 4)] if halves is not None else [])
        rows.append(row)
    bars = (
        "with 95 % intervals as error bars"
        if any(h is not None for _, _, h in series)
        else "(no intervals in the file)"
    )
    return section(
        metric,
        title,
        f"Mean over the runs per request rate λ (new charging requests per slot), {bars}.",
        chart(
            f"Line chart: {title.lower()} against lambda, one line per policy {bars}",
            traces,
            axes("new charging requests per slot (λ)", title.split(" (")[0].lower(), hovermode="closest"),
        ),
        table(title, head, rows),
    )
