"""The disk spool: an ordered, append-only, fsync'd log of line-protocol write bodies.

Every write body is appended here (and fsync'd) before the MQTT messages it came from
are acknowledged, and removed once InfluxDB has accepted it. So while InfluxDB is
reachable the spool holds a few bodies in flight; while it is not, the spool grows and
is drained in order when it returns; and after a crash (even SIGKILL) nothing
acknowledged is lost: the next start sends what the spool still holds. A body may be
sent twice across a crash; it carries the readings' own timestamps, so InfluxDB
overwrites rather than duplicates.

Layout: ``<dir>/<number>.seg`` segments of records ``magic | length | lines | crc32 |
body``, and ``<dir>/cursor``, the position of the next body to send (written on every
``pop``, not fsync'd: after a power cut a few bodies are sent again). A torn record at
the end of the last segment (a crash mid-write) is cut off at start-up.

The spool is bounded by ``max_bytes`` on disk: ``append`` reports ``False`` when a body
does not fit, and the caller stops acknowledging — the broker keeps the data. A
WARNING is logged when it passes 80 % and an ERROR when it is full.

>>> import tempfile
>>> sp = Spool(tempfile.mkdtemp(), max_bytes=1 << 20)
>>> sp.append([(b"m v=1 1\\n", 1), (b"m v=2 2\\n", 1)])
True
>>> rec = sp.peek(); rec.body, sp.depth()
(b'm v=1 1\\n', (48, 2))
>>> sp.pop(rec); sp.peek().body
b'm v=2 2\\n'
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<4sIII")  # magic, body length, lines, crc32
_CURSOR = struct.Struct("<QQ")  # segment, offset
_MAGIC = b"GWS1"
SEGMENT_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Record:
    segment: int
    offset: int  # of the header
    body: bytes
    lines: int

    @property
    def end(self) -> int:
        return self.offset + _HEADER.size + len(self.body)


class Spool:
    """Thread-safe: one appender and one reader (``peek``/``pop``) may run concurrently."""

    def __init__(self, directory: str | os.PathLike, max_bytes: int, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = max(4096, min(segment_bytes, max_bytes // 8))
        self._lock = threading.Condition()
        self._segments: dict[int, int] = {}  # number -> bytes on disk
        self._unsent_bytes = 0
        self._unsent_lines = 0
        self._read_seg: int | None = None
        self._read_off = 0
        self._read_fh = None
        self._warned = False
        self._full_logged = False
        self._recover()
        self._write_seg = max(self._segments, default=0) + 1
        self._write_fh = None
        self._cursor_fd = os.open(self.dir / "cursor", os.O_RDWR | os.O_CREAT, 0o644)

    # ------------------------------------------------------------------ recovery

    def _recover(self) -> None:
        cursor_seg, cursor_off = self._read_cursor()
        for path in sorted(self.dir.glob("*.seg"), key=lambda p: int(p.stem)):
            seg = int(path.stem)
            if seg < cursor_seg:  # sent before the last stop
                path.unlink()
                continue
            size, lines, sent_lines = self._scan(path, cursor_off if seg == cursor_seg else 0)
            if size == 0:
                path.unlink()
                continue
            self._segments[seg] = size
            self._unsent_bytes += size
            self._unsent_lines += lines - sent_lines
            if self._read_seg is None:
                self._read_seg = seg
                if seg == cursor_seg and cursor_off <= size:
                    self._read_off = cursor_off
                    self._unsent_bytes -= cursor_off
                else:
                    self._unsent_lines += sent_lines
        if self._segments:
            log.info("spool: %d bytes (%d readings) left from the last run; sending them first",
                     self._unsent_bytes, self._unsent_lines)

    def _read_cursor(self) -> tuple[int, int]:
        try:
            return _CURSOR.unpack((self.dir / "cursor").read_bytes()[: _CURSOR.size])
        except (FileNotFoundError, struct.error):
            return 0, 0

    @staticmethod
    def _scan(path: Path, sent_upto: int = 0) -> tuple[int, int, int]:
        """(valid bytes, lines, lines before ``sent_upto``); a torn or corrupt tail is truncated."""
        data = path.read_bytes()
        off = lines = sent = 0
        while off + _HEADER.size <= len(data):
            magic, length, n, crc = _HEADER.unpack_from(data, off)
            body = data[off + _HEADER.size : off + _HEADER.size + length]
            if magic != _MAGIC or len(body) != length or zlib.crc32(body) != crc:
                break
            if off < sent_upto:
                sent += n
            off += _HEADER.size + length
            lines += n
        if off != len(data):
            log.warning("spool: %s: cut %d bytes of a torn record", path.name, len(data) - off)
            with path.open("r+b") as fh:
                fh.truncate(off)
                os.fsync(fh.fileno())
        return off, lines, sent

    # ------------------------------------------------------------------ writing

    def append(self, records: list[tuple[bytes, int]]) -> bool:
        """Append ``(body, lines)`` records durably (one fsync); False if they do not fit."""
        blob = b"".join(_HEADER.pack(_MAGIC, len(b), n, zlib.crc32(b)) + b for b, n in records)
        if not blob:
            return True
        with self._lock:
            if self.disk_bytes + len(blob) > self.max_bytes:
                if not self._full_logged:
                    log.error("spool FULL (%d of %d bytes): MQTT messages are no longer acknowledged; "
                              "the broker keeps them until InfluxDB takes the spool", self.disk_bytes, self.max_bytes)
                    self._full_logged = True
                return False
            if self._write_fh is None or self._segments.get(self._write_seg, 0) >= self.segment_bytes:
                self._rotate()
            seg = self._write_seg
        os.write(self._write_fh.fileno(), blob)
        os.fsync(self._write_fh.fileno())
        with self._lock:
            self._segments[seg] = self._segments.get(seg, 0) + len(blob)
            self._unsent_bytes += len(blob)
            self._unsent_lines += sum(n for _, n in records)
            if self._read_seg is None:
                self._read_seg, self._read_off = seg, 0
            self._full_logged = False
            self._check_fill()
            self._lock.notify_all()
        return True

    def _rotate(self) -> None:
        if self._write_fh is not None:
            self._write_fh.close()
            self._write_seg += 1
        path = self.dir / f"{self._write_seg}.seg"
        self._write_fh = path.open("ab")
        self._segments.setdefault(self._write_seg, 0)
        dir_fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _check_fill(self) -> None:
        fill = self.disk_bytes / self.max_bytes
        if fill >= 0.8 and not self._warned:
            self._warned = True
            log.warning("spool is %.0f%% full (%d of %d bytes): InfluxDB is not keeping up or is down",
                        100 * fill, self.disk_bytes, self.max_bytes)
        elif fill < 0.7 and self._warned:
            self._warned = False
            log.info("spool back under 70%% (%d bytes)", self.disk_bytes)

    # ------------------------------------------------------------------ reading

    def peek(self, timeout: float = 0.0) -> Record | None:
        """The oldest record not yet popped, waiting up to ``timeout`` seconds for one."""
        with self._lock:
            if not self._unsent_bytes and timeout > 0:
                self._lock.wait(timeout)
            if not self._unsent_bytes or self._read_seg is None:
                return None
            seg, off = self._read_seg, self._read_off
            if off >= self._segments.get(seg, 0):
                if seg == self._write_seg:
                    return None
                self._drop_segment(seg)
                return self.peek()
        if self._read_fh is None or self._read_fh[0] != seg:
            if self._read_fh is not None:
                self._read_fh[1].close()
            self._read_fh = (seg, (self.dir / f"{seg}.seg").open("rb"))
        fh = self._read_fh[1]
        fh.seek(off)
        _magic, length, lines, _crc = _HEADER.unpack(fh.read(_HEADER.size))
        return Record(seg, off, fh.read(length), lines)

    def peek_many(self, count: int, timeout: float = 0.0) -> list[Record]:
        """Up to ``count`` oldest records not yet popped (from one segment), in order."""
        first = self.peek(timeout)
        if first is None:
            return []
        records = [first]
        fh = self._read_fh[1]
        while len(records) < count:
            with self._lock:
                size = self._segments.get(first.segment, 0)
            off = records[-1].end
            if off + _HEADER.size > size:
                break
            fh.seek(off)
            _magic, length, lines, _crc = _HEADER.unpack(fh.read(_HEADER.size))
            records.append(Record(first.segment, off, fh.read(length), lines))
        return records

    def pop(self, record: Record) -> None:
        """Forget ``record`` (it is in InfluxDB); a fully sent segment is deleted."""
        with self._lock:
            if (record.segment, record.offset) != (self._read_seg, self._read_off):
                raise ValueError("spool records must be popped in order")
            self._read_off = record.end
            self._unsent_bytes -= record.end - record.offset
            self._unsent_lines -= record.lines
            os.pwrite(self._cursor_fd, _CURSOR.pack(record.segment, record.end), 0)
            if self._read_off >= self._segments[record.segment] and record.segment != self._write_seg:
                self._drop_segment(record.segment)
            self._check_fill()
            self._lock.notify_all()

    def _drop_segment(self, seg: int) -> None:
        if self._read_fh is not None and self._read_fh[0] == seg:
            self._read_fh[1].close()
            self._read_fh = None
        (self.dir / f"{seg}.seg").unlink(missing_ok=True)
        del self._segments[seg]
        later = [s for s in self._segments if s > seg]
        self._read_seg, self._read_off = (min(later), 0) if later else (None, 0)

    # ------------------------------------------------------------------ state

    @property
    def disk_bytes(self) -> int:
        return sum(self._segments.values())

    def depth(self) -> tuple[int, int]:
        """(bytes, readings) appended and not yet popped."""
        with self._lock:
            return self._unsent_bytes, self._unsent_lines

    def wait_space(self, nbytes: int, timeout: float) -> bool:
        """Wait until ``nbytes`` more would fit; True if they do."""
        with self._lock:
            return self._lock.wait_for(lambda: self.disk_bytes + nbytes <= self.max_bytes, timeout)

    def close(self) -> None:
        with self._lock:
            if self._write_fh is not None:
                self._write_fh.close()
                self._write_fh = None
            if self._read_fh is not None:
                self._read_fh[1].close()
                self._read_fh = None
            if self._cursor_fd >= 0:
                os.close(self._cursor_fd)
                self._cursor_fd = -1
