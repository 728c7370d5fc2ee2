"""`gridchain experiment grid` (grid_<feeder>_<evs>ev_<days>d_s<seed>.json): per policy, transformer loading,
lowest bus voltage and EV power in each slot of the day, the day's summary per policy, and the sweep over EV
penetration. The writer is gridchain.grid.scenarios.experiment (`GridResult.summary`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from gridchain.dashboard.outputs.fields import at, mapping, number, numbers, text
from gridchain.dashboard.outputs.views import axes, cell, chart, limits, line, section, table
from gridchain.errors import InputError

KIND, TITLE, PREFIX = "grid", "Grid impact", "grid_"
ROWS_MAX = 1000  # per-slot tables stop here (ten and a half days); the charts have every slot
SUMMARY = (  # per policy: (metric, column, decimals)
    ("peak_trafo_loading_pct", "peak transformer %", 1),
    ("hours_above_100", "h above 100 %", 2),
    ("max_line_loading_pct", "max line %", 1),
    ("min_vm_pu", "min V p.u.", 3),
    ("energy_delivered", "energy delivered", 3),
    ("fully_served", "EVs fully served", 3),
    ("charging_index", "charging index", 3),
    ("peak_ev_kw", "peak EV kW", 1),
    ("slots_over_capacity", "slots over C − P_R", None),
)
VOLTAGE_LIMITS = [
    (1.10, "1.10 p.u. (EN 50160)", "#b00020"),
    (0.95, "0.95 p.u.", "#4a4a4a"),
    (0.90, "0.90 p.u. (EN 50160)", "#b00020"),
]


def recognise(doc: dict) -> bool:
    return isinstance(doc.get("series"), dict) and isinstance(doc.get("config"), dict) and "grid" in doc["config"]


def configuration(doc: dict) -> str:
    cfg = mapping(doc, "config")
    days = number(cfg, "days")
    return (
        f"{text(cfg, 'grid')}, {number(cfg, 'evs')} EVs, {days} day{'s' if days != 1 else ''} from "
        f"{text(doc, 'date')[:10]}, seed {number(cfg, 'seed')}, {len(mapping(doc, 'policies'))} policies"
    )


def view(doc: dict) -> dict:
    """The page: facts, the summary per policy, loading, voltage and EV power over the day, the sweep."""
    policies = list(mapping(doc, "policies"))
    if not policies:
        raise InputError("policies", "names no policy")
    times = _times(doc)
    series = _series(doc, policies, len(times))
    sections = [
        _summary(doc, policies),
        _loading(times, series, policies),
        _voltage(times, series, policies),
        _power(times, series, policies),
    ]
    if at(doc, "sweep"):
        sections.append(_sweep(doc, policies))
    return {"title": f"{TITLE}: {configuration(doc)}", "facts": _facts(doc), "sections": sections}


def _facts(doc: dict) -> list[tuple[str, dict]]:
    cfg = mapping(doc, "config")
    return [
        ("feeder", cell(text(cfg, "grid"))),
        ("day", cell(f"{text(doc, 'date').replace('T', ' ')} (day {number(doc, 'day')} of 2016)")),
        ("households", cell(number(doc, "households"))),
        ("EVs", cell(number(cfg, "evs"))),
        ("EVs per 100 households", cell(number(doc, "penetration"), 1)),
        ("charging sessions", cell(number(doc, "sessions"))),
        ("transformer kVA", cell(number(doc, "transformer_kva"), 0)),
        ("share of headroom posted as C − P_R", cell(number(cfg, "reserve"), 2)),
        ("seed", cell(number(cfg, "seed"))),
    ]


def _times(doc: dict) -> list[str]:
    minutes = number(doc, "slot_minutes")
    if minutes <= 0:
        raise InputError("slot_minutes", f"{minutes} is not positive")
    try:
        start = datetime.fromisoformat(text(doc, "date"))
    except ValueError:
        raise InputError("date", f"{doc['date']!r} is not an ISO date and time") from None
    slots = len(numbers(doc, "series", "capacity_kw"))
    return [(start + timedelta(minutes=i * minutes)).strftime("%Y-%m-%d %H:%M") for i in range(slots)]


def _series(doc: dict, policies: list[str], n: int) -> dict:
    """Every per-slot list, checked: n numbers each (max_vm_pu and line_loading_pct only if written)."""
    out = {
        "capacity_kw": numbers(doc, "series", "capacity_kw", length=n),
        "base_loading_pct": numbers(doc, "series", "base_loading_pct", length=n),
    }
    for name in policies:
        runs = mapping(doc, "series", name)
        keys = ("ev_kw", "loading_pct", "min_vm_pu", *(k for k in ("max_vm_pu", "line_loading_pct") if k in runs))
        try:
            out[name] = {key: numbers(runs, key, length=n) for key in keys}
        except InputError as e:
            raise e.within(f"series.{name}") from None
    return out


def _summary(doc: dict, policies: list[str]) -> dict:
    rows, names = [], ["base", *policies]
    for name in names:
        metrics = mapping(doc, "base") if name == "base" else mapping(doc, "policies", name)
        try:
            rows.append([cell(name)] + [cell(number(metrics, key), digits) for key, _, digits in SUMMARY])
        except InputError as e:
            raise e.within("base" if name == "base" else f"policies.{name}") from None
    peaks = [
        {"name": label, "type": "bar", "x": names, "y": [row[1 + i]["value"] for row in rows], "marker": {"color": c}}
        for i, label, c in ((0, "peak transformer loading %", "#0b5cad"), (2, "max line loading %", "#b35900"))
    ]
    layout = axes("", "loading %", barmode="group", hovermode="closest") | limits([(100, "100 %", "#b00020")])
    label = "Bar chart: peak transformer loading and maximum line loading per policy, in percent of rating"
    text_ = "The day's figures per policy; base: the feeder's household and PV load alone, without EVs."
    return section(
        "summary",
        "Per policy over the day",
        text_,
        chart(label, peaks, layout),
        table("Per policy over the day", ["policy", *(c for _, c, _ in SUMMARY)], rows),
    )


def _per_slot(caption: str, times: list[str], columns: list[tuple[str, list, int | None]]) -> dict:
    rows = [
        [cell(t)] + [cell(values[i], digits) for _, values, digits in columns] for i, t in enumerate(times[:ROWS_MAX])
    ]
    return table(caption, ["time", *(c for c, _, _ in columns)], rows)


def _more(times: list[str]) -> str:
    return (
        f" The table shows the first {ROWS_MAX} of {len(times)} slots; the chart has all."
        if len(times) > ROWS_MAX
        else ""
    )


def _loading(times: list[str], series: dict, policies: list[str]) -> dict:
    traces = [line("base", 0, times, series["base_loading_pct"], name="base load only")]
    traces += [line(name, i, times, series[name]["loading_pct"]) for i, name in enumerate(policies)]
    columns = [("base %", series["base_loading_pct"], None)]
    columns += [(f"{name} %", series[name]["loading_pct"], None) for name in policies]
    for name in policies:
        if "line_loading_pct" in series[name]:
            traces.append(
                line(name, policies.index(name), times, series[name]["line_loading_pct"], name=f"{name} (lines)")
            )
            columns.append((f"{name} lines %", series[name]["line_loading_pct"], None))
    layout = axes("time (the day starts at noon)", "transformer loading %") | limits([(100, "rated power", "#b00020")])
    return section(
        "loading",
        "Transformer loading over the day",
        "Loading of the feeder's transformer in each slot, per policy (100 %: its rated power)." + _more(times),
        chart("Line chart: transformer loading in percent per slot over the day, one line per policy", traces, layout),
        _per_slot("Transformer loading per slot [%]", times, columns),
        collapsed=True,
    )


def _voltage(times: list[str], series: dict, policies: list[str]) -> dict:
    traces, columns = [], []
    for i, name in enumerate(policies):
        traces.append(line(name, i, times, series[name]["min_vm_pu"], name=f"{name} min"))
        columns.append((f"{name} min", series[name]["min_vm_pu"], None))
        if "max_vm_pu" in series[name]:
            traces.append(line(name, i, times, series[name]["max_vm_pu"], name=f"{name} max"))
            columns.append((f"{name} max", series[name]["max_vm_pu"], None))
    has_max = any("max_vm_pu" in series[name] for name in policies)
    drawn = VOLTAGE_LIMITS if has_max else VOLTAGE_LIMITS[1:]
    layout = axes("time (the day starts at noon)", "bus voltage p.u.") | limits(drawn)
    what = "lowest and highest" if has_max else "lowest"
    return section(
        "voltage",
        "Bus voltage over the day",
        f"The {what} bus voltage of the feeder in each slot, per policy; EN 50160 allows 0.90 to 1.10 p.u., "
        "planners aim at 0.95 p.u. or more." + _more(times),
        chart(
            f"Line chart: {what} bus voltage in per unit per slot, one line per policy, limits drawn", traces, layout
        ),
        _per_slot("Bus voltage per slot [p.u.]", times, columns),
        collapsed=True,
    )


def _power(times: list[str], series: dict, policies: list[str]) -> dict:
    traces = [
        line(
            "capacity",
            0,
            times,
            series["capacity_kw"],
            name="C − P_R",
            line={"color": "#1a1a1a", "width": 2, "shape": "hv"},
        )
    ]
    traces += [line(name, i, times, series[name]["ev_kw"]) for i, name in enumerate(policies)]
    columns = [("C − P_R kW", series["capacity_kw"], None)]
    columns += [(f"{name} kW", series[name]["ev_kw"], None) for name in policies]
    return section(
        "power",
        "EV charging power against C − P_R",
        "The capacity posted for EVs in each slot (the transformer's headroom over the base load) and the EV power "
        "each policy drew." + _more(times),
        chart(
            "Line chart: EV charging power in kW per slot per policy, with the capacity C minus P_R",
            traces,
            axes("time (the day starts at noon)", "kW"),
        ),
        _per_slot("EV power per slot [kW]", times, columns),
        collapsed=True,
    )


def _sweep(doc: dict, policies: list[str]) -> dict:
    points = at(doc, "sweep")
    if not isinstance(points, list):
        raise InputError("sweep", "is not a list")
    xs, rows, shares = [], [], {name: [] for name in policies}
    for i, point in enumerate(points):
        try:
            xs.append(number(point, "penetration"))
            for name in policies:
                shares[name].append(number(point, name, "energy_delivered"))
            peak = (
                number(point, "uncontrolled_peak_loading_pct", optional=True)
                if "uncontrolled_peak_loading_pct" in point
                else None
            )
            rows.append(
                [cell(xs[-1]), cell(number(point, "evs")), cell(peak, 1)] + [cell(shares[n][-1], 3) for n in policies]
            )
        except InputError as e:
            raise e.within(f"sweep[{i}]") from None
    traces = [line(name, i, xs, shares[name], mode="lines+markers") for i, name in enumerate(policies)]
    return section(
        "sweep",
        "Energy delivered against EV penetration",
        "Scheduling alone re-run for more and more EVs on the same capacities; the uncontrolled case's peak loading "
        "shows where charging without coordination first overloads the transformer.",
        chart(
            "Line chart: share of energy delivered per policy against EVs per 100 households",
            traces,
            axes("EVs per 100 households", "share of energy delivered", hovermode="closest"),
        ),
        table(
            "Energy delivered against penetration",
            ["EVs per 100 households", "EVs", "uncontrolled peak %", *policies],
            rows,
        ),
    )
