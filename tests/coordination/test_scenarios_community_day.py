from gridchain.coordination.model import Status
from gridchain.coordination.scenarios import community_day


def test_day_is_deterministic_and_congested():
    day = community_day.build(0)
    assert day == community_day.build(0)
    assert day.esus == 65
    assert day.capacities[18] == community_day.TRANSFORMER_W - community_day.BASE_LOAD_W[18]
    result = community_day.run(day, "greedy")
    assert len(result.outcomes) == day.esus
    # the evening peak binds: a slot uses all its capacity while requests are deferred
    assert any(s.unused_w == 0 and any(a.status is Status.DEFERRED for a in s.allocations) for s in result.schedules)
