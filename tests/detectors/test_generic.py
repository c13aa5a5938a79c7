"""The generic detector: self-calibrating, comparable across scales, quiet on single spikes."""

from __future__ import annotations

import numpy as np

from tests.detectors.support import every, feed, fired, make


def noisy(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, n)


def test_scores_do_not_depend_on_units_or_offset():
    x = noisy(300)
    x[250:260] += 12
    a, _ = feed(make("generic", "generic"), every(10, 300), {"value": 20 + x})
    b, _ = feed(make("generic", "generic"), every(10, 300), {"value": 1000 * (20 + x)})
    assert np.allclose(a, b, atol=1e-3)
    assert a[250:260].min() > 0.6 > a[100:240].max()


def test_a_single_spike_scores_high_but_does_not_fire():
    x = noisy(200)
    x[150] = 40
    s, tr = feed(make("generic", "generic"), every(10, 200), {"value": x})
    assert s[150] > 0.9 and not fired(tr)


def test_a_lasting_shift_fires_and_the_baseline_is_not_dragged_by_outliers():
    x = np.r_[noisy(200), noisy(30, 1) + 15]
    pipe = make("generic", "generic")
    _, tr = feed(pipe, every(10, len(x)), {"value": x})
    hit = fired(tr, "generic.value")
    assert hit and "far above its usual" in hit[0].reason
    assert abs(float(pipe.detectors[0].state.loc[0])) < 8
