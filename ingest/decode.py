"""Decode and validate telemetry messages into one columnar ``ReadingBatch`` per kind.

This is the hot path: at 150,000 readings/s every microsecond per reading is 15% of a
core. So the per-message loop only parses JSON (orjson), resolves the device and
*collects references* to the reading objects; everything per reading or per value —
extracting ``ts`` and fields, type checks, range checks, timestamp checks — happens
per column, in C (``map``, ``set(map(type, ...))``, numpy). Python-level work per
reading happens only for rejected readings, to explain them.

Every message and every reading is accounted for: a message is either rejected as a
whole (``MESSAGE_REASONS``; its readings cannot be counted) or read, and each reading
of a read message is accepted or rejected with one reason (``READING_REASONS``)::

    messages  == messages_read + sum(rejected_messages.values())
    readings  == accepted + sum(rejected_readings.values())

>>> from core.city import load_city
>>> from core.clock import ManualClock
>>> city = load_city("tests/data/city-small")
>>> d = Decoder(city, ManualClock(1_732_233_600))
>>> out = d.decode([
...     (b"devices/wb-0001/telemetry", b'{"ts": 1732233600123, "values": {"heart_rate": 72, "spo2": 97}}', 0),
...     (b"gateways/gw-1/telemetry", b'{"wb-0002": [{"ts": 1732233600000, "values": {"heart_rate": 400}}]}', 0),
...     (b"devices/wb-0001/telemetry", b"not json", 0),
... ])
>>> [(b.kind, len(b), b.column("heart_rate").tolist()) for b in out.batches]
[('wearable', 1, [72.0])]
>>> out.readings, out.accepted, dict(out.rejected_readings), dict(out.rejected_messages)
(2, 1, {'out_of_range': 1}, {'bad_json': 1})
"""

from __future__ import annotations

import reprlib
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter, itemgetter

import numpy as np
import orjson

from core.batch import ReadingBatch
from core.city import ID_PATTERN, City
from core.clock import Clock
from core.kinds import FIELDS, KINDS
from ingest.native import Scanner
from ingest.reasons import (
    BAD_READING,
    BAD_TS,
    NO_FIELDS,
    OUT_OF_RANGE,
    READING_REASONS,
    TS_FUTURE,
    TS_TOO_OLD,
    UNKNOWN_FIELD,
    WRONG_TYPE,
)

MAX_PAYLOAD_BYTES = 1 << 20  # 1 MiB: ~15,000 readings; a gateway sends far less per message
MAX_FUTURE_MS = 5 * 60_000  # a device clock may run ahead a little, not more than this
MIN_TS_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
DETAIL_CHARS = 200

Message = tuple[bytes, bytes, int]  # (topic, payload, arrival epoch ms)

_EMPTY: dict = {}
_contains = dict.__contains__
_payload = itemgetter(1)
_NUMBERS_OR_NONE = {int, float, type(None)}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(slots=True)
class Rejection:
    """Readings of one message rejected for one reason (``count`` 0: the whole message)."""

    message: int  # index into the decoded sequence
    reason: str
    count: int
    detail: str


@dataclass(slots=True)
class Decoded:
    """What one ``decode`` call made of its messages."""

    batches: list[ReadingBatch] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    messages: int = 0
    readings: int = 0  # readings found in messages that could be read
    accepted: int = 0
    rejected_messages: Counter = field(default_factory=Counter)
    rejected_readings: Counter = field(default_factory=Counter)
    fast_messages: int = 0  # messages the C fast path decoded (the rest went through orjson)

    @property
    def messages_read(self) -> int:
        return self.messages - sum(self.rejected_messages.values())


class Decoder:
    """Turns (topic, payload, arrival) messages into batches; never raises on input."""

    def __init__(
        self,
        city: City,
        clock: Clock,
        max_payload: int = MAX_PAYLOAD_BYTES,
        max_future_ms: int = MAX_FUTURE_MS,
        fast: bool = True,
    ) -> None:
        self._city = city
        self._index = city.devices.index
        self._kind_codes = city.devices.kind.astype(np.int64)
        self._clock = clock
        self.max_payload = max_payload
        self.max_future_ms = max_future_ms
        self._scanner: Scanner | None = None  # fast=False: the general path for all, as the reference in tests
        if fast:
            fields = [[(name, spec.lo, spec.hi) for name, spec in FIELDS[kind].items()] for kind in KINDS]
            self._scanner = Scanner(city.devices.index, city.devices.kind.astype(np.int8).tobytes(), fields)

    @property
    def fast(self) -> bool:
        """Whether well-formed messages take the C fast path (``ingest/_scan.c``)."""
        return self._scanner is not None

    # ------------------------------------------------------------------ messages

    def decode(self, messages: Sequence[Message]) -> Decoded:
        out = Decoded(messages=len(messages))
        rej = out.rejections
        n = len(messages)
        arrivals = np.fromiter((m[2] for m in messages), np.int64, n)
        modes = bytearray(n)  # per message: 0 rejected or Python's, 1 device topic, 2 gateway topic
        slots = np.full(n, -1, np.int64)  # device topic: the device's slot
        index_get, max_payload = self._index.get, self.max_payload
        for mi, (topic, payload, _arrival) in enumerate(messages):
            if len(payload) > max_payload:
                rej.append(Rejection(mi, "too_large", 0, f"{len(payload)} bytes > {max_payload}"))
                continue
            parts = topic.split(b"/")
            if len(parts) != 3 or parts[2] != b"telemetry" or parts[0] not in (b"devices", b"gateways"):
                rej.append(Rejection(mi, "bad_topic", 0, _clip(repr(topic))))
            elif parts[0] == b"devices":
                slots[mi] = index_get(parts[1].decode("utf-8", "replace"), -1)
                modes[mi] = 1
            elif not ID_PATTERN.fullmatch(parts[1].decode("utf-8", "replace")):
                rej.append(Rejection(mi, "bad_topic", 0, f"{_clip(repr(parts[1]))} is not a gateway id"))
            else:
                modes[mi] = 2
        now = self._clock.now_ms()
        fast: list[tuple[str, ReadingBatch, np.ndarray]] = []
        if self._scanner is not None and any(modes):
            fast, python = self._scan(messages, modes, slots, arrivals, now, out)
        else:
            python = [mi for mi in range(n) if modes[mi]]
        slow = self._python(messages, python, modes, arrivals, now, out) if python else []
        out.batches = _merge(fast, slow)
        if len(rej) > 1:
            rej.sort(key=attrgetter("message"))  # message order, whichever path explained it
        for r in rej:
            if r.count:
                out.rejected_readings[r.reason] += r.count
            else:
                out.rejected_messages[r.reason] += 1
        out.accepted = sum(len(b) for b in out.batches)
        out.readings = out.accepted + sum(out.rejected_readings.values())
        return out

    def _scan(self, messages, modes, slots, arrivals, now, out: Decoded):
        """The C fast path: (batches of the messages it parsed, indices of those left to Python)."""
        fallback, rows, slot, ts, msg, kind, values = self._scanner.scan(
            list(map(_payload, messages)), modes, slots, arrivals, MIN_TS_MS, now + self.max_future_ms)
        not_fast = np.frombuffer(fallback, np.uint8).astype(bool)
        left = np.flatnonzero(not_fast & np.frombuffer(modes, np.uint8).astype(bool))  # not rejected up front
        out.fast_messages = len(messages) - int(np.count_nonzero(not_fast))
        batches = []
        if rows:
            slot, ts = np.frombuffer(slot, np.int64), np.frombuffer(ts, np.int64)
            msg, kind = np.frombuffer(msg, np.int64), np.frombuffer(kind, np.int8)
            matrix = np.frombuffer(values, np.float64).reshape(rows, self._scanner.width)
            for k, name in enumerate(KINDS):
                rows_k = np.flatnonzero(kind == k)
                if len(rows_k):
                    cols = {f: matrix[rows_k, j] for j, f in enumerate(FIELDS[name])}
                    msg_k = msg[rows_k]
                    batches.append((name, ReadingBatch(name, slot[rows_k], ts[rows_k], cols, arrivals[msg_k]), msg_k))
        return batches, left.tolist()

    def _python(self, messages, indices, modes, arrivals, now, out: Decoded) -> list:
        """The general path (orjson): every form, every rejection explained."""
        rej = out.rejections
        keys: list = []  # one entry per (message, device): the device id ...
        entries: list = []  # ... and its readings (a list, normally)
        entry_msg: list[int] = []
        from_device_topic = np.zeros(len(messages), bool)
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        for mi in indices:
            topic, payload, _arrival = messages[mi]
            try:
                obj = loads(payload)
            except decode_error as exc:
                rej.append(Rejection(mi, "too_deep" if "depth" in str(exc) else "bad_json", 0, _clip(str(exc))))
                continue
            if modes[mi] == 1:
                readings = _device_readings(obj, mi, rej)
                if readings is not None:
                    keys.append(topic.split(b"/")[1].decode("utf-8", "replace"))
                    entries.append(readings)
                    entry_msg.append(mi)
                    from_device_topic[mi] = True
            elif _gateway_ok(obj, mi, rej):
                keys += obj.keys()
                entries += obj.values()
                entry_msg += [mi] * len(obj)
        if not entries:
            return []
        # JSON booleans can only come from the literals; without them, numbers convert without a type check
        text = b"\0".join(messages[mi][1] for mi in indices)
        no_bools = b"true" not in text and b"false" not in text
        return self._entries(keys, entries, np.array(entry_msg, np.int64), from_device_topic, arrivals, now, rej,
                             no_bools)

    def _entries(self, keys, entries, entry_msg, from_device_topic, arrivals, now, rej, no_bools: bool) -> list:
        """Resolve devices, flatten readings and validate them per kind, all column-wise."""
        batches = []
        if set(map(type, entries)) != {list}:
            entries = list(entries)
            for i, e in enumerate(entries):
                if type(e) is dict:
                    entries[i] = [e]
                elif type(e) is not list:
                    rej.append(Rejection(int(entry_msg[i]), "bad_reading", 1, f"{_clip(str(keys[i]))}: not a list"))
                    entries[i] = []
        slot = np.fromiter(map(self._index.get, keys, repeat(-1)), np.int64, len(keys))
        lens = np.fromiter(map(len, entries), np.int64, len(entries))
        unknown = np.flatnonzero(slot < 0)
        for i in unknown.tolist():
            mi, device_id = int(entry_msg[i]), keys[i]
            if from_device_topic[mi] and not ID_PATTERN.fullmatch(device_id):
                rej.append(Rejection(mi, "bad_topic", 0, f"{_clip(repr(device_id))} is not a device id"))
            elif lens[i]:
                rej.append(Rejection(mi, "unknown_device", int(lens[i]), f"{_clip(device_id)} is not in the city"))
        entry_kind = self._kind_codes[np.maximum(slot, 0)]
        entry_kind[unknown] = -1
        for k, kind in enumerate(KINDS):
            chosen = np.flatnonzero(entry_kind == k)
            if not len(chosen):
                continue
            picked = entries if len(chosen) == len(entries) else list(map(entries.__getitem__, chosen.tolist()))
            rows = list(chain.from_iterable(picked))
            if not rows:
                continue
            counts = lens[chosen]
            msgs = np.repeat(entry_msg[chosen], counts)
            kept = self._finish(kind, rows, np.repeat(slot[chosen], counts), msgs, arrivals, now, rej, no_bools)
            if kept is not None:
                batches.append((kind, *kept))
        return batches

    # ------------------------------------------------------------------ columns

    def _finish(self, kind, rows, slots, msgs, arrivals, now, rej, no_bools: bool = False):
        """Validate one kind's readings column by column: (its batch, each row's message) or None."""
        n = len(rows)
        reason = np.zeros(n, np.int8)
        try:
            vals = list(map(dict.get, rows, repeat("values")))
        except TypeError:  # a reading that is not an object
            for i, r in enumerate(rows):
                if type(r) is not dict:
                    reason[i], rows[i] = BAD_READING, _EMPTY
            vals = list(map(dict.get, rows, repeat("values")))
        if set(map(type, vals)) != {dict}:
            for i, v in enumerate(vals):
                if type(v) is not dict:
                    reason[i] = reason[i] or BAD_READING
                    vals[i] = _EMPTY
        ts, bad_ts, has_ts = _ts_column(list(map(dict.get, rows, repeat("ts"))), arrivals[msgs], no_bools)
        if sum(map(len, rows)) != n + int(has_ts.sum()):  # some reading has keys besides ts and values
            _mark(reason, np.fromiter(map(len, rows), np.int64, n) != 1 + has_ts, BAD_READING)
        _mark(reason, bad_ts, BAD_TS)
        specs = FIELDS[kind]
        values: dict[str, np.ndarray] = {}
        present = np.zeros(n, np.int64)
        out_of_range = np.zeros(n, bool)
        for name, spec in specs.items():
            if not any(map(_contains, vals, repeat(name))):  # a field nobody sent: skip the column work
                values[name] = np.full(n, np.nan)
                continue
            col, wrong = _float_column(list(map(dict.get, vals, repeat(name))), no_bools)
            if wrong is not None:
                _mark(reason, wrong, WRONG_TYPE)
            values[name] = col
            present += ~np.isnan(col)
            out_of_range |= (col < spec.lo) | (col > spec.hi)
        if sum(map(len, vals)) != int(present.sum()):  # keys we did not read: unknown fields, or nulls
            mismatch = np.flatnonzero((np.fromiter(map(len, vals), np.int64, n) != present) & (reason == 0))
            for i in mismatch.tolist():
                if not specs.keys() >= vals[i].keys():
                    reason[i] = UNKNOWN_FIELD
        _mark(reason, out_of_range, OUT_OF_RANGE)
        _mark(reason, ts > now + self.max_future_ms, TS_FUTURE)
        _mark(reason, ts < MIN_TS_MS, TS_TOO_OLD)
        _mark(reason, present == 0, NO_FIELDS)
        bad = np.flatnonzero(reason)
        if len(bad):
            self._reject(kind, bad, reason, msgs, slots, rows, rej)
            if len(bad) == n:
                return None
            keep = reason == 0
            values = {k: v[keep] for k, v in values.items()}
            return ReadingBatch(kind, slots[keep], ts[keep], values, arrivals[msgs[keep]]), msgs[keep]
        return ReadingBatch(kind, slots, ts, values, arrivals[msgs]), msgs

    def _reject(self, kind, bad, reason, msg, slot, rows, rej: list[Rejection]) -> None:
        """One Rejection per (message, reason), explained by its first reading."""
        key = msg[bad] * 16 + reason[bad]
        keys, first, counts = np.unique(key, return_index=True, return_counts=True)
        for k, i, c in zip(keys.tolist(), bad[first].tolist(), counts.tolist(), strict=True):
            code = k % 16
            rej.append(Rejection(k // 16, READING_REASONS[code], c, self._explain(kind, code, int(slot[i]), rows[i])))

    def _explain(self, kind: str, code: int, slot: int, row) -> str:
        device = str(self._city.devices.ids[slot])
        try:
            shown = orjson.dumps(row, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError:  # nested deeper than orjson writes (it reads deeper than it writes)
            shown = reprlib.repr(row)
        text = f"{device}: {_clip(shown, 120)}"
        values = row.get("values") if type(row) is dict else None
        if code == OUT_OF_RANGE and type(values) is dict:
            for name, spec in FIELDS[kind].items():
                v = values.get(name)
                if type(v) in (int, float) and not spec.lo <= v <= spec.hi:
                    return f"{device}: {name}={v} outside [{spec.lo:g}, {spec.hi:g}] {spec.unit}"
        if code == UNKNOWN_FIELD and type(values) is dict:
            unknown = sorted(set(values) - set(FIELDS[kind]))
            return f"{device}: {kind} has no field {_clip(', '.join(unknown), 80)}"
        return _clip(text)


def _device_readings(obj, mi: int, rej: list[Rejection]) -> list | None:
    """The readings of a device-topic payload (object, list or bare object), or None."""
    t = type(obj)
    if t is dict:
        if obj:
            return [obj] if "values" in obj else [{"values": obj}]  # bare form: time = arrival
        rej.append(Rejection(mi, "no_readings", 0, "empty object"))
    elif t is list:
        if obj:
            return obj
        rej.append(Rejection(mi, "no_readings", 0, "empty list"))
    else:
        rej.append(Rejection(mi, "bad_shape", 0, f"a JSON {t.__name__}, expected an object or a list"))
    return None


def _gateway_ok(obj, mi: int, rej: list[Rejection]) -> bool:
    """Whether a gateway-topic message is an object of device -> readings."""
    if type(obj) is not dict:
        rej.append(Rejection(mi, "bad_shape", 0, f"a JSON {type(obj).__name__}, expected an object of devices"))
    elif not obj:
        rej.append(Rejection(mi, "no_readings", 0, "empty object"))
    else:
        return True
    return False


def _merge(fast: list, slow: list) -> list[ReadingBatch]:
    """One batch per kind, rows in message order, from the (kind, batch, row messages) of both paths."""
    if not slow or not fast:
        return [b for _kind, b, _msgs in fast or slow]
    merged = []
    by_kind = {kind: (batch, msgs) for kind, batch, msgs in slow}
    for kind in KINDS:
        parts = [(b, m) for k, b, m in fast if k == kind]
        if kind in by_kind:
            parts.append(by_kind[kind])
        if len(parts) == 1:
            merged.append(parts[0][0])
        elif parts:
            order = np.argsort(np.concatenate([m for _b, m in parts]), kind="stable")
            merged.append(ReadingBatch.concat([b for b, _m in parts]).take(order))
    return merged


def _mark(reason: np.ndarray, mask: np.ndarray, code: int) -> None:
    """Give ``code`` to rows in ``mask`` that have no reason yet (earlier checks win)."""
    reason[mask & (reason == 0)] = code


def _ts_column(raw: list, fill: np.ndarray, no_bools: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ts int64, bad mask, present mask); a missing ts takes ``fill`` (arrival time)."""
    n = len(raw)
    if no_bools:
        try:  # all ints within int64: converted in C (a float, None or string raises)
            return np.frombuffer(array("q", raw), np.int64), np.zeros(n, bool), np.ones(n, bool)
        except (TypeError, OverflowError):
            pass
    types = set(map(type, raw))
    if types == {int}:
        try:
            return np.array(raw, np.int64), np.zeros(n, bool), np.ones(n, bool)
        except OverflowError:
            pass
    if types == {type(None)}:
        return fill.copy(), np.zeros(n, bool), np.zeros(n, bool)
    ts = fill.copy()
    bad = np.zeros(n, bool)
    has = np.ones(n, bool)
    for i, v in enumerate(raw):
        t = type(v)
        if v is None:
            has[i] = False
        elif (t is int or t is float) and _INT64_MIN <= v <= _INT64_MAX:  # floats: NaN fails the test
            ts[i] = int(v)
        else:
            bad[i] = True
    return ts, bad, has


def _float_column(raw: list, no_bools: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(float64 with NaN where absent or null, mask of values that are not numbers or None)."""
    if no_bools:
        try:  # all numbers: converted in C (None, a string or a container raises)
            return np.frombuffer(array("d", raw), np.float64), None
        except (TypeError, OverflowError):
            pass
    if set(map(type, raw)) <= _NUMBERS_OR_NONE:
        try:
            return np.array(raw, np.float64), None
        except OverflowError:  # an integer beyond double range
            pass
    col = np.full(len(raw), np.nan)
    wrong = np.zeros(len(raw), bool)
    for i, v in enumerate(raw):
        t = type(v)
        if t is float or t is int:
            try:
                col[i] = v
            except OverflowError:
                col[i] = np.inf  # out of range, not wrong type
        elif v is not None:
            wrong[i] = True
    return col, wrong


def _clip(text: str, limit: int = DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
