"""`gridwatch detect` end to end on CSV files (INTERFACES §4)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from gridwatch.cli import main
from tests.detectors.support import T0


def write(path: Path, ts: np.ndarray, values: np.ndarray, iso: bool = False) -> Path:
    with path.open("w") as fh:
        fh.write("timestamp,value\n")
        for t, v in zip(ts.tolist(), values.tolist(), strict=True):
            stamp = datetime.fromtimestamp(t / 1000, UTC).isoformat().replace("+00:00", "Z") if iso else str(t)
            fh.write(f"{stamp},{'' if np.isnan(v) else round(v, 1)}\n")
    return path


def read(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def day_of_heart_rate(seed: int = 0) -> np.ndarray:
    """Six hours at 10 s: resting ~72, a 40-min walk at ~110, one motion artefact, one gap."""
    rng = np.random.default_rng(seed)
    hr = 72 + rng.normal(0, 2, 2160)
    hr[600:840] = 108 + rng.normal(0, 4, 240)
    hr[1200:1202] = [41.0, 150.0]
    hr[1500:1510] = np.nan
    return hr


def test_sudden_drop_is_red_within_a_minute_and_rows_keep_their_order(tmp_path):
    hr = np.r_[day_of_heart_rate(), np.full(60, 36.0)]
    ts = T0 + np.arange(len(hr)) * 10_000
    out = tmp_path / "out.csv"
    assert main(["detect", "--kind", "wearable", "--field", "heart_rate",
                 str(write(tmp_path / "in.csv", ts, hr, iso=True)), "-o", str(out)]) == 0
    rows = read(out)
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "severity"]
    assert len(rows) == len(hr) and rows[5]["timestamp"] == datetime.fromtimestamp(ts[5] / 1000, UTC).isoformat(
    ).replace("+00:00", "Z")
    red = [i for i, r in enumerate(rows) if r["severity"] == "red"]
    assert red and (ts[red[0]] - ts[2160]) <= 60_000
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)
    assert not {r["severity"] for r in rows[:2160]} & {"red", "orange"}


def test_generic_kind_takes_any_series_and_never_looks_ahead(tmp_path):
    x = np.random.default_rng(1).normal(5000, 40, 400)
    ts = T0 + np.arange(400) * 60_000
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    main(["detect", "--kind", "generic", str(write(tmp_path / "x.csv", ts[:300], x[:300])), "-o", str(a)])
    x[300:] += 2000
    main(["detect", "--kind", "generic", str(write(tmp_path / "y.csv", ts, x)), "-o", str(b)])
    assert read(a) == read(b)[:300]
    assert {r["severity"] for r in read(b)[320:]} & {"blue", "yellow"}


def test_bad_input_names_the_line(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("timestamp,value\n1732233600000,72\n1732233610000,seventy\n")
    assert main(["detect", "--kind", "wearable", "--field", "heart_rate", str(p), "-o", str(tmp_path / "o")]) == 2
    assert "line 3: value 'seventy' is not a number" in capsys.readouterr().err
    p.write_text("time,hr\n1,2\n")
    assert main(["detect", "--kind", "generic", str(p), "-o", str(tmp_path / "o")]) == 2
    assert "line 1: header must name the columns timestamp,value" in capsys.readouterr().err
    good = write(tmp_path / "g.csv", np.array([T0]), np.array([1.0]))
    assert main(["detect", "--kind", "river_gauge", "--field", "level", "--detector", "heart", str(good),
                 "-o", str(tmp_path / "o")]) == 2
    assert "unknown detector 'heart'" in capsys.readouterr().err


def test_extra_field_columns_let_smoke_see_heat(tmp_path):
    n = 120
    k = np.arange(n)
    fire = k >= 80
    smoke = np.where(fire, np.minimum((k - 80) * 5.0, 50), 0.4)
    temp = np.where(fire, 21 + (k - 80) * 5.0, 21.0)
    p = tmp_path / "sm.csv"
    with p.open("w") as fh:
        fh.write("timestamp,value,temperature\n")
        for i in range(n):
            fh.write(f"{T0 + i * 15_000},{smoke[i]},{temp[i]}\n")
    out = tmp_path / "out.csv"
    assert main(["detect", "--kind", "smoke", "--field", "smoke", str(p), "-o", str(out)]) == 0
    rows = read(out)
    red = [i for i, r in enumerate(rows) if r["severity"] == "red"]
    assert red and (red[0] - 80) * 15 <= 60 and not any(r["severity"] for r in rows[:80])
