"""The dead-letter store: rejected messages kept for inspection, bounded.

One row per message with any rejection: when it arrived, its topic, the reasons, how
many readings were rejected, a detail an operator can act on ("wb-0001: heart_rate=400
outside [0, 300] bpm") and the raw payload (truncated to ``payload_cap`` bytes; the
original size is kept). SQLite in WAL mode, so ``gridwatch dead-letters`` can read it
while the service writes. At most ``max_rows`` rows: the oldest are evicted and the
evictions counted (``gridwatch_dead_letters_evicted_total``).

Rows are committed before the messages they came from are acknowledged, so a rejected
message is never lost either.

>>> import tempfile, os
>>> dl = DeadLetterStore(os.path.join(tempfile.mkdtemp(), "dl.sqlite"), max_rows=2)
>>> dl.add([DeadLetter(1000, "devices/x/telemetry", ("bad_json",), 0, "unexpected character", b"{")] * 3)
1
>>> [(r.id, r.reasons) for r in dl.query()]
[(3, ('bad_json',)), (2, ('bad_json',))]
>>> dl.close()
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_ROWS = 10_000
PAYLOAD_CAP = 16 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms INTEGER NOT NULL,
    topic TEXT NOT NULL,
    reasons TEXT NOT NULL,          -- comma-separated, sorted
    rejected_readings INTEGER NOT NULL,  -- 0: the whole message was rejected
    detail TEXT NOT NULL,
    payload BLOB NOT NULL,          -- truncated to the payload cap
    payload_bytes INTEGER NOT NULL  -- the original size
);
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_ms: int
    topic: str
    reasons: tuple[str, ...]
    rejected_readings: int
    detail: str
    payload: bytes
    id: int | None = None
    payload_bytes: int | None = None


class DeadLetterStore:
    """Thread-safe; one store per data directory."""

    def __init__(self, path: str | Path, max_rows: int = MAX_ROWS, payload_cap: int = PAYLOAD_CAP,
                 readonly: bool = False) -> None:
        self.path = Path(path)
        self.max_rows, self.payload_cap = max_rows, payload_cap
        if readonly:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives a process crash
            self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, letters: Iterable[DeadLetter]) -> int:
        """Insert in one transaction; returns how many old rows were evicted."""
        cap = self.payload_cap
        rows = [
            (d.received_ms, d.topic, ",".join(sorted(set(d.reasons))), d.rejected_readings, d.detail,
             d.payload[:cap], len(d.payload))
            for d in letters
        ]
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN")
            try:
                cur = self._db.executemany(
                    "INSERT INTO dead_letters (received_ms, topic, reasons, rejected_readings, detail, payload,"
                    " payload_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                last = self._db.execute("SELECT MAX(id) FROM dead_letters").fetchone()[0]
                cur = self._db.execute("DELETE FROM dead_letters WHERE id <= ?", (last - self.max_rows,))
                evicted = max(cur.rowcount, 0)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return evicted

    def query(self, reason: str | None = None, limit: int = 50) -> list[DeadLetter]:
        """The newest rows first, optionally only those with ``reason``."""
        sql = "SELECT id, received_ms, topic, reasons, rejected_readings, detail, payload, payload_bytes" \
              " FROM dead_letters"
        args: tuple = ()
        if reason:
            sql += " WHERE ',' || reasons || ',' LIKE ?"
            args = (f"%,{reason},%",)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [_letter(r) for r in rows]

    def get(self, letter_id: int) -> DeadLetter | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, received_ms, topic, reasons, rejected_readings, detail, payload, payload_bytes"
                " FROM dead_letters WHERE id = ?", (letter_id,)).fetchone()
        return _letter(row) if row else None

    def counts(self) -> dict[str, int]:
        """Rows per reason (a row with two reasons counts for both)."""
        with self._lock:
            rows = self._db.execute("SELECT reasons, COUNT(*) FROM dead_letters GROUP BY reasons").fetchall()
        out: dict[str, int] = {}
        for reasons, n in rows:
            for r in reasons.split(","):
                out[r] = out.get(r, 0) + n
        return dict(sorted(out.items()))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _letter(row: tuple) -> DeadLetter:
    id_, received, topic, reasons, rejected, detail, payload, size = row
    return DeadLetter(received, topic, tuple(reasons.split(",")), rejected, detail, bytes(payload), id_, size)
