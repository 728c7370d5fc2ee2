"""EV charging detection on hand-built series: one device on a flat base, bad inputs, the meter's flag."""

import math

import numpy as np
import pytest

from gridchain.errors import InputError
from gridchain.metering.nilm.model.classification import (
    ForestModel,
    RuleModel,
    classify_sessions,
    detect_ev_sessions,
    unexplained_ev_sessions,
)
from gridchain.metering.nilm.model.detection import FEATURES, DetectedSession, candidate_sessions

MIN = 60
DAY = 1440


def base(n: int = DAY, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A quiet household: 300 W with a fridge-like 150 W cycle and meter noise; reactive power at PF 0.9."""
    rng = np.random.default_rng(seed)
    p = 300.0 + 150.0 * ((np.arange(n) // 20) % 2) + rng.normal(0, 10, n)
    return p, 0.48 * p + rng.normal(0, 10, n)


def add(p: np.ndarray, q: np.ndarray, start: int, power_w: np.ndarray | float, tan_phi: float, n: int = 0) -> None:
    """Add a device's per-minute power from sample `start` on."""
    w = np.full(n, float(power_w)) if np.isscalar(power_w) else np.asarray(power_w, dtype=float)
    p[start : start + len(w)] += w
    q[start : start + len(w)] += w * tan_phi


def ev_profile(plateau_w: float, cc_min: int, tau_min: float = 0.0, end_frac: float = 0.1) -> np.ndarray:
    """A charging session per minute: a constant-current plateau, then an exponential taper if tau_min > 0."""
    cc = np.full(cc_min, plateau_w)
    if tau_min <= 0:
        return cc
    taper = plateau_w * np.exp(-np.arange(int(tau_min * math.log(1 / end_frac))) / tau_min)
    return np.concatenate((cc, taper))


TAN_EV = -math.tan(math.acos(0.99))  # a charger's slightly leading power factor


def test_clean_7kw_session_has_the_right_start_end_and_energy():
    p, q = base()
    add(p, q, 480, 7400.0, TAN_EV, n=180)  # 08:00 .. 11:00
    sessions = detect_ev_sessions(p, q, MIN)
    assert len(sessions) == 1
    s = sessions[0]
    assert (s.start, s.end, s.label) == (480, 660, "ev")
    assert s.energy_wh == pytest.approx(7400 * 3, rel=0.02)
    assert s.power_w == pytest.approx(7400, rel=0.02)
    assert s.power_factor == pytest.approx(0.99, abs=0.005) and s.q_ratio < 0
    assert s.duration_s == 180 * MIN and s.end_kind == "step"


def test_a_tapering_3kw_session_ends_where_the_taper_fades():
    p, q = base(seed=1)
    prof = ev_profile(3600.0, 120, tau_min=20)
    add(p, q, 1100, prof, -TAN_EV)
    [s] = detect_ev_sessions(p, q, MIN)
    assert s.start == 1100 and abs(s.end - (1100 + len(prof))) <= 25
    assert s.energy_wh == pytest.approx(prof.sum() / 60, rel=0.05)
    assert s.taper_fraction > 0.1


def test_a_session_that_starts_mid_minute_spreads_over_two_samples():
    p, q = base(seed=2)
    add(p, q, 600, np.concatenate(([11000 * 0.4], np.full(200, 11000.0), [11000 * 0.7])), TAN_EV)
    [s] = detect_ev_sessions(p, q, MIN)
    assert (s.start, s.end) == (600, 802)
    assert s.energy_wh == pytest.approx(11000 * (200 + 1.1) / 60, rel=0.02)


def oven(p: np.ndarray, q: np.ndarray, start: int) -> None:
    """2.5 kW: 12 minutes of preheating, then thermostat cycles of 2 minutes on, 3 off, for an hour."""
    cycle = np.concatenate((np.full(2, 2500.0), np.zeros(3)))
    add(p, q, start, np.concatenate((np.full(12, 2500.0), np.tile(cycle, 10))), 0.0)


def heat_pump(p: np.ndarray, q: np.ndarray, start: int) -> None:
    """3.2 kW compressor at PF 0.87: a 2-minute soft start, power rising 8 % per cycle, 30 on / 20 off."""
    cycle = np.concatenate(([1200.0, 2600.0], np.linspace(2900.0, 3200.0, 28), np.zeros(20)))
    add(p, q, start, np.tile(cycle, 8), math.tan(math.acos(0.87)))


@pytest.mark.parametrize(
    "device",
    [
        pytest.param(lambda p, q: add(p, q, 700, 2800.0, 0.0, n=3), id="kettle"),
        pytest.param(lambda p, q: oven(p, q, 1050), id="oven"),
        pytest.param(lambda p, q: add(p, q, 400, 3600.0, 0.0, n=60), id="water heater"),
        pytest.param(lambda p, q: heat_pump(p, q, 200), id="heat pump"),
    ],
)
def test_other_large_loads_alone_are_not_called_ev(device):
    p, q = base(seed=3)
    device(p, q)
    labelled = classify_sessions(p, q, MIN)
    assert labelled, "the device's steps make candidates"
    assert detect_ev_sessions(p, q, MIN) == []
    assert all(s.label != "ev" for s in labelled)


def test_an_ev_among_the_confusers_is_found_once():
    p, q = base(seed=4)
    add(p, q, 700, 2800.0, 0.0, n=3)
    oven(p, q, 1050)
    heat_pump(p, q, 200)
    add(p, q, 400, 3600.0, 0.0, n=60)
    add(p, q, 1140, 11000.0, TAN_EV, n=150)
    [s] = detect_ev_sessions(p, q, MIN)
    assert abs(s.start - 1140) <= 1 and abs(s.end - 1290) <= 1
    assert s.energy_wh == pytest.approx(11000 * 2.5, rel=0.05)


def test_15_minute_input_works():
    p, q = base(seed=5)
    add(p, q, 480, 7400.0, TAN_EV, n=180)
    p15, q15 = p.reshape(-1, 15).mean(axis=1), q.reshape(-1, 15).mean(axis=1)
    [s] = detect_ev_sessions(p15, q15, 900)
    assert (s.start, s.end) == (32, 44)
    assert s.energy_wh == pytest.approx(7400 * 3, rel=0.05)
    assert s.duration_s == 12 * 900


def test_a_quiet_household_has_no_candidates():
    p, q = base(seed=6)
    assert candidate_sessions(p, q, MIN) == []
    assert detect_ev_sessions([], [], MIN) == [] and detect_ev_sessions([1.0], [0.0], MIN) == []


@pytest.mark.parametrize(
    "p, q, step, field, reason",
    [
        ([1.0, 2.0], [1.0], 60, "q_var", "has 1 samples, p_w has 2"),
        ([1.0, float("nan"), 3.0], [0.0, 0.0, 0.0], 60, "p_w[1]", "nan is not finite"),
        ([1.0, 2.0], [0.0, float("inf")], 60, "q_var[1]", "inf is not finite"),
        ([[1.0, 2.0]], [[0.0, 0.0]], 60, "p_w", "must be one-dimensional"),
        (["a"], [0.0], 60, "p_w", "is not a sequence of numbers"),
        ([1.0], [0.0], 0, "step_s", "0 must be a finite number > 0"),
        ([1.0], [0.0], -60, "step_s", "-60 must be a finite number > 0"),
        ([1.0], [0.0], float("nan"), "step_s", "nan must be a finite number > 0"),
        ([1.0], [0.0], "60", "step_s", "'60' is not a number"),
        ([1.0], [0.0], True, "step_s", "True is not a number"),
    ],
)
def test_bad_input_raises_naming_the_field(p, q, step, field, reason):
    with pytest.raises(ValueError) as info:
        detect_ev_sessions(p, q, step)
    assert isinstance(info.value, InputError)
    assert info.value.field == field and reason in info.value.reason


def ev_session(start: int, end: int, label: str = "ev") -> DetectedSession:
    return DetectedSession(start=start, end=end, power_w=7400.0, energy_wh=7400.0 * (end - start) / 60, label=label)


T0 = 1_767_225_600  # 2026-01-01 00:00 UTC


def test_unexplained_sessions_are_the_ones_no_signed_session_overlaps():
    detected = [ev_session(480, 660), ev_session(1200, 1290), ev_session(100, 130, label="water_heater")]
    signed = [(T0 + 470 * 60, T0 + 650 * 60)]  # the first one was paid for
    assert unexplained_ev_sessions(detected, signed, MIN, start_time=T0) == [detected[1]]
    assert unexplained_ev_sessions(detected, [], MIN, start_time=T0) == detected[:2]
    assert unexplained_ev_sessions(detected, signed + [(T0 + 1250 * 60, T0 + 1300 * 60)], MIN, start_time=T0) == []


def test_the_tolerance_widens_signed_sessions():
    detected = [ev_session(480, 660)]
    signed = [(T0 + 660 * 60 + 600, T0 + 700 * 60)]  # starts 10 minutes after the detected one ends
    assert unexplained_ev_sessions(detected, signed, MIN, start_time=T0, tolerance_s=900) == []
    assert unexplained_ev_sessions(detected, signed, MIN, start_time=T0, tolerance_s=300) == detected


def test_unexplained_sessions_at_15_minutes():
    detected = [ev_session(32, 44)]
    assert unexplained_ev_sessions(detected, [(T0 + 8 * 3600, T0 + 11 * 3600)], 900, start_time=T0) == []
    assert unexplained_ev_sessions(detected, [(T0, T0 + 3600)], 900, start_time=T0) == detected
    signed = np.array([[T0 + 8 * 3600, T0 + 11 * 3600]])  # numpy numbers work too
    assert unexplained_ev_sessions(detected, signed, np.int64(900), start_time=np.int64(T0)) == []


@pytest.mark.parametrize(
    "signed, kwargs, field",
    [
        ([(10.0, 5.0)], {}, "signed[0]"),
        ([(0.0, 1.0), (1.0,)], {}, "signed[1]"),
        ([(0.0, float("nan"))], {}, "signed[0]"),
        ([], {"tolerance_s": -1}, "tolerance_s"),
        ([], {"start_time": float("inf")}, "start_time"),
        ([], {"step_s": 0}, "step_s"),
    ],
)
def test_unexplained_bad_input_names_the_field(signed, kwargs, field):
    step = kwargs.pop("step_s", MIN)
    with pytest.raises(InputError) as info:
        unexplained_ev_sessions([ev_session(0, 10)], signed, step, **kwargs)
    assert info.value.field == field


def test_features_follow_the_feature_names():
    s = ev_session(0, 60)
    assert s.features().shape == (len(FEATURES),)
    assert s.with_label("other").label == "other" and s.label == "ev"


def test_a_forest_learns_the_clean_session_and_rejects_the_heater():
    train = []
    for seed in range(4):
        p, q = base(seed=10 + seed)
        add(p, q, 300 + 40 * seed, 7400.0 - 300 * seed, TAN_EV, n=150)
        add(p, q, 900 + 30 * seed, 3000.0 + 300 * seed, 0.0, n=50)
        heat_pump(p, q, 1000)
        cands = candidate_sessions(p, q, MIN)
        train += [(c, "ev" if c.power_w > 6000 else "other") for c in cands]
    model = ForestModel([c for c, _ in train], [lab for _, lab in train], seed=0, n_estimators=30)
    p, q = base(seed=20)
    add(p, q, 500, 7000.0, TAN_EV, n=120)
    add(p, q, 1000, 3300.0, 0.0, n=45)
    [s] = detect_ev_sessions(p, q, MIN, model)
    assert (s.start, s.end) == (500, 620)
    assert model.ev_probability([s])[0] >= model.ev_threshold
    with pytest.raises(InputError, match="labels"):
        ForestModel([s], [], seed=0)
    with pytest.raises(InputError, match="ev_threshold"):
        ForestModel([s], ["ev"], ev_threshold=0.0)


def test_the_rule_model_explains_its_labels():
    r = RuleModel()
    heater = DetectedSession(0, 60, 3600.0, 3600.0, "candidate", step_w=3600.0, duration_s=3600.0)
    ev = DetectedSession(
        0, 60, 3600.0, 3600.0, "candidate", step_w=3600.0, duration_s=3600.0, q_ratio=-0.14, q_ratio_plateau=-0.14
    )
    pump = DetectedSession(
        0, 30, 2500.0, 1250.0, "candidate", step_w=2500.0, duration_s=1800.0, q_ratio=0.55, q_ratio_plateau=0.55
    )
    assert r.predict([heater, ev, pump]) == ["water_heater", "ev", "heat_pump"]
