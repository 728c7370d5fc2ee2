"""A feeder's per-slot AC power flow on lightsim2grid's Newton-Raphson (C++, KLU), on pandapower's own model.

pandapower spends ~8 ms per call in Python around a solve that takes ~0.05 ms. Here pandapower runs once per
feeder to build its internal model (the admittance matrices Ybus, Yf, Yt, its bus and branch numbering); each
slot then only scatters the loads' and generators' powers into the bus injections, runs lightsim2grid's
Newton-Raphson from the previous slot's voltages, and computes the branch flows, currents and loadings with
pandapower's own formulas (results_branch.py in pandapower 3.1.2):

    i [kA] = |S| / (sqrt(3) |V| V_base)  at each end of a branch (S = V conj(Y V) in MVA)
    line loading [%] = 100 max(i_from, i_to) / (max_i_ka df parallel)
    trafo loading [%] = 100 max(i_hv vn_hv_kv, i_lv vn_lv_kv) sqrt(3) / sn_mva / parallel / df

so the results are pandapower's within the solver's tolerance (1e-8 MVA mismatch, as pandapower's). A slot that
does not converge is tried again with 50 iterations from the voltages of the flow the model was built on (a
start that has the transformer's phase shift, as the DC start `Feeder.flow` gives pandapower then), and then
raises pandapower's LoadflowNotConverged; the next slot starts from the last converged voltages.

A net this does not reproduce exactly (voltage-dependent loads, generators other than PQ sgens, elements out of
service, current-based loading off) is refused with InputError("solver", ...) when the model is built (a
Feeder with solver "auto" then stays on pandapower).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gridchain.errors import InputError

SQRT3 = math.sqrt(3.0)
TOLERANCE_MVA = 1e-8  # pandapower's default
MAX_ITERATION = 10  # pandapower's default for Newton-Raphson ("auto")
RETRY_MAX_ITERATION = 50  # Feeder.flow's retry


def available() -> bool:
    """True when lightsim2grid (and its compiled solver) can be imported."""
    try:
        from lightsim2grid.lightsim2grid_cpp import NRSing_SparseLU  # noqa: F401
    except ImportError:
        return False
    return True


def _solver():
    from lightsim2grid import lightsim2grid_cpp as cpp

    return cpp.NRSing_KLU() if hasattr(cpp, "NRSing_KLU") else cpp.NRSing_SparseLU()


def _refuse(reason: str):
    raise InputError("solver", f"lightsim2grid cannot reproduce this net's pandapower flow: {reason}")


def _check_supported(net) -> None:
    if len(net.gen) or len(net.ward) or len(net.xward) or len(net.trafo3w) or len(net.impedance):
        _refuse("it has gens, wards, 3-winding transformers or impedances")
    if len(net.ext_grid) != 1:
        _refuse(f"{len(net.ext_grid)} external grids; one is needed")
    for table in ("bus", "line", "trafo", "load", "sgen", "ext_grid"):
        if len(net[table]) and not net[table].in_service.all():
            _refuse(f"an element of net.{table} is out of service")
    if len(net.switch) and not net.switch.closed.all():
        _refuse("a switch is open")
    for col in ("const_z_percent", "const_i_percent", "const_z_p_percent", "const_i_p_percent"):
        if col in net.load and np.any(net.load[col].fillna(0.0).to_numpy() != 0):
            _refuse(f"voltage-dependent loads ({col})")


class LightsimFlow:
    """The model of one pandapower net with fixed elements (built after one pandapower power flow on it); each
    `solve` takes the loads' p and q and the sgens' p [W, var] in the order of net.load and net.sgen."""

    def __init__(self, net) -> None:
        from pandapower.pypower.idx_brch import F_BUS, T_BUS
        from pandapower.pypower.idx_bus import BASE_KV

        _check_supported(net)
        options = net._options
        if options.get("trafo_loading", "current") != "current":
            _refuse("transformer loading is not current-based")
        ppc = net._ppc
        internal = ppc["internal"]
        if internal["branch"].shape[0] != ppc["branch"].shape[0] or not np.all(internal["branch_is"]):
            _refuse("a branch is out of service or disconnected")
        lookup = net._pd2ppc_lookups["bus"]
        branches = net._pd2ppc_lookups["branch"]
        self.base_mva = float(internal["baseMVA"])
        self.ybus = internal["Ybus"].tocsc()
        self.yf = internal["Yf"].tocsr()
        self.yt = internal["Yt"].tocsr()
        n = self.ybus.shape[0]
        self.n = n
        self.ref = np.asarray(internal["ref"], dtype=np.int32)
        self.pv = np.asarray(internal["pv"], dtype=np.int32)
        self.pq = np.asarray(internal["pq"], dtype=np.int32)
        if len(self.ref) != 1 or len(self.pv):
            _refuse("more than one slack bus, or voltage-controlled buses")
        self.slack_weights = np.zeros(n)
        self.slack_weights[self.ref] = 1.0
        self.load_bus = lookup[net.load.bus.to_numpy()].astype(np.int64)
        self.sgen_bus = lookup[net.sgen.bus.to_numpy()].astype(np.int64)
        self.load_scaling = net.load.scaling.to_numpy(dtype=float)
        self.sgen_scaling = net.sgen.scaling.to_numpy(dtype=float) if len(net.sgen) else np.zeros(0)
        self.sgen_q_mvar = net.sgen.q_mvar.to_numpy(dtype=float) * self.sgen_scaling if len(net.sgen) else np.zeros(0)
        self.vm_buses = lookup[net.bus.index.to_numpy()].astype(np.int64)
        if np.any(self.vm_buses < 0) or np.any(self.load_bus < 0) or np.any(self.sgen_bus < 0):
            _refuse("a bus is not in pandapower's internal model")
        f_bus = internal["branch"][:, F_BUS].real.astype(np.int64)
        t_bus = internal["branch"][:, T_BUS].real.astype(np.int64)
        self.f_bus, self.t_bus = f_bus, t_bus
        base_kv = internal["bus"][:, BASE_KV].real
        self.f_kv, self.t_kv = base_kv[f_bus], base_kv[t_bus]
        self.lines = slice(*branches["line"]) if "line" in branches else slice(0, 0)
        if "trafo" not in branches or len(net.trafo) != 1:
            _refuse("one transformer is needed")
        self.trafo = branches["trafo"][0]
        # |S| / (sqrt(3) |V| V_base) = |I| base_mva / (sqrt(3) V_base) [kA], I = Y V [p.u.], both ends at once
        from scipy.sparse import vstack

        self.y_ft = vstack([self.yf, self.yt]).tocsr()
        self.n_branch = len(f_bus)
        self.ka_per_pu = np.concatenate((self.base_mva / (self.f_kv * SQRT3), self.base_mva / (self.t_kv * SQRT3)))
        line = net.line
        i_max_ka = (line.max_i_ka * line.df * line.parallel).to_numpy(dtype=float)
        self.line_inf = bool(np.any(i_max_ka == 0))  # pandapower's loading is inf there
        self.pct_per_ka = 100.0 / np.where(i_max_ka == 0, 1.0, i_max_ka)
        self.lines_to = slice(self.lines.start + self.n_branch, self.lines.stop + self.n_branch)
        trafo = net.trafo.iloc[0]
        rating = float(trafo.sn_mva) * float(trafo.parallel) * float(trafo.df)
        self.trafo_pct_per_ka = (
            float(trafo.vn_hv_kv) * SQRT3 / rating * 100.0,
            float(trafo.vn_lv_kv) * SQRT3 / rating * 100.0,
        )
        # the flow pandapower just ran is the first warm start; its injections must be ours
        self.v = np.asarray(internal["V"], dtype=complex).copy()
        self.v_start = self.v.copy()
        mine = self.sbus(
            net.load.p_mw.to_numpy(dtype=float) * 1e6,
            net.load.q_mvar.to_numpy(dtype=float) * 1e6,
            net.sgen.p_mw.to_numpy(dtype=float) * 1e6 if len(net.sgen) else np.zeros(0),
        )
        theirs = np.asarray(internal["Sbus"], dtype=complex)
        if np.abs(np.delete(mine - theirs, self.ref)).max(initial=0.0) > 1e-12:
            _refuse("its bus injections are not the loads' and sgens' powers")
        self.solver = _solver()

    def sbus(self, load_p_w: np.ndarray, load_q_var: np.ndarray, sgen_p_w: np.ndarray) -> np.ndarray:
        """Complex bus injections [p.u. of base_mva]: generation minus load, as pandapower's makeSbus."""
        n, scale = self.n, 1e-6 / self.base_mva
        p = np.bincount(self.sgen_bus, sgen_p_w * self.sgen_scaling, n) - np.bincount(
            self.load_bus, load_p_w * self.load_scaling, n
        )
        q = np.bincount(self.sgen_bus, self.sgen_q_mvar * 1e6, n) - np.bincount(
            self.load_bus, load_q_var * self.load_scaling, n
        )
        return (p + 1j * q) * scale

    def _newton(self, v0: np.ndarray, sbus: np.ndarray, max_iteration: int) -> np.ndarray | None:
        s = self.solver
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s.solve(self.ybus, v0, sbus, self.ref, self.slack_weights, self.pv, self.pq, max_iteration, TOLERANCE_MVA)
        if not s.converged():
            return None
        v = s.get_Vm() * np.exp(1j * s.get_Va())
        return v if np.all(np.isfinite(v)) else None

    def solve(self, load_p_w: np.ndarray, load_q_var: np.ndarray, sgen_p_w: np.ndarray) -> tuple[float, ...]:
        """(trafo loading [%], highest line loading [%], lowest bus voltage [p.u.], trafo HV-side P [W] and
        Q [var]), as pandapower's res_trafo, res_line and res_bus give them."""
        from pandapower import LoadflowNotConverged

        sbus = self.sbus(load_p_w, load_q_var, sgen_p_w)
        v = self._newton(self.v, sbus, MAX_ITERATION)
        if v is None:
            v = self._newton(self.v_start, sbus, RETRY_MAX_ITERATION)
            if v is None:
                raise LoadflowNotConverged(f"Power Flow nr did not converge after {RETRY_MAX_ITERATION} iterations!")
        self.v = v
        current = self.y_ft @ v  # p.u., from ends then to ends
        i_ka = np.abs(current) * self.ka_per_pu
        lines, n = self.lines, self.n_branch
        if lines.stop > lines.start:
            max_line = float(np.max(np.maximum(i_ka[lines], i_ka[self.lines_to]) * self.pct_per_ka))
            max_line = math.inf if self.line_inf else max_line
        else:
            max_line = 0.0
        k = self.trafo
        hv, lv = self.trafo_pct_per_ka
        trafo = max(i_ka[k] * hv, i_ka[n + k] * lv)
        s_hv = v[self.f_bus[k]] * np.conj(current[k]) * self.base_mva
        return (
            float(trafo),
            max_line,
            float(np.abs(v[self.vm_buses]).min()),
            float(s_hv.real) * 1e6,
            float(s_hv.imag) * 1e6,
        )
