"""The pieces a result page is made of, as plain data for the templates and for experiments.js: sections, each
with an optional chart (plotly traces and layout, drawn by the browser) and a table holding the same numbers
(each numeric cell keeps its exact value beside the text shown)."""

from __future__ import annotations

from typing import Any

from gridchain.dashboard.outputs.fields import is_number

# AA contrast on white; a policy keeps its colour on every chart
COLORS = {
    "uncontrolled": "#b00020",
    "greedy": "#0b5cad",
    "fcfs": "#b35900",
    "optimal": "#00737a",
    "edf": "#1b6e20",
    "llf": "#6b6b00",
    "offline": "#4a4a4a",
    "base": "#767676",
}
PALETTE = ("#0b5cad", "#b35900", "#00737a", "#b00020", "#1b6e20", "#6a3d9a", "#6b6b00", "#4a4a4a", "#a0307a")
DASH = {"offline": "dash", "optimal": "dot", "base": "dot"}


def color(name: str, i: int) -> str:
    return COLORS.get(name, PALETTE[i % len(PALETTE)])


def cell(value: Any, digits: int | None = None, shown: str | None = None) -> dict:
    """A table cell: the text shown (`shown`, else the value formatted) and, for a number, its exact value
    (`data-value` in the page); a boolean is a verdict (met or not)."""
    if shown is not None:
        return {"text": shown, "value": value if is_number(value) else None}
    if value is None:
        return {"text": "—", "value": None}
    if isinstance(value, bool):
        return {"text": "✓ yes" if value else "✗ no", "value": None, "cls": "ok" if value else "bad"}
    if isinstance(value, int):
        return {"text": f"{value:,}", "value": value}
    if isinstance(value, float):
        return {"text": f"{value:,.{digits}f}" if digits is not None else f"{value:g}", "value": value}
    return {"text": str(value), "value": None}


def table(caption: str, head: list[str], rows: list[list[dict]]) -> dict:
    """A table: its first column names the row."""
    return {"caption": caption, "head": head, "rows": rows}


def chart(label: str, traces: list[dict], layout: dict) -> dict:
    """A chart: `label` is its aria-label (what it shows, in words)."""
    return {"label": label, "traces": traces, "layout": layout}


def section(
    key: str, title: str, text: str = "", chart: dict | None = None, table: dict | None = None, **extra
) -> dict:
    """A part of a result page; `collapsed=True` puts its table in a <details> element (long per-slot tables)."""
    return {"id": key, "title": title, "text": text, "chart": chart, "table": table, **extra}


def line(policy: str, i: int, x: list, y: list, **style) -> dict:
    """A line trace named after `policy`, in its colour and dash; `style` overrides (e.g. another name)."""
    stroke = {"color": color(policy, i), "width": 2.2 if policy == "uncontrolled" else 1.6}
    if policy in DASH:
        stroke["dash"] = DASH[policy]
    return {"name": policy, "x": x, "y": y, "type": "scatter", "mode": "lines", "line": stroke} | style


def limits(values: list[tuple[float, str, str]]) -> dict:
    """Horizontal limit lines across the plot, each labelled at its right end: (y, label, colour)."""
    shapes, notes = [], []
    for y, label, colour in values:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": y,
                "y1": y,
                "line": {"color": colour, "width": 1.2, "dash": "dash"},
            }
        )
        notes.append(
            {
                "xref": "paper",
                "x": 1,
                "y": y,
                "xanchor": "right",
                "yanchor": "bottom",
                "text": label,
                "showarrow": False,
                "font": {"size": 11, "color": colour},
            }
        )
    return {"shapes": shapes, "annotations": notes}


LEGEND = {
    "orientation": "h",
    "x": 0,
    "xanchor": "left",
    "y": 1.02,
    "yanchor": "bottom",
}  # above: clear of the axis title


def axes(x: str, y: str, **extra) -> dict:
    """A layout's axis titles and the legend above the plot, with extra layout keys."""
    layout = {"xaxis": {"title": {"text": x}}, "yaxis": {"title": {"text": y}}, "legend": dict(LEGEND)}
    layout["margin"] = {"l": 55, "r": 10, "t": 20, "b": 50}
    return layout | extra


def log_worth(values: list) -> bool:
    """A log axis when the values span more than a factor of 20 (deploy next to a call)."""
    positive = [v for v in values if v is not None and v > 0]
    return bool(positive) and max(positive) > 20 * min(positive)
