"""Detection: the candidate EV charging sessions in a household's aggregate load, with their features.

The meter sees only the household's aggregate active power p_w [W] and reactive power q_var [var, positive
inductive], one sample every step_s seconds (60 and 900 are the cases we evaluate). An EV charging session
is a large step up (3.7 / 7.4 / 11 kW chargers), a flat constant-current plateau at near-unity power factor,
then a step down or a constant-voltage taper that fades out. Detection finds every such large-load run:

1. step events (step_events): runs of same-sign changes around a change of at least EDGE_W (a device that
   switches mid-sample spreads its step over two samples), or rises adding up to EDGE_W within RAMP_S (a
   compressor's soft start); a step's size, as P + jQ, is the difference of the median levels on each side;
2. plateau pairing (candidate_sessions): every step up of at least MIN_STEP_W opens a candidate at the level
   before it and is followed step by step. A step up meanwhile is another device (booked). A step down is
   explained, as P + jQ within OFF_TOLERANCE, by the candidate's own level (it ends), by a device booked
   since it started or one still on from before it (greedy pairing over PRE_OPEN_S), by two of these, or by
   the candidate and one of them; what nothing explains is a device on before the candidate (if it could
   be, and its reactive ratio or its speed says it is not the candidate's), or a drop of the candidate's own
   level (a taper, or a device that started in the same sample as it: the candidate is then what remains).
   A candidate also ends when its own level fades below max(FADE_MIN_W, FADE_REL x step) (a CV taper) or
   after MAX_SESSION_S;
3. features of each candidate (FEATURES, DetectedSession): plateau power and step, duration, energy, power
   factor at the steps and over the plateau, flatness, slope, taper, partial drops, whether the aggregate
   stays up under the plateau (a continuous load) or falls back between cycles (a cycling one).

Each candidate comes out labelled "candidate"; gridchain.metering.nilm.model.classification labels them.
Pure computation (numpy): no I/O, no clocks, no global state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from gridchain.errors import InputError

EDGE_W = 1000.0
"""Smallest sample-to-sample change that makes a step event [W]."""
EXT_W = 250.0
"""Smallest change that extends a step event into a neighbouring sample, or counts in a soft start [W]."""
MIN_STEP_W = 1500.0
"""Smallest step up that opens a candidate [W] (EV chargers step by >= 3.3 kW; smaller ones are confusers)."""
OFF_TOLERANCE = 0.25
"""A step down matches a level (P + jQ) if it is within this share of it (plus MATCH_SLACK_W)."""
MATCH_SLACK_W = 200.0
"""Slack added to a level when matching steps, so that small steps are not held to a few watts [W]."""
FADE_REL = 0.06
FADE_MIN_W = 250.0
"""A candidate fades out when its level falls below max(FADE_MIN_W, FADE_REL x step) [W]."""
STANDBY_W = 50.0
"""The household never draws less than this besides the candidate [W] (bounds the candidate's level)."""
MAX_SESSION_S = 18 * 3600
"""Longest candidate [s]."""
RAMP_S = 180
"""Changes that add up to EDGE_W within this time are a step event too (a compressor's soft start) [s]."""
PRE_OPEN_S = 6 * 3600
"""Steps up this long before a candidate may still be on, and may switch off during it [s]."""
PRE_MARGIN = 0.1
"""A step down goes to a device on before the candidate only if it matches it better by this margin."""
END_REST = 0.4
"""A step down that leaves less than this share of a candidate's level ends it."""
TAPER_TAU_MIN_S = 300.0
"""Shortest time constant of a CV taper [s]: a faster drop of the candidate's level is a device switching off."""
Q_TOL = 0.15
"""A step whose reactive/active ratio differs from the candidate's by more than this is another device's."""
QUIET_WINDOW_S = 3600
"""The household's quiet level before a candidate is its lowest sample in this window [s]."""
MAX_TAN_PHI = 0.75
"""Reactive over active power of the most reactive household device (power factor 0.8)."""
LEVEL_WINDOW_S = 180
"""A step's size is the difference of the median levels in windows this long on each side of it [s]."""
PRE_WINDOW_S = 180
"""Window before a step whose median is the level before it [s] (at least one sample)."""
CC_REL = 0.8
"""The plateau (constant-current phase) lasts while the level stays above this share of the step."""
FEATURES = (
    "power_w",
    "step_w",
    "duration_s",
    "energy_wh",
    "power_factor",
    "q_ratio",
    "q_ratio_plateau",
    "flatness",
    "slope",
    "off_ratio",
    "taper_fraction",
    "partial_drop",
    "level_ratio",
    "floor_ratio",
    "q_on_off",
    "q_flatness",
    "end_kind",
)
END_KINDS = {"step": 0.0, "fade": 1.0, "open": 2.0}


@dataclass(frozen=True)
class DetectedSession:
    """A large-load run found in the aggregate, with its features and label.

    start, end: sample indices [start, end) (end exclusive); power_w: plateau power [W]; energy_wh: energy
    attributed to the run [Wh]; label: "ev" or the predicted other class ("candidate" before classifying);
    step_w: the step up [W]; duration_s: (end - start) x step_s [s]; q_ratio: reactive over active power of
    its own steps up and down (signed tan phi; negative is capacitive) and power_factor the matching
    1 / sqrt(1 + q_ratio^2); q_ratio_plateau: the same over the plateau; flatness: interquartile range over
    power_w on the plateau; slope: relative change from the plateau's first to its last third; off_ratio:
    its level at the final step down over power_w (0 if it faded out); taper_fraction: share of the run after
    the plateau; partial_drop: the largest single-sample drop of its level that did not end it, over power_w;
    floor_ratio: the aggregate's 5th percentile under the plateau less the household's quiet level before,
    over power_w (about 1 for a continuous load, about 0 for a cycling one); q_on_off: q_ratio at the step
    up less at the step down; q_flatness: interquartile range of its reactive power over power_w; end_kind:
    "step", "fade" or "open" (series end or MAX_SESSION_S).
    """

    start: int
    end: int
    power_w: float
    energy_wh: float
    label: str
    step_w: float = 0.0
    duration_s: float = 0.0
    power_factor: float = 1.0
    q_ratio: float = 0.0
    q_ratio_plateau: float = 0.0
    flatness: float = 0.0
    slope: float = 0.0
    off_ratio: float = 1.0
    taper_fraction: float = 0.0
    partial_drop: float = 0.0
    floor_ratio: float = 1.0
    q_on_off: float = 0.0
    q_flatness: float = 0.0
    end_kind: str = "step"

    def features(self) -> np.ndarray:
        """The feature vector in FEATURES order."""
        return np.array(
            [
                self.power_w,
                self.step_w,
                self.duration_s,
                self.energy_wh,
                self.power_factor,
                self.q_ratio,
                self.q_ratio_plateau,
                self.flatness,
                self.slope,
                self.off_ratio,
                self.taper_fraction,
                self.partial_drop,
                self.power_w / max(self.step_w, 1.0),
                self.floor_ratio,
                self.q_on_off,
                self.q_flatness,
                END_KINDS[self.end_kind],
            ],
            dtype=float,
        )

    def with_label(self, label: str) -> DetectedSession:
        """The same session with another label."""
        return replace(self, label=label)


# --- validation ------------------------------------------------------------------------------------------


def _series(field_name: str, values: object) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(field_name, "is not a sequence of numbers") from None
    if arr.ndim != 1:
        raise InputError(field_name, f"must be one-dimensional, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InputError(f"{field_name}[{bad[0]}]", f"{arr[bad[0]]} is not finite")
    return arr


def is_number(x: object) -> bool:
    """Whether x is a real number (int, float or numpy's), not a bool."""
    return not isinstance(x, (bool, np.bool_)) and isinstance(x, (int, float, np.integer, np.floating))


def check_step_s(step_s: object) -> float:
    """The sample period as a float [s], or InputError naming step_s."""
    if not is_number(step_s):
        raise InputError("step_s", f"{step_s!r} is not a number")
    if not math.isfinite(step_s) or step_s <= 0:
        raise InputError("step_s", f"{step_s} must be a finite number > 0")
    return float(step_s)


def validate(p_w: object, q_var: object, step_s: object) -> tuple[np.ndarray, np.ndarray, float]:
    """The inputs as float arrays, or InputError (a ValueError) naming the field and value."""
    step = check_step_s(step_s)
    p = _series("p_w", p_w)
    q = _series("q_var", q_var)
    if len(p) != len(q):
        raise InputError("q_var", f"has {len(q)} samples, p_w has {len(p)}")
    return p, q, step


# --- step events and plateau pairing --------------------------------------------------------------------


@dataclass(frozen=True)
class _Edge:
    first: int  # first sample at (or on the way to) the new level
    last: int  # first sample fully at the new level
    mag: float  # median level after it less before it [W]
    dq: float  # the same for reactive power [var]
    sharpest: float  # largest single-sample change inside, same sign as mag [W]

    @property
    def z(self) -> complex:
        return complex(self.mag, self.dq)


def step_events(p: np.ndarray, q: np.ndarray, step_s: float) -> list[_Edge]:
    """Step events of a power series.

    A step is a run of same-sign changes of at least EDGE_W, widened by one sample on each side where the
    change there has the same sign and is at least EXT_W (a device that switches mid-sample spreads its
    step over two samples). A run of rises of at least EXT_W each that adds up to EDGE_W within RAMP_S is a
    step too (a compressor's soft start); a rise takes its whole run of rises. Slow falls (a charger's taper)
    are not steps, and a fall takes only one sample on each side of its large changes.
    """
    if len(p) < 2:
        return []
    d = np.diff(p)
    spans = _step_spans(p, d, _window(step_s, RAMP_S))
    k = _window(step_s, LEVEL_WINDOW_S)
    return [_sized_edge(p, q, d, spans, m, k) for m in range(len(spans))]


def _step_spans(p: np.ndarray, d: np.ndarray, max_ramp: int) -> list[tuple[int, int]]:
    """The steps as spans [lo, hi] of the changes d = diff(p), in order and disjoint (see step_events)."""
    n = len(d)
    sign = np.where(d >= EXT_W, 1, np.where(d <= -EXT_W, -1, 0))
    core = np.abs(d) >= EDGE_W
    spans: list[tuple[int, int]] = []
    j = 0
    while j < n:
        if core[j]:
            spans.append(_core_span(sign, core, j, spans[-1][1] + 1 if spans else 0))
            j = spans[-1][1] + 1
        elif sign[j] > 0:
            k = j
            while k + 1 < n and sign[k + 1] > 0 and not core[k + 1]:
                k += 1
            if k - j + 1 <= max_ramp and p[k + 1] - p[j] >= EDGE_W and not (k + 1 < n and core[k + 1]):
                spans.append((j, k))  # a soft start
            j = k + 1
        else:
            j += 1
    return spans


def _core_span(sign: np.ndarray, core: np.ndarray, j: int, free: int) -> tuple[int, int]:
    """The span of the step around the large change j: its run of large same-sign changes, widened by one
    same-sign change on each side; a rise takes its whole run of rises. It starts at `free` at the earliest
    (the first change after the previous span)."""
    n = len(sign)
    k = j
    while k + 1 < n and core[k + 1] and sign[k + 1] == sign[j]:
        k += 1
    lo = j - 1 if j - 1 >= free and sign[j - 1] == sign[j] else j
    hi = k + 1 if k + 1 < n and sign[k + 1] == sign[j] else k
    if sign[j] > 0:  # a rise takes its whole run of rises (devices that switch on in stages)
        while lo - 1 >= free and sign[lo - 1] > 0:
            lo -= 1
        while hi + 1 < n and sign[hi + 1] > 0:
            hi += 1
    return lo, hi


def _sized_edge(p: np.ndarray, q: np.ndarray, d: np.ndarray, spans: list[tuple[int, int]], m: int, k: int) -> _Edge:
    """The step of spans[m] with its size: the median level of up to k samples after it less the one before
    it, each window stopping at the neighbouring steps (one sample at least)."""
    lo, hi = spans[m]
    first, last = lo + 1, hi + 1
    a = max(first - k, spans[m - 1][1] + 1 if m else 0, 0)
    b = min(last + k, spans[m + 1][0] + 1 if m + 1 < len(spans) else len(d) + 1)
    pre_p, pre_q = (np.median(p[a:first]), np.median(q[a:first])) if a < first else (p[lo], q[lo])
    post_p, post_q = (np.median(p[last:b]), np.median(q[last:b])) if last < b else (p[last], q[last])
    total = float(post_p - pre_p)
    if total * (p[last] - p[lo]) <= 0:  # the windows disagree with the step itself: keep the step
        total, dq = float(p[last] - p[lo]), float(q[last] - q[lo])
    else:
        dq = float(post_q - pre_q)
    sharpest = float(d[lo : hi + 1].max() if total > 0 else d[lo : hi + 1].min())
    return _Edge(first, last, total, dq, sharpest)


def _pre_opens(edges: list[_Edge], step_s: float) -> list[list[complex]]:
    """For each edge, the steps up (P + jQ) of the previous PRE_OPEN_S that no later step down has matched
    yet (greedy pairing): the devices that were probably on when it happened."""
    horizon = PRE_OPEN_S / step_s
    opens: list[tuple[int, complex]] = []
    out = []
    for e in edges:
        opens = [(f, z) for f, z in opens if e.first - f <= horizon]
        out.append([z for _, z in opens])
        if e.mag > 0:
            opens.append((e.first, e.z))
            continue
        mis, k = _best(-e.z, [z for _, z in opens])
        if mis <= OFF_TOLERANCE:
            opens.pop(k)
    return out


@dataclass
class _Run:
    """A followed candidate: its own active and reactive power per sample from its start, and its end."""

    end: int
    own_w: np.ndarray
    own_var: np.ndarray
    end_kind: str
    last_w: float
    ref: complex  # the candidate's step (P + jQ), less any part that switched off on its own
    rebase: int  # samples from the start after which `ref` holds
    off: complex = 0j  # the final step down, if it ended by one
    partial_drop_w: float = 0.0  # the largest single-sample drop of the candidate's own level that did not end it


def _window(step_s: float, seconds: float) -> int:
    return max(1, int(round(seconds / step_s)))


def candidate_sessions(p_w: object, q_var: object, step_s: object) -> list[DetectedSession]:
    """Every large-load run in the aggregate, with features and label "candidate" (see the module doc)."""
    p, q, step = validate(p_w, q_var, step_s)
    edges = step_events(p, q, step)
    pre = _pre_opens(edges, step)
    k_pre = _window(step, PRE_WINDOW_S)
    k_quiet = _window(step, QUIET_WINDOW_S)
    max_len = max(2, int(MAX_SESSION_S // step))
    out = []
    for i, up in enumerate(edges):
        if up.mag < MIN_STEP_W or up.first < 1:
            continue
        base = complex(
            float(np.median(p[max(0, up.first - k_pre) : up.first])),
            float(np.median(q[max(0, up.first - k_pre) : up.first])),
        )
        z_step = complex(up.mag, up.dq) + complex(p[up.first - 1], q[up.first - 1]) - base
        if z_step.real < MIN_STEP_W:
            continue
        run = _follow(p, q, edges, i, pre[i], base, z_step, max_len, step)
        quiet_w = float(p[max(0, up.first - k_quiet) : up.first].min())
        out.append(_features(p, step, up.first, z_step, quiet_w, run))
    return out


def _mis(a: complex, b: complex) -> float:
    """Relative mismatch of two steps (P + jQ), with MATCH_SLACK_W of slack for small steps."""
    return abs(a - b) / (abs(b) + MATCH_SLACK_W)


def _best(z: complex, opens: list[complex]) -> tuple[float, int]:
    """The open step up that a step down of size z (P + jQ, positive) matches best: (mismatch, index)."""
    return min(((_mis(z, o), k) for k, o in enumerate(opens)), default=(math.inf, -1))


def _explain(
    drop: complex, own: complex, opens: list[complex], pre: list[complex]
) -> tuple[bool | None, list[tuple[str, int]]]:
    """What switched off in a step down of size `drop` (P + jQ, positive): the candidate (own level `own`), a
    device switched on since it started (`opens`) or before it (`pre`, matched only PRE_MARGIN better), or two
    of these in the same sample. Returns (the candidate ended?, the devices used as ("in" | "pre", index));
    (None, []) if nothing explains it within OFF_TOLERANCE."""
    cands: list[tuple[float, bool, list[tuple[str, int]]]] = [(_mis(drop, own), True, [])]
    devices = [("in", k, o, 0.0) for k, o in enumerate(opens)] + [("pre", k, o, PRE_MARGIN) for k, o in enumerate(pre)]
    for a, (sa, ka, oa, pa) in enumerate(devices):
        cands.append((_mis(drop, oa) + pa, False, [(sa, ka)]))
        cands.append((_mis(drop, own + oa) + pa, True, [(sa, ka)]))
        for sb, kb, ob, pb in devices[a + 1 :]:
            cands.append((_mis(drop, oa + ob) + pa + pb, False, [(sa, ka), (sb, kb)]))
    mis, ends, used = min(cands, key=lambda c: c[0])
    if mis > OFF_TOLERANCE:
        return None, []
    return ends, used


def _follow(
    p: np.ndarray,
    q: np.ndarray,
    edges: list[_Edge],
    i: int,
    pre_opens: list[complex],
    base: complex,
    z_step: complex,
    max_len: int,
    step_s: float,
) -> _Run:
    """Follow the candidate opened by edges[i] until it switches off, fades out or reaches max_len.

    Steps up meanwhile are other devices (booked). A step down (as P + jQ) is the candidate's own end if it
    removes the candidate's level (alone, or with a device switched on meanwhile in the same sample), another
    device's if it matches one switched on meanwhile or before (booked), and otherwise a partial drop of the
    candidate's own level: a taper's first minutes, or, if sharp, a device that switched on in the same sample
    as the candidate (then the candidate is what remains).
    """
    up = edges[i]
    follower = _Follower(p, q, up, pre_opens, base, z_step, step_s)
    limit = min(len(p), up.first + max_len)
    t = up.last
    j = i + 1
    while True:
        nxt = edges[j] if j < len(edges) and edges[j].first < limit else None
        faded = follower.level(t, nxt.first if nxt is not None else limit)
        if faded is not None:
            return faded
        if nxt is None:
            return follower.run(limit, "open", float(follower.recent_w[-1]))
        ended = follower.step(nxt)
        if ended is not None:
            return ended
        t = nxt.last
        j += 1


class _Follower:
    """A candidate being followed: its own level per sample so far, and the book of the other devices (steps up
    since it started, `opens`; still on from before it, `pre`; their sum `others`, P + jQ)."""

    def __init__(
        self,
        p: np.ndarray,
        q: np.ndarray,
        up: _Edge,
        pre_opens: list[complex],
        base: complex,
        z_step: complex,
        step_s: float,
    ) -> None:
        self.p, self.q, self.base = p, q, base
        self.opens: list[complex] = []  # steps up since the candidate started, not yet matched
        self.pre = list(pre_opens)
        self.others = 0j
        self.ref, self.rebase = z_step, 0
        self.partial = 0.0
        self.fade_w = max(FADE_MIN_W, FADE_REL * z_step.real)
        self.taper_max = 1.0 - math.exp(-step_s / TAPER_TAU_MIN_S)
        self.k_smooth = _window(step_s, 180)
        self.own_w: list[np.ndarray] = [p[up.first : up.last] - base.real]
        self.own_var: list[np.ndarray] = [q[up.first : up.last] - base.imag]
        self.recent_w = np.array([z_step.real])  # the candidate's latest own levels
        self.recent_var = np.array([z_step.imag])
        self.done = up.last - up.first  # samples followed

    def run(self, end: int, kind: str, last: float, off: complex = 0j) -> _Run:
        """The candidate ended at sample `end` (exclusive) this way, its own level `last` [W] then."""
        own_w, own_var = np.concatenate(self.own_w), np.concatenate(self.own_var)
        return _Run(end, own_w, own_var, kind, last, self.ref, self.rebase, off, self.partial)

    def level(self, t: int, stop: int) -> _Run | None:
        """Follow the candidate's own level over samples [t, stop), between two steps: the aggregate less the
        level before it and the devices booked since, and never more than the aggregate less a standby floor.
        Its run if it fades out there (k_smooth samples in a row below fade_w), else None."""
        seg_w = np.minimum(self.p[t:stop] - self.base.real - self.others.real, self.p[t:stop] - STANDBY_W)
        seg_var = self.q[t:stop] - self.base.imag - self.others.imag
        if not len(seg_w):
            return None
        low = np.flatnonzero(_running_max(seg_w, self.k_smooth) < self.fade_w)
        if low.size:
            cut = max(0, int(low[0]) - self.k_smooth + 1)
            self.own_w.append(seg_w[:cut])
            self.own_var.append(seg_var[:cut])
            return self.run(t + cut, "fade", float(seg_w[cut - 1]) if cut else float(self.recent_w[-1]))
        self.own_w.append(seg_w)
        self.own_var.append(seg_var)
        self.done += len(seg_w)
        self.recent_w = np.concatenate((self.recent_w, seg_w))[-self.k_smooth :]
        self.recent_var = np.concatenate((self.recent_var, seg_var))[-self.k_smooth :]
        return None

    def step(self, nxt: _Edge) -> _Run | None:
        """A step during the candidate: a step up is booked; a step down is explained (_step_down). Its run if
        the step ended it, else None (during another device's transition its own level is taken as flat)."""
        before = complex(float(np.median(self.recent_w)), float(np.median(self.recent_var)))
        fill = before
        if nxt.mag < 0:
            drop = -nxt.z
            ends, fill = self._step_down(nxt, drop, before)
            if ends:
                self.own_w.append(self.p[nxt.first : nxt.last] - self.base.real - self.others.real)
                self.own_var.append(self.q[nxt.first : nxt.last] - self.base.imag - self.others.imag)
                share = min(1.0, before.real / max(drop.real, 1.0))
                return self.run(nxt.last, "step", before.real, drop * share)
        else:
            self.opens.append(nxt.z)
            self.others += nxt.z
        self.own_w.append(np.full(nxt.last - nxt.first, max(fill.real, 0.0)))
        self.own_var.append(np.full(nxt.last - nxt.first, fill.imag))
        self.done += nxt.last - nxt.first
        return None

    def _step_down(self, nxt: _Edge, drop: complex, before: complex) -> tuple[bool, complex]:
        """Book a step down of size `drop` (P + jQ, positive) at the candidate's own level `before`: (it ended
        the candidate?, the candidate's own level during the step)."""
        fill = before
        ends, used = _explain(drop, before, self.opens, self.pre)
        if ends is None:  # nothing explains it: a device on before the candidate, or part of the candidate
            ends, fill = self._unexplained(nxt, drop, before)
        for src, k in sorted(used, key=lambda x: -x[1]):
            self.others -= (self.opens if src == "in" else self.pre).pop(k)
        return ends, fill

    def _unexplained(self, nxt: _Edge, drop: complex, before: complex) -> tuple[bool, complex]:
        """A step down that no booked device explains: (it ended the candidate?, its own level during it)."""
        rest = before - drop
        # it ended if the step removed most of its level at once (the rest is some unbooked device)
        ends = drop.real > (1 + OFF_TOLERANCE) * before.real or rest.real < END_REST * before.real
        sharp = -nxt.sharpest >= self.taper_max * before.real  # faster than any taper
        unlike = abs(drop.imag / drop.real - before.imag / max(before.real, 1.0)) > Q_TOL
        could_be_part = rest.real >= 0 and abs(rest.imag) <= MAX_TAN_PHI * max(rest.real, 1.0)
        if ends:
            return True, before
        if (sharp or unlike) and (drop.real <= self.base.real - STANDBY_W or not could_be_part):
            self.others -= drop  # a device on before the candidate, or one whose step up was missed
            return False, before
        # the candidate's own level dropped: a taper, or a device that started with it is off
        self.partial = max(self.partial, -nxt.sharpest)
        if sharp and before.real >= CC_REL * self.ref.real and rest.real >= MIN_STEP_W / 2:
            self.ref, self.rebase = rest, self.done + (nxt.last - nxt.first)
        return False, rest


def _running_max(x: np.ndarray, k: int) -> np.ndarray:
    """max(x[i-k+1 .. i]) for every i (over x[0 .. i] for the first k-1)."""
    if k <= 1:
        return x
    head = np.maximum.accumulate(x[: k - 1])
    if len(x) < k:
        return head
    from numpy.lib.stride_tricks import sliding_window_view

    return np.concatenate((head, sliding_window_view(x, k).max(axis=1)))


def _features(p: np.ndarray, step_s: float, start: int, z_step: complex, quiet_w: float, run: _Run) -> DetectedSession:
    length = max(run.end - start, 1)
    own_all = run.own_w[:length]
    rebase = min(run.rebase, length - 1)
    own = own_all[rebase:]  # after a co-started device switched off, the candidate is what remains
    ref_w = max(run.ref.real, 1.0)
    cc_idx = np.flatnonzero(own >= CC_REL * ref_w)
    cc_end = rebase + (int(cc_idx[-1]) + 1 if cc_idx.size else len(own))
    plateau = own[cc_idx] if cc_idx.size else own
    power = float(np.median(plateau)) if plateau.size else ref_w
    cap = 1.15 * max(power, ref_w)
    energy = float(np.clip(own_all, 0.0, None).clip(max=max(cap, z_step.real * 1.15)).sum()) * step_s / 3600.0
    lo, hi = np.percentile(plateau, [25, 75]) if plateau.size else (power, power)
    third = max(1, plateau.size // 3)
    slope = (float(np.median(plateau[-third:])) - float(np.median(plateau[:third]))) / max(power, 1.0)
    own_var = run.own_var[:length][rebase:]
    own_var = own_var[cc_idx] if cc_idx.size else own_var
    q_plateau = float(np.median(own_var)) / max(power, 1.0) if own_var.size else 0.0
    edges = run.ref + run.off  # the steps' own reactive over active power
    q_ratio = edges.imag / max(edges.real, 1.0)
    q_on = run.ref.imag / max(run.ref.real, 1.0)
    q_off = run.off.imag / run.off.real if run.off.real > MIN_STEP_W / 2 else q_on
    q_lo, q_hi = np.percentile(own_var, [25, 75]) if own_var.size else (0.0, 0.0)
    off_ratio = 0.0 if run.end_kind == "fade" else float(np.clip(run.last_w / max(power, 1.0), 0.0, 2.0))
    # does the aggregate itself stay up over the plateau (a continuous load), or fall back between cycles?
    # (from its first sample at the plateau to its last: a partial first or last sample is no dip)
    span = p[start + rebase + cc_idx[0] : start + cc_end] if cc_idx.size else p[start : start + 1]
    floor = float(np.percentile(span, 5)) if span.size else quiet_w
    floor_ratio = float(np.clip((floor - quiet_w) / max(power, 1.0), -1.0, 3.0))
    return DetectedSession(
        start=int(start),
        end=int(run.end),
        power_w=power,
        energy_wh=energy,
        label="candidate",
        step_w=float(z_step.real),
        duration_s=float(length * step_s),
        power_factor=float(1.0 / math.hypot(1.0, q_ratio)),
        q_ratio=q_ratio,
        q_ratio_plateau=q_plateau,
        flatness=float((hi - lo) / max(power, 1.0)),
        slope=float(slope),
        off_ratio=off_ratio,
        taper_fraction=float((length - cc_end) / length),
        partial_drop=float(run.partial_drop_w / max(power, 1.0)),
        floor_ratio=floor_ratio,
        q_on_off=float(q_on - q_off),
        q_flatness=float((q_hi - q_lo) / max(power, 1.0)),
        end_kind=run.end_kind,
    )
