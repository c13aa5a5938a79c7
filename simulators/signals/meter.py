"""Enterprise meter: load following a weekly working-hour profile, with public holidays.

Based on typical commercial/industrial load shapes (ASHRAE Guideline 14 hourly
profiles; China's State Grid load-profile classes): offices run 08:00-18:00 on
weekdays with a lunch dip and ~15-20 % base load at night; two-shift factories
06:00-22:00 Monday to Saturday; continuous plants near flat. Chinese public holidays
(State Council calendar, 2024-2026, make-up working days ignored) look like Sundays.
``energy_kwh`` is the exact integral of the (hourly, linearly interpolated) profile,
so the counter always agrees with the power readings.

>>> monday_10h, sunday_10h = 7 * 24 + 10, 13 * 24 + 10  # hours since REF_S (Jan 1 is a holiday)
>>> float(PROFILE[0, monday_10h]), float(PROFILE[0, sunday_10h])  # an office
(0.85, 0.16)
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from simulators.signals.fleet import Fleet
from simulators.signals.noise import normal, uniform

REF_S = 1_704_038_400  # 2024-01-01 00:00 Asia/Shanghai, a Monday
HOURS = 24 * 366 * 4  # the profile table covers 2024-2027
HOLIDAYS = (  # (first day, days) of the State Council's public holidays
    ("2024-01-01", 1), ("2024-02-10", 8), ("2024-04-04", 3), ("2024-05-01", 5), ("2024-06-10", 1),
    ("2024-09-15", 3), ("2024-10-01", 7), ("2025-01-01", 1), ("2025-01-28", 8), ("2025-04-04", 3),
    ("2025-05-01", 5), ("2025-05-31", 3), ("2025-10-01", 8), ("2026-01-01", 3), ("2026-02-15", 9),
    ("2026-04-04", 3), ("2026-05-01", 5), ("2026-06-19", 3), ("2026-09-25", 3), ("2026-10-01", 7),
)


def _day_shapes() -> np.ndarray:
    """[type, daytype(0 workday, 1 saturday, 2 sunday/holiday), hour] -> fraction of rated power."""
    h = np.arange(24)
    office = np.where((h >= 8) & (h < 18), 0.85, 0.18)
    office = np.where(h == 12, 0.55, office)
    factory = np.where((h >= 6) & (h < 22), 0.9, 0.25)
    plant = np.full(24, 0.8)
    return np.array([
        [office, np.where((h >= 9) & (h < 12), 0.4, 0.18), np.full(24, 0.16)],
        [factory, factory, np.full(24, 0.22)],
        [plant, plant, np.full(24, 0.75)],
    ])


def _profile_table() -> tuple[np.ndarray, np.ndarray]:
    """Hourly profile per enterprise type since REF_S, and its running integral (hours)."""
    days = np.arange(HOURS // 24)
    daytype = np.where(days % 7 == 6, 2, np.where(days % 7 == 5, 1, 0))
    ref = dt.date(2024, 1, 1)
    for first, n in HOLIDAYS:
        d0 = (dt.date.fromisoformat(first) - ref).days
        daytype[d0:d0 + n] = 2
    shapes = _day_shapes()
    prof = shapes[:, daytype, :].reshape(3, -1)  # [type, hour since REF]
    nxt = np.concatenate([prof[:, 1:], prof[:, -1:]], axis=1)
    cum = np.concatenate([np.zeros((3, 1)), np.cumsum((prof + nxt) / 2, axis=1)], axis=1)
    return prof, cum


PROFILE, CUMULATIVE = _profile_table()


def prepare(f: Fleet) -> None:
    slot = f.slots
    f.p["rated"] = f.param("rated_kw", 80.0)
    f.p["type"] = np.minimum((uniform(f.seed, 51, slot) * 3).astype(np.int64), 2)
    f.p["e0"] = f.p["rated"] * 8760.0 * (0.5 + 2.5 * uniform(f.seed, 52, slot))


def profile(f: Fleet, i: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fraction of rated power, integral of it in hours since REF_S) at t."""
    x = np.clip((t - REF_S) / 3600.0, 0, HOURS - 2)
    hr = np.floor(x).astype(np.int64)
    frac = x - hr
    typ = f.p["type"][i]
    a, b = PROFILE[typ, hr], PROFILE[typ, hr + 1]
    return a + (b - a) * frac, CUMULATIVE[typ, hr] + a * frac + (b - a) * frac**2 / 2


def values(f: Fleet, i: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    frac, integral = profile(f, i, t)
    rated = f.p["rated"][i]
    power = rated * frac * (1.0 + 0.04 * normal(f.seed, 53, f.slots[i], np.round(t)))
    return {"power_kw": np.round(power, 2), "energy_kwh": np.round(f.p["e0"][i] + rated * integral, 2)}
