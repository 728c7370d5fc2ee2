"""The fault schedule alone (fast, part of `make test`): drawn from the seed, inside the window, spaced for restarts."""

import pytest

from tests.faults.harness import chaos


def test_the_same_seed_draws_the_same_kills_and_another_seed_others():
    window = (1000.0, 1120.0)
    assert chaos(17, "relayer", 4, window, 12) == chaos(17, "relayer", 4, window, 12)
    assert chaos(17, "relayer", 4, window, 12) != chaos(18, "relayer", 4, window, 12)
    assert chaos(17, "relayer", 4, window, 12) != chaos(17, "keeper", 4, window, 12)


@pytest.mark.parametrize("seed", range(20))
def test_kills_fall_inside_the_window_and_leave_time_for_each_restart(seed):
    kills = chaos(seed, "node", 5, (1000.0, 1150.0), 12)
    times = [k.at for k in kills]
    assert len(kills) == 5 and {k.target for k in kills} == {"node"}
    assert 1000.0 <= times[0] and times[-1] <= 1150.0 - 12
    assert all(b - a >= 12 for a, b in zip(times, times[1:]))


def test_a_window_too_short_for_its_kills_is_refused():
    with pytest.raises(AssertionError, match="too short"):
        chaos(0, "node", 3, (0.0, 30.0), 12)
