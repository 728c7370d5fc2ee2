"""Grid experiment: scenarios, policies under charger limits, power flows (issue 7)."""

import math

import numpy as np
import pytest

from gridchain.errors import InputError
from gridchain.grid.model.network import day_steps, two_bus_feeder
from gridchain.grid.scenarios.day import (
    ALL_POLICIES,
    ONLINE,
    PolicyDay,
    run_policy,
    schedule_day,
)
from gridchain.grid.scenarios.scenario import SLOTS_PER_HOUR, build_scenario
from gridchain.grid.scenarios.sessions import BATTERY_WH, charger_powers, session_pool

CHARGERS = {3_700, 11_000, 22_000}


# --- data ------------------------------------------------------------------------------------------------


def test_session_pool_is_synpro_home_sessions():
    pool = session_pool()
    assert len(pool) == 217  # 95 e-up!, 122 Tesla stays with home charging
    assert pool.vehicle.count("vw_eup") == 95 and pool.vehicle.count("tesla") == 122
    assert np.all(pool.energy_wh > 0) and np.all(pool.stay_minutes >= 15)
    assert np.all((0 <= pool.arrival_minute) & (pool.arrival_minute < 1440))
    # the e-up! charges at 3.7 kW: no session holds more than 3.7 kW x its stay
    eup = np.array(pool.vehicle) == "vw_eup"
    assert np.all(pool.energy_wh[eup] <= 3_700 * pool.stay_minutes[eup] / 60 + 1e-6)


def test_charger_shares_follow_simbench():
    draws = charger_powers(np.random.default_rng(1), 20_000)
    assert set(draws.tolist()) == CHARGERS
    assert abs(np.mean(draws == 3_700) - 31 / 49) < 0.02
    assert abs(np.mean(draws == 22_000) - 5 / 49) < 0.01


# --- scenarios ---------------------------------------------------------------------------------------------


def test_scenario_is_deterministic_for_a_seed():
    a, b = build_scenario(30, 40, 2, seed=7), build_scenario(30, 40, 2, seed=7)
    assert a == b
    assert build_scenario(30, 40, 2, seed=8).sessions != a.sessions


def test_scenarios_are_nested_in_the_number_of_evs():
    big = build_scenario(30, 40, 1, seed=3)
    assert big.first(12) == build_scenario(30, 12, 1, seed=3)


def test_sessions_are_feasible_and_within_their_day():
    sc = build_scenario(20, 45, 3, seed=11)
    households = [s.household for s in sc.sessions if s.id.endswith(".d0")]
    assert len(set(households[:20])) == 20  # the first EVs are on distinct households, then they double up
    for s in sc.sessions:
        day = s.id.rsplit(".d", 1)[1]
        assert int(day) * 96 <= s.arrival < s.departure <= (int(day) + 1) * 96
        assert s.charger_w in CHARGERS and s.battery_wh in BATTERY_WH.values()
        assert 0 < s.energy_wh <= s.charger_w * (s.departure - s.arrival) // SLOTS_PER_HOUR
        assert s.energy_wh <= s.battery_wh


def test_bad_scenario_input_names_the_field():
    with pytest.raises(InputError, match="days: 0 is outside"):
        build_scenario(10, 5, 0, 0)
    with pytest.raises(InputError, match="evs: 6 is outside 0..5"):
        build_scenario(10, 5, 1, 0).first(6)


# --- policies under capacity and charger limits -------------------------------------------------------------


def tight_day(seed: int):
    """48 EVs on 30 households with a capacity that binds for hours (no power flow needed)."""
    sc = build_scenario(30, 48, 1, seed)
    rng = np.random.default_rng(seed)
    capacity = rng.integers(20_000, 90_000, size=sc.slots)
    return sc, capacity


@pytest.mark.parametrize("policy", ALL_POLICIES)
@pytest.mark.parametrize("seed", [0, 1])
def test_policies_respect_capacity_chargers_and_stays(policy, seed):
    sc, capacity = tight_day(seed)
    g = schedule_day(sc, capacity, policy)
    chargers = np.array([s.charger_w for s in sc.sessions])
    assert np.all(g >= -1e-6)
    assert np.all(g <= chargers + 1e-6), "a grant above the charger's power"
    for i, s in enumerate(sc.sessions):
        outside = np.r_[g[: s.arrival, i], g[s.departure :, i]]
        assert not outside.any(), f"{s.id} charged while away"
        assert g[:, i].sum() <= s.energy_ws + 1e-6, f"{s.id} got more than it asked"
    if policy == "uncontrolled":
        assert PolicyDay(policy, sc, capacity, g).metrics()["energy_delivered"] == 1.0
        assert np.any(g.sum(axis=1) > capacity), "the test's capacity should bind"
    else:
        assert np.all(g.sum(axis=1) <= capacity + 1e-6), "a slot above C - P_R"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_offline_bound_is_at_least_every_online_policy(seed):
    sc, capacity = tight_day(seed)
    bound = PolicyDay("offline", sc, capacity, schedule_day(sc, capacity, "offline")).metrics()
    for name in ONLINE[1:]:
        got = PolicyDay(name, sc, capacity, schedule_day(sc, capacity, name)).metrics()
        assert got["energy_delivered_kwh"] <= bound["energy_delivered_kwh"] + 1e-6, name


def test_capacity_length_must_match_the_scenario():
    sc = build_scenario(5, 3, 1, 0)
    with pytest.raises(InputError, match="capacity_w: 95 slots for a scenario of 96"):
        schedule_day(sc, np.zeros(95, dtype=int), "greedy")


# --- power flow --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["pandapower", "lightsim2grid"])
def test_two_bus_feeder_has_the_known_loading(solver):
    # 200 kW at unity power factor on a 400 kVA transformer: the LV current is S / (sqrt3 V), rated current
    # S_n / (sqrt3 V_n), so loading = 100 * 200 / (400 * v_lv): 50 % at nominal voltage.
    if solver == "lightsim2grid":
        pytest.importorskip("lightsim2grid")
    f = two_bus_feeder(400e3, np.array([200e3, 150e3]), solver=solver)
    flow = f.flow(0)
    v_lv = flow.min_vm_pu  # the LV bus's (the MV bus is the external grid's, at 1 p.u.)
    assert 0.98 < v_lv < 1.0
    if solver == "pandapower":
        assert v_lv == float(f.net.res_bus.vm_pu.iloc[1])
    assert flow.trafo_loading_pct == pytest.approx(100 * 200 / (400 * v_lv), rel=1e-6)
    assert flow.p_trafo_w > 200e3  # the transformer's own losses
    # an EV of 100 kW at the household's bus adds to the load
    f.attach_ev_buses((f.household_bus(0),))
    with_ev = f.flow(1, np.array([100e3]))
    v_lv = with_ev.min_vm_pu
    assert with_ev.trafo_loading_pct == pytest.approx(100 * 250 / (400 * v_lv), rel=1e-6)


def test_capacity_is_the_headroom_over_the_base_load():
    f = two_bus_feeder(400e3, np.array([200e3, 300e3]), np.array([50e3, 0.0]))
    f.attach_ev_buses((f.household_bus(0),))
    caps, flows = f.capacities(range(2), reserve=0.9)
    for c, fl in zip(caps, flows):
        assert c == math.floor(0.9 * math.sqrt(400e3**2 - fl.q_trafo_var**2) - fl.p_trafo_w)
    assert caps[0] < 400e3 * 0.9 - 200e3  # reactive power and losses take their share
    with pytest.raises(InputError, match="reserve: 1.5 is outside"):
        f.capacities(range(2), reserve=1.5)


def test_flow_refuses_a_wrong_number_of_ev_powers():
    f = two_bus_feeder(400e3, np.array([1e3]))
    with pytest.raises(InputError, match="ev_w: 2 values for 0 EV buses"):
        f.flow(0, np.array([1.0, 2.0]))


def test_day_steps_start_at_noon_and_stay_in_2016():
    assert day_steps(0, 1) == range(48, 144)
    with pytest.raises(InputError, match="start_day: 365 is outside 0..364"):
        day_steps(365, 1)


@pytest.mark.slow
def test_default_scenario_converges_and_coordination_keeps_the_transformer_within_its_rating():
    """The acceptance case: the default scenario (1-LV-rural2, 200 EVs, its peak day), every slot's power
    flow converges; uncontrolled charging overloads the transformer, every coordinated policy does not."""
    from gridchain.grid.scenarios.experiment import GridConfig, run

    cfg = GridConfig(policies=("uncontrolled", "greedy", "edf"), sweep=())
    result = run(cfg)
    assert len(result.base.flows) == 96
    for run_ in result.runs.values():
        assert len(run_.flows) == 96
        assert all(math.isfinite(f.trafo_loading_pct) and 0.8 < f.min_vm_pu < 1.1 for f in run_.flows)
    table = result.table()
    assert table["uncontrolled"]["peak_trafo_loading_pct"] > 100
    for name in ("greedy", "edf"):
        assert table[name]["peak_trafo_loading_pct"] <= 100, name
        assert table[name]["slots_over_capacity"] == 0
        assert 0.9 < table[name]["energy_delivered"] <= 1.0


def test_run_policy_needs_the_evs_buses_attached():
    f = two_bus_feeder(400e3, np.zeros(96))
    sc = build_scenario(1, 1, 1, 0)
    with pytest.raises(InputError, match="feeder: EV buses"):
        run_policy(sc, f, range(96), np.full(96, 10_000), "greedy")
