"""Smoke detector: fire is red fast; cooking is not; CO follows the EN 50291 alarm times."""

from __future__ import annotations

import numpy as np
import pytest

from core.severity import Severity
from tests.detectors.support import every, feed, fired, first_fire_s, make

RED, ORANGE = int(Severity.RED), int(Severity.ORANGE)


def quiet(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"smoke": np.abs(rng.normal(0.3, 0.1, n)), "temperature": 22 + rng.normal(0, 0.2, n), "co": np.full(n, 1.0)}


def test_smoke_with_rising_heat_is_red_within_a_minute():
    before, after = quiet(60), 18
    k = np.arange(after)
    cols = {"smoke": np.r_[before["smoke"], np.minimum(2 + 4 * k, 40)],
            "temperature": np.r_[before["temperature"], 22 + 3 * k],  # 18 °C/min
            "co": np.r_[before["co"], 5 + 10 * k]}
    ts = every(10, 60 + after)
    _, tr = feed(make("smoke", "fire"), ts, cols)
    latency = first_fire_s(tr, "smoke.fire", int(ts[60]), RED)
    assert latency is not None and latency <= 60
    assert fired(tr, "smoke.fire", RED)[0].reason.startswith("fire: smoke")


def test_cooking_blip_is_at_most_yellow():
    cols = quiet(120)
    cols["smoke"][60:66] = [4, 9, 12, 11, 7, 3]  # a minute of frying smoke
    cols["temperature"][60:66] += [0.5, 1, 1.5, 1.5, 1, 0.5]
    _, tr = feed(make("smoke", "fire"), every(10, 120), cols)
    assert not fired(tr, min_sev=ORANGE)


def test_a_single_smoke_or_heat_spike_never_fires():
    cols = quiet(60)
    cols["smoke"][30], cols["temperature"][40] = 60.0, 95.0
    _, tr = feed(make("smoke", "fire"), every(10, 60), cols)
    assert not fired(tr)


@pytest.mark.parametrize(("ppm", "earliest_min", "latest_min"), [(50, 60, 90), (100, 10, 40), (300, 0, 3)])
def test_co_alarm_times_follow_en_50291(ppm, earliest_min, latest_min):
    n = 6 * 100
    cols = {"smoke": np.zeros(n), "temperature": np.full(n, 21.0), "co": np.full(n, float(ppm))}
    ts = every(10, n)
    _, tr = feed(make("smoke", "fire"), ts, cols)
    latency = first_fire_s(tr, "smoke.co", int(ts[0]))
    assert latency is not None and earliest_min * 60 <= latency <= latest_min * 60
    assert not fired(tr, "smoke.fire")
