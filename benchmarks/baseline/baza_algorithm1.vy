# pragma version ~=0.4.3
"""
@title Baseline: a faithful port of Algorithm 1 of Baza et al. (charging coordination contract)
@custom:contract-name baza_algorithm1
@license MIT
@notice For gas comparison only (gridchain gas-report). It keeps the paper's design: one struct of six
        fields per ESU in storage (mapping address => ESU), a storage list of addresses, QuickSort over
        storage by descending priority (lines 25-44: Hoare partition around the middle element), then the
        greedy loop (lines 16-24) that marks x_v, P_scheduled and decreases MaxCapacity in storage.
        Departures from the pseudocode, each needed to run it at all:
        - Vyper has no recursion: QuickSort's two recursive calls become an explicit stack of ranges,
          visiting the same ranges with the same comparisons and swaps.
        - Line 14's priority ((500 * (1 - TTC)) + (500 * SoC)) / Pv contradicts Eq. 1 and underflows in
          unsigned integers; we compute Eq. 1 in per-mille, (500 (1000 - SoC) + 500 F(TTC)) * 10**6 / Pv,
          divided by Pv as line 14 does (scaled so that the integer division keeps the order).
        - Is_Authorized is a member list, as in gridchain's non-anonymous mode.
"""

MAX_ESUS: constant(uint256) = 1024
SCALE: constant(uint256) = 10**6


struct ESU:
    Pv: uint256
    TTC: uint256
    SoC: uint256
    Priority: uint256
    xv: uint256
    PScheduled: uint256


owner: public(address)
MaxCapacity: public(uint256)
ESUs: public(HashMap[address, ESU])
ESUlist: public(DynArray[address, MAX_ESUS])
members: public(HashMap[address, bool])


@deploy
def __init__(_owner: address, C: uint256, PR: uint256):
    self.owner = _owner
    self.MaxCapacity = C - PR


@external
def set_member(member: address, allowed: bool):
    assert msg.sender == self.owner, "baseline: not owner"
    self.members[member] = allowed


@internal
@view
def _is_authorized(sender: address) -> bool:
    return self.members[sender]


@external
def Recieve_Charging_Request(_Pv: uint256, _TTC: uint256, _SoC: uint256):
    assert self._is_authorized(msg.sender), "baseline: not authorized"
    assert _Pv > 0 and _TTC > 0 and _SoC < 1000, "baseline: bad request"
    self.ESUlist.append(msg.sender)
    f: uint256 = 0
    if _TTC == 1:
        f = 1000
    elif _TTC == 2:
        f = 500
    self.ESUs[msg.sender] = ESU(
        Pv=_Pv, TTC=_TTC, SoC=_SoC, Priority=(500 * (1000 - _SoC) + 500 * f) * SCALE // _Pv, xv=0, PScheduled=0
    )


@external
def Knapsack():
    n: uint256 = len(self.ESUlist)
    if n > 1:
        self._quick_sort(0, n - 1)
    for i: uint256 in range(n, bound=MAX_ESUS):
        who: address = self.ESUlist[i]
        if self.ESUs[who].Pv <= self.MaxCapacity:
            self.ESUs[who].xv = 1
            self.ESUs[who].PScheduled = self.ESUs[who].Pv
            self.MaxCapacity = self.MaxCapacity - self.ESUs[who].Pv


@internal
def _quick_sort(first: uint256, last: uint256):
    # explicit stack of (_Start, _End) ranges in place of the recursion of lines 43-44
    stack: DynArray[uint256, 2 * MAX_ESUS] = [first, last]
    for _: uint256 in range(4 * MAX_ESUS * MAX_ESUS):
        if len(stack) == 0:
            break
        lo_end: uint256 = stack.pop()
        lo_start: uint256 = stack.pop()
        start: uint256 = lo_start
        end: uint256 = lo_end
        if start == end:
            continue
        pivot: uint256 = self.ESUs[self.ESUlist[start + (end - start) // 2]].Priority
        for _j: uint256 in range(4 * MAX_ESUS):
            if start > end:
                break
            for _k: uint256 in range(MAX_ESUS):
                if self.ESUs[self.ESUlist[start]].Priority > pivot:
                    start += 1
                else:
                    break
            for _k: uint256 in range(MAX_ESUS):
                if pivot > self.ESUs[self.ESUlist[end]].Priority:
                    end -= 1
                else:
                    break
            if start <= end:
                a: address = self.ESUlist[start]
                self.ESUlist[start] = self.ESUlist[end]
                self.ESUlist[end] = a
                start += 1
                if end == 0:
                    break
                end -= 1
        if start < lo_end:
            stack.append(start)
            stack.append(lo_end)
        if lo_start < end:
            stack.append(lo_start)
            stack.append(end)
