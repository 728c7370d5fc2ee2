import pytest

from gridchain.coordination.scenarios import fig2
from gridchain.experiments.stats import mean_ci95


def test_scenario_is_deterministic_and_follows_the_paper():
    config = fig2.Fig2Config()
    a = fig2.scenario(config, 8, 3)
    assert a == fig2.scenario(config, 8, 3)
    assert a != fig2.scenario(config, 8, 4)
    assert a != fig2.scenario(fig2.Fig2Config(seed=1), 8, 3)
    assert len(a) == config.arrival_slots
    assert len(a[0]) >= config.initial_esus
    for batch in a:
        for e in batch:
            assert e.battery_wh == 200_000
            assert e.required_wh == e.battery_wh - e.energy_wh  # (1 - SoC) x capacity
            assert e.energy_wh % 200 == 0  # SoC drawn in per-mille
            assert e.tcc >= 1


def test_scenario_statistics():
    config = fig2.Fig2Config()
    esus = [e for r in range(40) for batch in fig2.scenario(config, 6, r) for e in batch]
    counts = [sum(len(b) for b in fig2.scenario(config, 6, r)) for r in range(40)]
    assert sum(counts) / len(counts) == pytest.approx(10 + 6 * 30, rel=0.05)
    assert sum(e.tcc for e in esus) / len(esus) == pytest.approx(4, rel=0.08)
    assert sum(e.energy_wh for e in esus) / len(esus) / 200_000 == pytest.approx(0.5, abs=0.03)


def test_parallel_and_serial_runs_agree():
    config = fig2.Fig2Config(runs=3, lambdas=(4, 14))
    ticks = []
    serial = fig2.run(config, workers=1, progress=lambda: ticks.append(1))
    assert len(ticks) == 6
    assert fig2.run(config, workers=2).summary() == serial.summary()


def test_summary_shape():
    config = fig2.Fig2Config(runs=2, lambdas=(2, 16))
    s = fig2.run(config, workers=1).summary()
    assert s["lambdas"] == [2, 16] and s["runs"] == 2
    assert set(s["policies"]) == {"greedy", "fcfs", "optimal"}
    for entry in s["policies"].values():
        for key in ("charging_index", "ci95", "energy_delivered", "fully_served"):
            assert len(entry[key]) == 2
        assert all(0.0 <= v <= 1.0 for v in entry["charging_index"])
    assert s["config"]["name"] == "fig2_runs2_seed0_lam2-16"


def test_mean_ci95():
    mean, half = mean_ci95([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302653 * 1.0 / 3**0.5, rel=1e-5)  # t(0.975, 2) = 4.3027
    assert mean_ci95([0.5]) == (0.5, 0.0)
