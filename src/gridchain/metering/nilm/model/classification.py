"""Classification: a label for each candidate of detection ("ev" or another class), and the meter's flag.

A classifier (Model) labels each candidate "ev" or another class. The default is RuleModel
(RuleModel.for_step), a transparent rule set whose thresholds were tuned on generated tuning households;
ForestModel is a random forest trained on labelled candidates of tuning households
(gridchain.metering.nilm.scenarios); it is the better of the two (docs/nilm.md) and is passed in as `model`.
Overlapping EV runs keep one (one charger charges one car at a time). unexplained_ev_sessions flags the
detected EV sessions that no signed charging session explains.

Pure computation (numpy; scikit-learn only inside ForestModel): no I/O, no clocks, no global state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gridchain.errors import InputError
from gridchain.metering.nilm.model.detection import DetectedSession, candidate_sessions, check_step_s, is_number

COARSE_MIN_DURATION_S = 90 * 60
COARSE_MIN_TAPER = 0.3
"""RuleModel.for_step above 5 minutes: a blurred plateau must last 90 minutes and taper 30 % of its run."""
FOREST_EV_THRESHOLD = 0.3
"""ForestModel calls a candidate EV from this probability on (4-fold cross-validation on tuning households)."""
LABELS = ("ev", "water_heater", "heat_pump", "oven", "kettle", "other")


class Model(Protocol):
    """A classifier of candidates: one label per session."""

    def predict(self, sessions: Sequence[DetectedSession]) -> list[str]: ...


# --- classifiers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleModel:
    """The default classifier: a transparent rule set, thresholds tuned on generated tuning households.

    A candidate is EV charging if all of these hold:
    - it is large: plateau and step of at least min_power_w (the smallest charger is 3.7 kW);
    - it is clean: the plateau is level_min..level_max times the step, the aggregate stays up under it
      (floor_ratio >= min_floor: a continuous load, not a cycling one), and it lasts min_duration_s;
    - its power factor is near one: |q_ratio| and |q_ratio_plateau| at most max_abs_q (a compressor has
      0.5..0.6), the same at the step up and down (|q_on_off| <= max_q_on_off);
    - it is not a resistive heater: a resistive plateau has no reactive power and a sharp end, so an EV needs
      |q_ratio| >= min_abs_q_ratio, or a taper (taper_fraction >= min_taper), or a power or a duration that no
      storage water heater reaches (resistive_max_w, resistive_max_s).
    A clean step of sure_step_w or more with a plateau of 80 % of that or more is EV charging whatever its
    power factor (no other household device in the model draws that much alone; the power factor of a large
    step is often blurred by other devices).
    Other candidates get a coarse label (kettle, heat pump, water heater, other).
    """

    min_power_w: float = 3000.0
    level_min: float = 0.5
    level_max: float = 1.25
    min_floor: float = 0.6
    min_duration_s: float = 30 * 60
    max_abs_q: float = 0.3
    max_q_on_off: float = 0.6
    min_abs_q_ratio: float = 0.04
    min_taper: float = 0.1
    resistive_max_w: float = 4700.0
    resistive_max_s: float = 150 * 60
    sure_step_w: float = 6000.0

    @classmethod
    def for_step(cls, step_s: float) -> RuleModel:
        """The rule set tuned for a sample period: above 5 minutes a blurred plateau must last longer and
        taper more (tuned at 15 minutes on tuning households)."""
        if step_s <= 300:
            return cls()
        return cls(min_duration_s=COARSE_MIN_DURATION_S, min_taper=COARSE_MIN_TAPER)

    def label(self, s: DetectedSession) -> str:
        if s.duration_s <= 6 * 60:
            return "kettle"
        if s.q_ratio > self.max_abs_q and s.q_ratio_plateau > self.max_abs_q:
            return "heat_pump"
        large = s.power_w >= self.min_power_w and s.step_w >= self.min_power_w
        clean = (
            self.level_min <= s.power_w / max(s.step_w, 1.0) <= self.level_max
            and s.floor_ratio >= self.min_floor
            and s.duration_s >= self.min_duration_s
        )
        unity = (
            abs(s.q_ratio) <= self.max_abs_q
            and abs(s.q_ratio_plateau) <= self.max_abs_q
            and abs(s.q_on_off) <= self.max_q_on_off
        )
        if s.step_w >= self.sure_step_w and s.power_w >= 0.8 * self.sure_step_w and clean:
            return "ev"  # no other household device steps this much: the power factor is not needed
        if not (large and clean and unity):
            return "other"
        not_resistive = (
            abs(s.q_ratio) >= self.min_abs_q_ratio
            or s.taper_fraction >= self.min_taper
            or s.power_w >= self.resistive_max_w
            or s.duration_s >= self.resistive_max_s
        )
        return "ev" if not_resistive else "water_heater"

    def predict(self, sessions: Sequence[DetectedSession]) -> list[str]:
        return [self.label(s) for s in sessions]


class ForestModel:
    """A random forest over FEATURES (scikit-learn), trained on labelled candidates; seeded.

    A candidate is "ev" when the forest's probability of "ev" is at least ev_threshold, else the most
    probable other class.
    """

    def __init__(
        self,
        sessions: Sequence[DetectedSession],
        labels: Sequence[str],
        seed: int = 0,
        n_estimators: int = 200,
        ev_threshold: float = FOREST_EV_THRESHOLD,
    ) -> None:
        from sklearn.ensemble import RandomForestClassifier

        if len(sessions) != len(labels) or not sessions:
            raise InputError("labels", f"{len(labels)} labels for {len(sessions)} sessions (need >= 1, equal)")
        if not 0.0 < ev_threshold <= 1.0:
            raise InputError("ev_threshold", f"{ev_threshold} is outside (0, 1]")
        self.ev_threshold = ev_threshold
        # EV candidates are a few percent of all: each tree reweights its bootstrap sample to balance classes
        self.forest = RandomForestClassifier(
            n_estimators=n_estimators, class_weight="balanced_subsample", random_state=seed, n_jobs=1
        )
        self.forest.fit(np.stack([s.features() for s in sessions]), np.asarray(labels))

    def ev_probability(self, sessions: Sequence[DetectedSession]) -> np.ndarray:
        """The forest's probability that each session is EV charging."""
        if not sessions or "ev" not in self.forest.classes_:
            return np.zeros(len(sessions))
        proba = self.forest.predict_proba(np.stack([s.features() for s in sessions]))
        return proba[:, list(self.forest.classes_).index("ev")]

    def predict(self, sessions: Sequence[DetectedSession]) -> list[str]:
        if not sessions:
            return []
        proba = self.forest.predict_proba(np.stack([s.features() for s in sessions]))
        classes = list(self.forest.classes_)
        out = []
        for row in proba:
            if "ev" in classes and row[classes.index("ev")] >= self.ev_threshold:
                out.append("ev")
            else:
                order = np.argsort(-row)
                out.append(next(classes[k] for k in order if classes[k] != "ev"))
        return [str(x) for x in out]


# --- the public pipeline --------------------------------------------------------------------------------


def classify_sessions(p_w: object, q_var: object, step_s: object, model: Model | None = None) -> list[DetectedSession]:
    """Every large-load run, labelled by `model` (default: RuleModel.for_step(step_s)). Of EV runs that overlap only the
    most probable (if the model says, e.g. ForestModel.ev_probability) or the largest step is kept."""
    cands = candidate_sessions(p_w, q_var, step_s)
    model = model or RuleModel.for_step(check_step_s(step_s))
    labelled = [c.with_label(lab) for c, lab in zip(cands, model.predict(cands))]
    score = model.ev_probability(cands) if hasattr(model, "ev_probability") else None
    return _suppress_overlaps(labelled, score)


def detect_ev_sessions(p_w: object, q_var: object, step_s: object, model: Model | None = None) -> list[DetectedSession]:
    """EV charging sessions in the aggregate active power p_w [W] and reactive power q_var [var].

    Samples are step_s seconds apart; sessions come in start order, their start/end are sample indices
    (end exclusive). Raises InputError (a ValueError) naming the field on bad input.
    """
    return [s for s in classify_sessions(p_w, q_var, step_s, model) if s.label == "ev"]


def _suppress_overlaps(sessions: list[DetectedSession], score: Sequence[float] | None = None) -> list[DetectedSession]:
    """Of EV sessions that overlap, keep the one with the best score (default: the largest step): one charger
    charges one car at a time."""
    scores = list(score) if score is not None else [s.step_w for s in sessions]
    ranked = sorted(
        (k for k, s in enumerate(sessions) if s.label == "ev"),
        key=lambda k: (-scores[k], -sessions[k].step_w, sessions[k].start),
    )
    evs = [sessions[k] for k in ranked]
    kept: list[DetectedSession] = []
    for s in evs:
        if all(s.end <= k.start or s.start >= k.end for k in kept):
            kept.append(s)
    rest = [s for s in sessions if s.label != "ev"]
    return sorted(kept + rest, key=lambda s: (s.start, s.end))


def unexplained_ev_sessions(
    detected: Sequence[DetectedSession],
    signed: Sequence[tuple[float, float]],
    step_s: float,
    start_time: float = 0.0,
    tolerance_s: float = 900.0,
) -> list[DetectedSession]:
    """Detected EV sessions that no signed charging session explains.

    Sample i is at start_time + i x step_s [unix s]; a detected session covers
    [start_time + start x step_s, start_time + end x step_s). A signed session (start_unix_s, end_unix_s)
    explains it if the two overlap once the signed one is widened by tolerance_s [s] on both sides (clocks
    and sample boundaries). The smart meter flags the rest: an EV charging at a host without paying.
    """
    step = check_step_s(step_s)
    if not is_number(start_time) or not math.isfinite(start_time):
        raise InputError("start_time", f"{start_time!r} is not a finite number")
    if not is_number(tolerance_s) or not (math.isfinite(tolerance_s) and tolerance_s >= 0):
        raise InputError("tolerance_s", f"{tolerance_s!r} must be a finite number >= 0")
    windows = []
    for k, pair in enumerate(signed):
        try:
            a, b = (float(x) for x in pair)
        except (TypeError, ValueError):
            raise InputError(f"signed[{k}]", f"{pair!r} is not a (start_unix_s, end_unix_s) pair") from None
        if not (math.isfinite(a) and math.isfinite(b)) or b < a:
            raise InputError(f"signed[{k}]", f"{pair!r} must be finite with start <= end")
        windows.append((a - tolerance_s, b + tolerance_s))
    out = []
    for s in detected:
        if s.label != "ev":
            continue
        t0 = start_time + s.start * step
        t1 = start_time + s.end * step
        if not any(a < t1 and t0 < b for a, b in windows):
            out.append(s)
    return out
