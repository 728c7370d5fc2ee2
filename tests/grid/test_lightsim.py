"""The power flow on lightsim2grid's solver equals pandapower's (issue 22, item 7): bus voltages within 1e-6 p.u.,
line and transformer loading within 1e-4 %, the same non-convergence, and the default experiment's JSON."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridchain.errors import InputError
from gridchain.grid.model.network import SOLVERS, day_steps, resolve_solver, simbench_feeder, two_bus_feeder
from gridchain.grid.scenarios.day import ev_buses, schedule_day
from gridchain.grid.scenarios.experiment import DEFAULT_GRID, GridConfig, peak_day, run
from gridchain.grid.scenarios.scenario import build_scenario, penetration_evs

pytest.importorskip("lightsim2grid")
from pandapower import LoadflowNotConverged  # noqa: E402

VM_TOL_PU = 1e-6
LOADING_TOL_PCT = 1e-4
POWER_TOL_W = 0.25  # 1e-4 % of the 250 kVA transformer (each solver stops at 1e-8 MVA of mismatch per bus)


def assert_flows_equal(a, b) -> None:
    assert abs(a.min_vm_pu - b.min_vm_pu) <= VM_TOL_PU, (a, b)
    assert abs(a.trafo_loading_pct - b.trafo_loading_pct) <= LOADING_TOL_PCT, (a, b)
    assert abs(a.max_line_loading_pct - b.max_line_loading_pct) <= LOADING_TOL_PCT, (a, b)
    assert abs(a.p_trafo_w - b.p_trafo_w) <= POWER_TOL_W, (a, b)
    assert abs(a.q_trafo_var - b.q_trafo_var) <= POWER_TOL_W, (a, b)


def outcome(feeder, step, ev_w=None):
    """The Flow, or "not converged" as both solvers report it (pandapower's LoadflowNotConverged)."""
    try:
        return feeder.flow(step, ev_w)
    except LoadflowNotConverged:
        return "not converged"


def assert_same_outcome(a, b) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b, (a, b)
    else:
        assert_flows_equal(a, b)


# --- choosing the solver -------------------------------------------------------------------------------------


def test_auto_is_lightsim2grid_when_installed_and_each_is_selectable():
    assert SOLVERS == ("auto", "lightsim2grid", "pandapower")
    assert resolve_solver("auto") == "lightsim2grid"
    assert two_bus_feeder(400e3, np.zeros(1)).solver == "lightsim2grid"
    assert two_bus_feeder(400e3, np.zeros(1), solver="pandapower").solver == "pandapower"
    with pytest.raises(InputError, match="solver: 'numba' is not one of auto, lightsim2grid, pandapower"):
        two_bus_feeder(400e3, np.zeros(1), solver="numba")


def test_a_net_lightsim2grid_cannot_reproduce_is_refused_when_asked_for_and_auto_falls_back():
    feeders = {s: two_bus_feeder(400e3, np.array([100e3, 200e3]), solver=s) for s in SOLVERS}
    for f in feeders.values():
        f.net.load.loc[0, "const_z_percent"] = 50.0  # a voltage-dependent load: not in the bus injections
    with pytest.raises(InputError, match="solver: lightsim2grid cannot reproduce .* voltage-dependent loads"):
        feeders["lightsim2grid"].flow(0)
    auto, pandapower = feeders["auto"], feeders["pandapower"]
    assert auto.solver == "lightsim2grid"
    assert auto.flow(0) == pandapower.flow(0) and auto.solver == "pandapower"
    assert auto.flow(1) == pandapower.flow(1)


def test_auto_is_pandapower_without_lightsim2grid(monkeypatch):
    from gridchain.grid.model import lightsim

    monkeypatch.setattr(lightsim, "available", lambda: False)
    assert two_bus_feeder(400e3, np.zeros(1)).solver == "pandapower"
    with pytest.raises(InputError, match="solver: lightsim2grid is not installed"):
        two_bus_feeder(400e3, np.zeros(1), solver="lightsim2grid")


# --- a known case and non-convergence ----------------------------------------------------------------------


def test_two_bus_feeder_is_the_same_on_both_solvers_across_slots():
    p = np.array([0.0, 200e3, 350e3, -150e3, 1e3, 380e3])  # includes zero load and reverse flow
    q = np.array([0.0, 50e3, -30e3, 0.0, 0.0, 120e3])
    a, b = (two_bus_feeder(400e3, p, q, solver=s) for s in ("pandapower", "lightsim2grid"))
    for f in (a, b):
        f.attach_ev_buses((f.household_bus(0),))
    for k in range(len(p)):
        ev = np.array([11e3 * k])
        assert_flows_equal(a.flow(k, ev), b.flow(k, ev))


def test_non_convergence_is_reported_the_same_way_and_the_next_slot_recovers():
    p = np.array([200e3, 5e6, 50e6, 100e3])  # 12.5 and 125 times the rating: no solution
    a, b = (two_bus_feeder(400e3, p, solver=s) for s in ("pandapower", "lightsim2grid"))
    assert_flows_equal(a.flow(0), b.flow(0))
    for k in (1, 2):
        for f in (a, b):
            with pytest.raises(LoadflowNotConverged, match="did not converge after 50 iterations"):
                f.flow(k)
    assert_flows_equal(a.flow(3), b.flow(3))


# --- the default experiment's feeder -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_day():
    """The default experiment's feeder on both solvers with its EV buses, its peak day's steps and the
    uncontrolled EV power per bus in each slot."""
    feeders = {s: simbench_feeder(DEFAULT_GRID, s) for s in ("pandapower", "lightsim2grid")}
    f = feeders["pandapower"]
    households = len(f.household_loads)
    steps = day_steps(peak_day(f), 1)
    full = build_scenario(households, penetration_evs(households, 250), 1, 0)
    scenario = full.first(200)
    for feeder in feeders.values():
        feeder.attach_ev_buses(ev_buses(full, feeder))
    buses = f.ev_buses
    at = np.array([buses.index(f.household_bus(s.household)) for s in scenario.sessions])
    grants = schedule_day(scenario, np.zeros(len(steps), dtype=np.int64), "uncontrolled")
    ev = np.array([np.bincount(at, weights=g, minlength=len(buses)) for g in grants])
    return feeders, steps, ev


@pytest.mark.slow
def test_default_feeder_sample_of_slots_is_the_same_on_both_solvers(default_day):
    feeders, steps, ev = default_day
    a, b = feeders["pandapower"], feeders["lightsim2grid"]
    for t in range(0, len(steps), 5):  # 20 slots of the peak day, base load alone and with uncontrolled EVs
        assert_flows_equal(a.flow(steps[t]), b.flow(steps[t]))
        assert_flows_equal(a.flow(steps[t], ev[t]), b.flow(steps[t], ev[t]))
    for k in (0, 8_000, 17_000, 25_000, 35_135):  # other seasons: PV noon and winter evening
        assert_flows_equal(a.flow(k), b.flow(k))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    step=st.integers(0, 35_135),
    load_scale=st.one_of(st.just(0.0), st.floats(0.0, 4.0)),
    pv_scale=st.one_of(st.just(0.0), st.floats(0.0, 1.0), st.floats(1.0, 40.0)),  # up to heavy reverse flow
    ev_kw=st.one_of(st.just(0.0), st.floats(0.0, 22.0)),
    ev_share=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_drawn_load_and_pv_scalings_are_the_same_on_both_solvers(
    default_day, step, load_scale, pv_scale, ev_kw, ev_share, seed
):
    feeders, _, _ = default_day
    n_ev = len(feeders["pandapower"].ev_buses)
    rng = np.random.default_rng(seed)
    ev = np.where(rng.random(n_ev) < ev_share, ev_kw * 1e3, 0.0)
    results = []
    for name in ("pandapower", "lightsim2grid"):
        f = feeders[name]
        saved = f.base_p_w, f.base_q_var, f.sgen_p_w
        try:
            f.base_p_w = saved[0][step : step + 1] * load_scale
            f.base_q_var = saved[1][step : step + 1] * load_scale
            f.sgen_p_w = saved[2][step : step + 1] * pv_scale
            results.append(outcome(f, 0, ev))
        finally:
            f.base_p_w, f.base_q_var, f.sgen_p_w = saved
    assert_same_outcome(*results)


# --- the default experiment's JSON -------------------------------------------------------------------------


def assert_json_close(a, b, path="") -> None:
    """Equal, but numbers under a key naming a voltage within 1e-6 and a loading within 1e-4."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), path
        for key in a:
            assert_json_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_json_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        tol = VM_TOL_PU if "vm_pu" in path else LOADING_TOL_PCT if "loading" in path else 0.0
        assert math.isclose(a, b, rel_tol=0.0, abs_tol=tol), (path, a, b)
    else:
        assert a == b, (path, a, b)


@pytest.mark.slow
def test_default_experiment_json_is_the_same_on_both_solvers():
    """`gridchain experiment grid` with its defaults (1-LV-rural2, 200 EVs, every policy, the sweep)."""
    summaries = {s: run(GridConfig(), solver=s).summary() for s in ("pandapower", "lightsim2grid")}
    for s in summaries.values():
        s.pop("seconds")
    assert_json_close(summaries["pandapower"], summaries["lightsim2grid"])
