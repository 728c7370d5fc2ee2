from hypothesis import strategies as st

from gridchain.coordination.model import ChargingRequest, Slot

# small demands make ties and collisions frequent; huge ones stress the float pre-sort near 2**64
demands = st.one_of(st.integers(1, 60), st.integers(1, 10**6), st.integers(2**64 - 2**12, 2**64 - 1))


@st.composite
def slots(draw, max_requests: int = 12, demand=demands) -> Slot:
    n = draw(st.integers(0, max_requests))
    requests = []
    for i in range(n):
        demand_w = draw(demand)
        requests.append(
            ChargingRequest(
                id=draw(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"])) + str(i),
                demand_w=demand_w,
                soc_pm=draw(st.one_of(st.sampled_from([0, 500, 999]), st.integers(0, 999))),
                tcc=draw(st.integers(1, 5)),
                arrival=draw(st.integers(0, 4)),
                # the paper's request (remaining = demand) or a charger-capped one (remaining = k x demand + r)
                remaining_w=draw(st.one_of(st.none(), st.integers(demand_w, 6 * demand_w))),
            )
        )
    requests = tuple(requests)
    total = sum(r.demand_w for r in requests)
    capacity = draw(st.one_of(st.just(0), st.integers(0, min(max(total, 1), 2**64 - 1)), st.integers(0, 2**64 - 1)))
    return Slot(capacity, requests, draw(st.sampled_from([0, 250, 500, 1000]) | st.integers(0, 1000)))
