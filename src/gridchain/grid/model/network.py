"""Distribution feeders for the grid experiment: a pandapower net, its base load per 15-minute step, and one
AC power flow per slot with the EVs' charging added at their households' buses.

A feeder is one MV/LV transformer and the LV network behind it. Its base load P_R (households, trade,
rooftop PV) comes from SimBench's own profiles for that grid (year 2016, 35,136 quarter hours). The
community capacity the utility posts for a slot is the transformer's rating minus that base load (the
charging-coordination paper's C - P_R): here the active power the transformer can still carry at the base
load's reactive power, measured on its HV side in a base-case power flow (so it includes the feeder's
losses), times a reserve factor for the EV load's own losses and voltage drop:

    capacity_w(t) = floor(reserve * sqrt(S_n^2 - Q_R(t)^2) - P_R(t)),  at least 0.

The power flow runs on lightsim2grid's Newton-Raphson over pandapower's own model of the net (lightsim.py: the
same results within 1e-8 MVA of mismatch, ~100x faster per slot) when lightsim2grid is installed, else on
pandapower's runpp; `solver` chooses (SOLVERS).

Units: W, var, VA; loading in % of the rating; voltage in p.u.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from gridchain.errors import InputError

STEPS_PER_DAY = 96
SIMBENCH_DAYS = 366  # SimBench's profiles cover 2016, a leap year
SIMBENCH_LV_GRIDS = (
    "1-LV-rural1--0-sw",
    "1-LV-rural2--0-sw",
    "1-LV-rural3--0-sw",
    "1-LV-semiurb4--0-sw",
    "1-LV-semiurb5--0-sw",
    "1-LV-urban6--0-sw",
)
DEFAULT_RESERVE = 0.95
SOLVERS = ("auto", "lightsim2grid", "pandapower")
"""auto: lightsim2grid when it can be imported, else pandapower."""


def resolve_solver(solver: str) -> str:
    """The solver that runs for `solver` (one of SOLVERS): lightsim2grid or pandapower; InputError otherwise."""
    from gridchain.grid.model import lightsim

    if solver not in SOLVERS:
        raise InputError("solver", f"{solver!r} is not one of {', '.join(SOLVERS)}")
    if solver == "auto":
        return "lightsim2grid" if lightsim.available() else "pandapower"
    if solver == "lightsim2grid" and not lightsim.available():
        raise InputError("solver", "lightsim2grid is not installed")
    return solver


@dataclass(frozen=True, slots=True)
class Flow:
    """One power flow's result: transformer loading [%], highest line loading [%], lowest bus voltage [p.u.]
    and the transformer's HV-side active and reactive power [W, var]."""

    trafo_loading_pct: float
    max_line_loading_pct: float
    min_vm_pu: float
    p_trafo_w: float
    q_trafo_var: float


@dataclass
class Feeder:
    """A pandapower net with one transformer, its base profiles and the loads that are households.

    base_p_w[k, j], base_q_var[k, j]: load j's power in profile step k; sgen_p_w[k, j]: generator j's
    (PV) feed-in; household_loads: indices (positions in net.load) of the household loads, where EVs live;
    solver: the power flow's (SOLVERS), resolved when the feeder is made; "auto" turns to pandapower at the
    first flow if lightsim.py refuses the net.
    """

    name: str
    net: object
    base_p_w: np.ndarray
    base_q_var: np.ndarray
    sgen_p_w: np.ndarray
    household_loads: tuple[int, ...]
    solver: str = "auto"

    def __post_init__(self) -> None:
        if len(self.net.trafo) != 1:
            raise InputError("grid", f"{self.name!r} has {len(self.net.trafo)} transformers; one is needed")
        self._auto = self.solver == "auto"  # lightsim2grid if it reproduces this net, else pandapower
        self.solver = resolve_solver(self.solver)
        self._n_base = len(self.net.load)
        self._ev_buses: tuple[int, ...] = ()
        self._lightsim = None  # lightsim.LightsimFlow, built at the first flow after the element set changes

    @property
    def sn_va(self) -> float:
        return float(self.net.trafo.sn_mva.iloc[0]) * 1e6

    @property
    def steps(self) -> int:
        return len(self.base_p_w)

    def household_bus(self, household: int) -> int:
        return int(self.net.load.bus.iloc[self.household_loads[household]])

    @property
    def ev_buses(self) -> tuple[int, ...]:
        """The buses with an EV load, in the order `flow` takes their powers."""
        return self._ev_buses

    def attach_ev_buses(self, buses: tuple[int, ...]) -> None:
        """Add one EV load (unity power factor) per bus in `buses`; `flow` then takes their powers in order."""
        import pandapower as pp

        self.net.load.drop(self.net.load.index[self._n_base :], inplace=True)
        for bus in buses:
            pp.create_load(self.net, bus, p_mw=0.0, q_mvar=0.0, name=f"EV@{bus}")
        self._ev_buses = tuple(buses)
        self.net.pop("_ppc", None)  # the element set changed: no warm start from old results
        self._lightsim = None

    def flow(self, step: int, ev_w: np.ndarray | None = None) -> Flow:
        """AC power flow (Newton-Raphson) at profile step `step` with `ev_w[i]` W at the i-th attached bus."""
        net = self.net
        n_ev = len(self._ev_buses)
        ev = np.zeros(n_ev) if ev_w is None else np.asarray(ev_w, dtype=float)
        if ev.shape != (n_ev,):
            raise InputError("ev_w", f"{ev.shape[0] if ev.ndim else 0} values for {n_ev} EV buses")
        load_p_w = np.concatenate((self.base_p_w[step], ev))
        load_q_var = np.concatenate((self.base_q_var[step], np.zeros(n_ev)))
        sgen_p_w = self.sgen_p_w[step]
        if self.solver == "lightsim2grid" and self._lightsim is not None:
            return Flow(*self._lightsim.solve(load_p_w, load_q_var, sgen_p_w))
        import pandapower as pp

        net.load["p_mw"] = load_p_w / 1e6
        net.load["q_mvar"] = load_q_var / 1e6
        if len(net.sgen):
            net.sgen["p_mw"] = sgen_p_w / 1e6
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pp.runpp(net, numba=False, init="results" if "_ppc" in net and net._ppc is not None else "auto")
            except pp.LoadflowNotConverged:
                # not from a flat start: it ignores the transformer's phase shift (150 degrees in SimBench's
                # Dyn5) and fails on any load, so one failed slot failed every later one ("results" then starts
                # from the failed iterate); a DC start, as "auto" gives the first flow, recovers
                pp.runpp(net, numba=False, init="dc", max_iteration=50)
        if self.solver == "lightsim2grid":
            # pandapower's model of this net, built once; this slot again on lightsim2grid (from pandapower's
            # voltages: zero or one iteration) so that every slot's numbers come from one solver
            from gridchain.grid.model.lightsim import LightsimFlow

            try:
                self._lightsim = LightsimFlow(net)
            except InputError:
                if not self._auto:
                    raise
                self.solver = "pandapower"  # a net lightsim.py does not reproduce: pandapower's, as asked
            else:
                return Flow(*self._lightsim.solve(load_p_w, load_q_var, sgen_p_w))
        return Flow(
            float(net.res_trafo.loading_percent.iloc[0]),
            float(net.res_line.loading_percent.max()) if len(net.line) else 0.0,
            float(net.res_bus.vm_pu.min()),
            float(net.res_trafo.p_hv_mw.iloc[0]) * 1e6,
            float(net.res_trafo.q_hv_mvar.iloc[0]) * 1e6,
        )

    def capacities(self, steps: range, reserve: float = DEFAULT_RESERVE, progress=None) -> tuple[np.ndarray, list]:
        """C - P_R [W] per step of `steps` (see the module doc), and the base-case flows it came from."""
        if not 0 < reserve <= 1:
            raise InputError("reserve", f"{reserve} is outside (0, 1]")
        caps, flows = [], []
        zeros = np.zeros(len(self._ev_buses))
        for k in steps:
            f = self.flow(k, zeros)
            head = reserve * math.sqrt(max(self.sn_va**2 - f.q_trafo_var**2, 0.0)) - f.p_trafo_w
            caps.append(max(0, math.floor(head)))
            flows.append(f)
            if progress is not None:
                progress()
        return np.array(caps, dtype=np.int64), flows


def day_steps(start_day: int, days: int) -> range:
    """Profile steps of `days` simulated days from noon of day-of-year `start_day` (0 = 1 January 2016)."""
    if not 0 <= start_day <= SIMBENCH_DAYS - days - 1:
        raise InputError("start_day", f"{start_day} is outside 0..{SIMBENCH_DAYS - days - 1} for {days} days")
    first = start_day * STEPS_PER_DAY + STEPS_PER_DAY // 2
    return range(first, first + days * STEPS_PER_DAY)


@functools.cache
def _simbench(code: str):
    import simbench as sb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = sb.get_simbench_net(code)
        profiles = sb.get_absolute_values(net, profiles_instead_of_study_cases=True)
    return net, profiles


def simbench_feeder(code: str, solver: str = "auto") -> Feeder:
    """A SimBench LV grid (see SIMBENCH_LV_GRIDS) with its own load and PV profiles; households are its H0
    loads; `solver` for its power flows (SOLVERS). The grid is read from the simbench wheel (a few seconds the
    first time in a process)."""
    import copy

    if code not in SIMBENCH_LV_GRIDS:
        raise InputError("grid", f"{code!r} is not one of {', '.join(SIMBENCH_LV_GRIDS)}")
    net, profiles = _simbench(code)
    net = copy.deepcopy(net)
    households = tuple(i for i, p in enumerate(net.load.profile) if str(p).startswith("H0"))
    sgen = profiles[("sgen", "p_mw")].values * 1e6 if len(net.sgen) else np.zeros((SIMBENCH_DAYS * 96, 0))
    return Feeder(
        code,
        net,
        profiles[("load", "p_mw")].values * 1e6,
        profiles[("load", "q_mvar")].values * 1e6,
        sgen,
        households,
        solver,
    )


def two_bus_feeder(
    sn_va: float, base_p_w: np.ndarray, base_q_var: np.ndarray | None = None, solver: str = "auto"
) -> Feeder:
    """A hand-made feeder: a 20 kV external grid, one 20/0.4 kV transformer of rating `sn_va` and one LV bus
    with one household load (base_p_w per step) and nothing else: a case with a known loading."""
    import pandapower as pp

    net = pp.create_empty_network()
    hv = pp.create_bus(net, 20.0, name="MV")
    lv = pp.create_bus(net, 0.4, name="LV")
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net,
        hv,
        lv,
        sn_mva=sn_va / 1e6,
        vn_hv_kv=20.0,
        vn_lv_kv=0.4,
        vk_percent=4.0,
        vkr_percent=1.0,
        pfe_kw=0.0,
        i0_percent=0.0,
    )
    pp.create_load(net, lv, p_mw=0.0, name="household")
    p = np.asarray(base_p_w, dtype=float).reshape(-1, 1)
    q = np.zeros_like(p) if base_q_var is None else np.asarray(base_q_var, dtype=float).reshape(-1, 1)
    return Feeder("two-bus", net, p, q, np.zeros((len(p), 0)), (0,), solver)
