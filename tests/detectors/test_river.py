"""River gauge: warn before the crossing, levels per gauge, stuck sensors, spikes."""

from __future__ import annotations

import numpy as np

from core.severity import Severity
from tests.detectors.support import every, feed, fired, make

GAUGE = {"warning_level": 4.5, "guarantee_level": 6.0}


def rise(start: float, m_per_h: float, hours: float, step_s: float = 300) -> np.ndarray:
    rng = np.random.default_rng(0)
    n = int(hours * 3600 / step_s)
    flat = start + rng.normal(0, 0.005, 36)
    return np.r_[flat, start + m_per_h * np.arange(1, n + 1) * step_s / 3600 + rng.normal(0, 0.005, n)]


def test_steady_rise_warns_well_before_the_warning_level_and_levels_escalate():
    x = rise(3.0, 0.5, 7)
    ts = every(300, len(x))
    _, tr = feed(make("river_gauge", "level", params=GAUGE), ts, {"level": x})
    crossing = ts[np.argmax(x >= 4.5)]
    projected = fired(tr, "river_gauge.projected")
    assert projected and (crossing - projected[0].at_ms) / 60_000 >= 10
    assert "projected to reach the warning level 4.50 m" in projected[0].reason
    sev = [t.severity for t in fired(tr, "river_gauge.level")]
    assert sev[:2] == [int(Severity.ORANGE), int(Severity.RED)]


def test_a_single_spike_above_guarantee_is_not_red():
    x = np.r_[np.full(60, 3.0), 7.0, np.full(30, 3.0)] + np.random.default_rng(1).normal(0, 0.004, 91)
    _, tr = feed(make("river_gauge", "level", params=GAUGE), every(300, len(x)), {"level": x})
    assert not fired(tr)


def test_gauge_without_levels_still_reports_a_fast_rise():
    x = rise(3.0, 0.6, 3)
    _, tr = feed(make("river_gauge", "level"), every(300, len(x)), {"level": x})
    assert [t.rule for t in fired(tr)] == ["river_gauge.rise_rate"]


def test_stuck_gauge_after_six_hours():
    x = np.r_[2.0 + np.random.default_rng(2).normal(0, 0.003, 12), np.full(80, 2.013)]
    ts = every(300, len(x))
    _, tr = feed(make("river_gauge", "stuck"), ts, {"level": x})
    hits = fired(tr, "river_gauge.stuck")
    assert len(hits) == 1 and hits[0].severity == int(Severity.BLUE)
    assert (hits[0].at_ms - ts[12]) / 3_600_000 >= 6
