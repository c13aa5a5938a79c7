"""The dead-letter store and ``gridwatch dead-letters``."""

from __future__ import annotations

from gridwatch.cli import main
from ingest.dead_letters import DeadLetter, DeadLetterStore


def letter(i: int, reasons=("bad_json",), payload=b"{") -> DeadLetter:
    return DeadLetter(1_732_233_600_000 + i, f"devices/d{i}/telemetry", reasons, 0, f"detail {i}", payload)


def test_cap_evicts_oldest_and_counts(tmp_path):
    dl = DeadLetterStore(tmp_path / "dl.sqlite", max_rows=5)
    assert dl.add(letter(i) for i in range(4)) == 0
    assert dl.add(letter(i) for i in range(4, 8)) == 3
    assert [d.topic for d in dl.query(limit=10)] == [f"devices/d{i}/telemetry" for i in range(7, 2, -1)]


def test_query_by_reason_truncation_and_readonly_reader(tmp_path):
    path = tmp_path / "dl.sqlite"
    dl = DeadLetterStore(path, payload_cap=10)
    dl.add([letter(1, ("out_of_range", "unknown_device"), b"x" * 100), letter(2, ("bad_json",))])
    reader = DeadLetterStore(path, readonly=True)  # e.g. the CLI while the service runs
    [row] = reader.query("unknown_device")
    assert row.reasons == ("out_of_range", "unknown_device")
    assert row.payload == b"x" * 10 and row.payload_bytes == 100
    assert reader.query("unknown") == []  # whole reasons only
    assert reader.counts() == {"bad_json": 1, "out_of_range": 1, "unknown_device": 1}
    assert reader.get(row.id) == row


def test_cli(tmp_path, capsys):
    data = tmp_path / "data"
    dl = DeadLetterStore(data / "dead_letters.sqlite")
    dl.add([letter(1, ("out_of_range",), b'{"values": {"heart_rate": 400}}'), letter(2)])
    dl.close()
    assert main(["dead-letters", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "kept per reason: bad_json 1, out_of_range 1" in out and "devices/d1/telemetry" in out
    assert main(["dead-letters", "--data-dir", str(data), "--reason", "out_of_range"]) == 0
    assert "devices/d2/" not in capsys.readouterr().out
    assert main(["dead-letters", "--data-dir", str(data), "--show", "1"]) == 0
    assert '{"values": {"heart_rate": 400}}' in capsys.readouterr().out
    assert main(["dead-letters", "--data-dir", str(data), "--reason", "nope"]) == 2
