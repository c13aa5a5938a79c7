"""The signal models have the statistics they claim, for any window cut, for a seed."""

import numpy as np
import pytest

from core.city import load_city
from simulators.citygen import generate_city
from simulators.signals import Fleet, Storm, prepare, sample
from simulators.signals import river as river_model
from simulators.signals.noise import local_hours

MONDAY = 1_732_464_000.0  # 2024-11-25 00:00 Asia/Shanghai (a Monday, 16:00 UTC the day before)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return load_city(generate_city(tmp_path_factory.mktemp("town"), grids_per_town=10, seed=5))


def test_same_seed_same_readings_whatever_the_window(town):
    f = prepare(Fleet.of(town, "wearable", seed=3))
    whole = sample(f, MONDAY, MONDAY + 600)
    parts = [sample(f, MONDAY + a, MONDAY + min(a + 37, 600)) for a in range(0, 600, 37)]
    joined = [(int(d), int(t), float(h)) for p in parts for d, t, h in zip(p.device, p.ts, p.values["heart_rate"],
                                                                           strict=True)]
    assert sorted(joined) == sorted(zip(whole.device.tolist(), whole.ts.tolist(),
                                        whole.values["heart_rate"].tolist(), strict=True))
    other = sample(prepare(Fleet.of(town, "wearable", seed=4)), MONDAY, MONDAY + 600)
    assert not np.array_equal(other.values["heart_rate"][:50], whole.values["heart_rate"][:50])


def test_heart_rate_physiological_with_a_daily_rhythm(town):
    f = prepare(Fleet.of(town, "wearable", seed=1))
    b = sample(f, MONDAY, MONDAY + 86400)
    hr, spo2 = b.values["heart_rate"], b.values["spo2"]
    assert hr.min() >= 40 and hr.max() <= 150 and 55 <= np.median(hr) <= 95
    assert spo2.min() >= 88 and spo2.max() <= 100 and 95 <= np.median(spo2) <= 99
    h = local_hours(b.ts / 1000.0)
    night, afternoon = hr[(h >= 2) & (h < 5)].mean(), hr[(h >= 14) & (h < 18)].mean()
    assert afternoon - night > 8  # nadir before dawn, peak in the afternoon (and walks by day)
    assert np.all(b.values["fall"] == 0)


def test_reporting_intervals_dropouts_and_skew(town):
    f = prepare(Fleet.of(town, "smoke", seed=2))
    b = sample(f, MONDAY, MONDAY + 3 * 3600)
    expected = (3 * 3600 / f.p["interval"]).sum()
    assert 0.97 * expected <= len(b) < expected  # a few readings lost, never more than scheduled
    assert set(np.unique(f.p["interval"])) <= {30.0, 60.0}
    assert np.all(np.diff(b.ts) > -5000)  # ordered by true time; skew of seconds only


def test_meters_repeat_weekly_and_rest_on_sundays_and_holidays(town):
    f = prepare(Fleet.of(town, "meter", seed=3))
    week = sample(f, MONDAY, MONDAY + 14 * 86400)
    p, t = week.values["power_kw"], week.ts / 1000.0
    hour_of_week = (((t - MONDAY) // 3600) % 168).astype(int)
    first, second = (t - MONDAY) < 7 * 86400, (t - MONDAY) >= 7 * 86400
    a = np.bincount(hour_of_week[first], p[first], 168) / np.maximum(np.bincount(hour_of_week[first], None, 168), 1)
    b = np.bincount(hour_of_week[second], p[second], 168) / np.maximum(np.bincount(hour_of_week[second], None, 168), 1)
    assert np.corrcoef(a, b)[0, 1] > 0.95  # the same week twice
    weekday_10h = a[[10, 34, 58, 82, 106]].mean()
    assert weekday_10h > 1.5 * a[6 * 24 + 10]  # Sunday 10:00
    # National Day 2024 (a Tuesday) looks like a Sunday, not a Tuesday
    oct1 = 1_727_712_000.0  # 2024-10-01 00:00 Asia/Shanghai
    hol = sample(f, oct1 + 10 * 3600, oct1 + 11 * 3600).values["power_kw"].mean()
    tue = sample(f, MONDAY + 86400 + 10 * 3600, MONDAY + 86400 + 11 * 3600).values["power_kw"].mean()
    assert hol < 0.7 * tue
    e = week.values["energy_kwh"]
    for dev in np.unique(week.device)[:5]:
        assert np.all(np.diff(e[week.device == dev]) >= 0)  # a counter never runs backwards


def test_river_rises_after_rain_and_recedes(town):
    storm = Storm(MONDAY + 3600, 3 * 3600, 30.0)
    f = prepare(Fleet.of(town, "river_gauge", seed=4, storms=[storm]))
    i = np.zeros(24 * 60, np.int64)
    t = MONDAY + np.arange(24 * 60) * 60.0
    level = river_model.level(f, i, t)
    peak = int(np.argmax(level))
    assert level[peak] - level[0] > 2.0  # metres of rise from 30 mm/h for three hours
    assert 60 + 60 < peak < 60 + 3 * 60 + 180  # peaks during or soon after the rain, not before
    assert np.all(np.diff(level[:60]) == 0)  # nothing before the rain
    assert np.all(np.diff(level[peak + 30:]) < 0)  # recession: falls steadily afterwards
    assert level[-1] - level[0] < 0.3 * (level[peak] - level[0])
    b = sample(f, MONDAY, MONDAY + 6 * 3600)
    assert b.values["rain"][(b.ts / 1000 > MONDAY + 3700) & (b.ts / 1000 < MONDAY + 4 * 3600 - 100)].min() > 0


def test_smoke_background_far_below_alarm_and_cooking_blips_stay_small(town):
    f = prepare(Fleet.of(town, "smoke", seed=6))
    b = sample(f, MONDAY, MONDAY + 86400)
    s = b.values["smoke"]
    assert np.median(s) < 0.1 and s.max() < 1.6  # 1.6 %/m is the most sensitive alarm threshold (UL 217)
    assert s.max() > 0.4  # but some kitchens do see cooking
    assert 15 < np.median(b.values["temperature"]) < 28 and b.values["co"].max() < 30
