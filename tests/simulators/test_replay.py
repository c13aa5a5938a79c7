"""Replay reproduces the incidents of a recorded window, reports them, and closes the loop with --dispatch."""

import json
import urllib.request
from collections import Counter

import pytest

from gridwatch.cli import main

START = "2024-11-25T08:00:00+08:00"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """elderly-cardiac recorded to a JSONL file, with its ground truth (the built-in town)."""
    d = tmp_path_factory.mktemp("rec")
    assert main(["simulate", "--scenario", "elderly-cardiac", "--data-dir", str(d), "--start", START,
                 "--export", str(d / "ec.jsonl")]) == 0
    return d


def _replay(d, out, *extra):
    assert main(["replay", "--truth", str(d / "ec.truth.json"), "--data-dir", str(d), "--out", str(out),
                 "--no-progress", "--log-level", "warning", *extra]) == 0
    return json.loads((out / "report.json").read_text())


def _alerts(rep):
    return sorted((a["device_id"], a["rule"], a["severity"], a["at_ms"]) for a in rep["unexplained"]), [
        (r["id"], r["first_alert_ms"], r["severity"]) for r in rep["incidents"]]


def test_file_replay_finds_the_red_case_and_no_false_red(recorded, tmp_path, capsys):
    rep = _replay(recorded, tmp_path / "a", "--file", str(recorded / "ec.jsonl"))
    (inc,) = rep["incidents"]
    assert inc["type"] == "cardiac" and inc["severity"] == "red" and inc["devices"] == ["wb-000001"]
    assert 0 < inc["latency_ms"] < 120_000 and "heart rate" in inc["first_alert_reason"]
    assert not any(f["false_red"] for f in rep["faults"])
    assert rep["readings"] > 40_000
    page = (tmp_path / "a" / "report.html").read_text()
    assert "<svg" in page and "wb-000001" in page and "src=" not in page and "<link" not in page  # no CDN
    out = capsys.readouterr().out
    assert "inc-1" in out and "cardiac" in out and "expected red" in out


def test_replay_of_the_recording_equals_the_live_scenario(recorded, tmp_path):
    """The same window from the file and generated on the fly gives the same alerts."""
    from pathlib import Path

    csv_path = recorded / "ec.csv"
    assert main(["simulate", "--scenario", "elderly-cardiac", "--data-dir", str(recorded), "--start", START,
                 "--export", str(csv_path), "--ground-truth", str(tmp_path / "t.json")]) == 0
    a = _replay(recorded, tmp_path / "a", "--file", str(recorded / "ec.jsonl"))
    b = _replay(recorded, tmp_path / "b", "--file", str(Path(csv_path)))
    assert _alerts(a) == _alerts(b)
    assert main(["replay", "--compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0


def test_dispatch_replay_gets_the_worker_on_site(recorded, tmp_path):
    rep = _replay(recorded, tmp_path / "d", "--file", str(recorded / "ec.jsonl"), "--dispatch")
    order = rep["incidents"][0]["order"]
    assert order["severity"] == "red" and order["assignee"]
    onset = rep["incidents"][0]["onset_ms"]
    assert onset < order["created_at"] <= order["accepted_at"] <= order["on_site_at"] < onset + 15 * 60_000


@pytest.mark.integration
def test_influx_v1_window_replays_like_the_file(recorded, influxdb, tmp_path):
    lines = []
    for raw in (recorded / "ec.jsonl").read_bytes().splitlines():
        r = json.loads(raw)
        kind = {"wb": "wearable", "sm": "smoke", "rg": "river_gauge", "mt": "meter"}[r["device_id"][:2]]
        fields = ",".join(f"{k}={float(v)}" for k, v in r["values"].items())
        lines.append(f"{kind},device_id={r['device_id']} {fields} {r['ts']}")
    for i in range(0, len(lines), 5000):
        req = urllib.request.Request(f"{influxdb.url}/write?db=gridwatch&precision=ms",
                                     data="\n".join(lines[i:i + 5000]).encode())
        urllib.request.urlopen(req, timeout=30).read()
    a = _replay(recorded, tmp_path / "f", "--file", str(recorded / "ec.jsonl"))
    b = _replay(recorded, tmp_path / "i", "--influx", influxdb.url, "--influx-api", "v1",
                "--influx-bucket", "gridwatch")
    assert b["readings"] == a["readings"]
    assert _alerts(a) == _alerts(b)


def test_embedded_store_window_replays_like_the_file(recorded, tmp_path):
    from core.city import load_city
    from ingest.embedded_store import EmbeddedStore
    from simulators.replay.engine import by_slice
    from simulators.replay.files import read_file

    city = load_city(recorded / "city")
    store = EmbeddedStore.open(recorded, city)
    for batches in by_slice(read_file(recorded / "ec.jsonl", city, 0, 2**62, Counter())):
        store.append(batches)
    a = _replay(recorded, tmp_path / "f", "--file", str(recorded / "ec.jsonl"))
    b = _replay(recorded, tmp_path / "e")  # default source: the embedded store of --data-dir
    assert b["readings"] == a["readings"] and b["source"].startswith("embedded store")
    assert _alerts(a) == _alerts(b)
