"""Gas limits of the coordinator's close calls from a measured table, so that a keeper sends them without
estimating each (and can send a paged close's calls all at once: their estimates would need the earlier ones
mined).

Each bound is base + per_request * len(requests), above the dearest receipt measured with the worst cases side
by side: on the embedded chain (Prague; the Venom build), pages where every request is granted, every one is
denied and carried, or every one expires (a close in one call logs each), an account's first paged close (its
paging words written from zero), pages of 1, 64 and 1,024 requests; on anvil (Osaka, --enable-tx-gas-limit,
benchmarks/bench_close.py), a 10,000-request slot of the gas report's distributions. Prague and Osaka charge
these calls alike. The measured maxima, and the margin each bound leaves at 1,024 requests:

| call | measured: 1 request / 64 / 1,024 | bound at 1,024 |
|---|---:|---:|
| begin_close | 277,713 (any n) | 350,000 (+26 %) |
| close_sorted_page | 203,530 / 280,447 / 1,434,648 (mostly denied) | 1,786,000 (+24 %) |
| close_pending_page | 70,860 / 102,597 / 603,633 | 816,800 (+35 %) |
| close_pages, both lists | 252,924 / 357,658 / 1,928,906 (denied) | 3,167,200 (+64 %) |
| close_pages, the sorted list alone | 217,415 / 289,244 / 1,347,915 (denied) | 1,733,600 (+29 %) |
| close_pages, the pending list alone | 95,166 / 128,071 / 640,648 | 1,733,600 (+171 %) |
| finish_close | 89,879 (any n) | 150,000 (+67 %) |
| close_slot | 78,814 / 258,288 / 3,031,698 (all expire) | 3,806,400 (+26 %) |

close_pages counts the requests of both its lists, and its bound holds for either list alone (the sorted list is
the dearer). The close_sorted_page and close_pending_page rows were measured while a sorted page still checked
its values' fields (87 gas a request more), so they still bound those calls. tests/coordination/test_close_gas.py
closes worst-case slots with these limits on the embedded chain, which holds a call to its limit as a node does:
a table too low fails it.
"""

from __future__ import annotations

CLOSE_GAS: dict[str, tuple[int, int]] = {  # function -> (base, per request) [gas]
    "begin_close": (350_000, 0),
    "close_sorted_page": (250_000, 1_500),
    "close_pending_page": (100_000, 700),
    "close_pages": (300_000, 1_400),  # per request of its two lists together
    "finish_close": (150_000, 0),
    "close_slot": (120_000, 3_600),
}


def close_gas(fn: str, requests: int) -> int:
    """The gas limit of a close call `fn` listing `requests` requests (0 for begin_close and finish_close)."""
    if fn not in CLOSE_GAS:
        raise ValueError(f"fn: no gas bound for {fn!r} (one of {', '.join(CLOSE_GAS)})")
    if requests < 0:
        raise ValueError(f"requests: must be at least 0, got {requests}")
    base, per_request = CLOSE_GAS[fn]
    return base + per_request * requests
