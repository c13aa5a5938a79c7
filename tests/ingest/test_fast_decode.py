"""The C fast path (``ingest._scan``) decodes exactly like the pure-Python path.

For ANY input ``Decoder(..., fast=True).decode(msgs)`` must return what
``Decoder(..., fast=False).decode(msgs)`` returns: the same batches in the same order
(kind, device slots, ts, every value column with its NaN positions and the sign of its
zeros, received_ms), the same rejections (message, reason, count, detail) and the same
counters. Only ``fast_messages`` differs. The payloads below are written by hand (random
whitespace, key order, number spellings, escapes, duplicates, edge values, broken JSON)
so the C scanner sees what real gateways and hostile publishers send, not only
``json.dumps`` output. Plain tests at the end fail if the fast path is silently off.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import random
import struct
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import ManualClock
from core.kinds import FIELDS, KINDS, FieldSpec
from ingest.decode import MAX_FUTURE_MS, MAX_PAYLOAD_BYTES, MIN_TS_MS, Decoded, Decoder

NOW_MS = 1_732_233_600_000
TS = NOW_MS - 60_000
_DEVICES_CSV = Path(__file__).resolve().parents[1] / "data" / "city-small" / "devices.csv"
with _DEVICES_CSV.open(newline="", encoding="utf-8") as _f:
    DEVICES: dict[str, str] = {row["device_id"]: row["kind"] for row in csv.DictReader(_f)}
BY_KIND: dict[str, list[str]] = {k: [d for d, dk in DEVICES.items() if dk == k] for k in KINDS}
SAMPLE = {k: v[0] for k, v in BY_KIND.items()}  # one device per kind

# (max_payload, max_future_ms) pairs the fuzzers run with
CONFIGS = [(MAX_PAYLOAD_BYTES, MAX_FUTURE_MS), (512, MAX_FUTURE_MS), (2048, 0), (MAX_PAYLOAD_BYTES, 1_000)]
PAD_TO = sorted({n + d for n, _ in CONFIGS if n < MAX_PAYLOAD_BYTES for d in (-1, 0, 1)})


def decoders(city, max_payload: int = MAX_PAYLOAD_BYTES, max_future_ms: int = MAX_FUTURE_MS) -> tuple[Decoder, Decoder]:
    clock = ManualClock(NOW_MS / 1000)
    fast = Decoder(city, clock, max_payload=max_payload, max_future_ms=max_future_ms, fast=True)
    slow = Decoder(city, clock, max_payload=max_payload, max_future_ms=max_future_ms, fast=False)
    return fast, slow


# ---------------------------------------------------------------------------- comparison


def _same_ints(x, y, what: str) -> None:
    if y is None:
        assert x is None, f"{what}: fast has an array, slow has None"
        return
    assert x is not None, f"{what}: fast has None, slow has an array"
    assert x.dtype == y.dtype and x.shape == y.shape, f"{what}: {x.dtype}{x.shape} != {y.dtype}{y.shape}"
    assert x.flags.writeable == y.flags.writeable, f"{what}: writeable {x.flags.writeable} != {y.flags.writeable}"
    diff = np.flatnonzero(x != y)
    assert not len(diff), f"{what}: row {diff[0]}: fast {x[diff[0]]!r} != slow {y[diff[0]]!r}"


def _same_floats(x, y, what: str) -> None:
    assert x.dtype == y.dtype and x.shape == y.shape, f"{what}: {x.dtype}{x.shape} != {y.dtype}{y.shape}"
    assert x.flags.writeable == y.flags.writeable, f"{what}: writeable {x.flags.writeable} != {y.flags.writeable}"
    xn, yn = np.isnan(x), np.isnan(y)
    diff = np.flatnonzero(xn != yn)
    assert not len(diff), f"{what}: row {diff[0]}: fast {x[diff[0]]!r} != slow {y[diff[0]]!r} (NaN)"
    ok = ~yn
    diff = np.flatnonzero(ok & ((x != y) | (np.signbit(x) != np.signbit(y))))
    assert not len(diff), f"{what}: row {diff[0]}: fast {x[diff[0]]!r} != slow {y[diff[0]]!r}"


def assert_same(a: Decoded, b: Decoded) -> None:
    """``a`` (fast) equals ``b`` (slow) in everything but ``fast_messages``."""
    ra = [(r.message, r.reason, r.count, r.detail) for r in a.rejections]
    rb = [(r.message, r.reason, r.count, r.detail) for r in b.rejections]
    assert ra == rb
    counts = [(d.messages, d.readings, d.accepted, d.messages_read) for d in (a, b)]
    assert counts[0] == counts[1]
    assert dict(a.rejected_messages) == dict(b.rejected_messages)
    assert dict(a.rejected_readings) == dict(b.rejected_readings)
    assert [(x.kind, len(x)) for x in a.batches] == [(y.kind, len(y)) for y in b.batches]
    for i, (x, y) in enumerate(zip(a.batches, b.batches, strict=True)):
        where = f"batch {i} ({y.kind})"
        _same_ints(x.device, y.device, f"{where} device")
        _same_ints(x.ts, y.ts, f"{where} ts")
        _same_ints(x.received_ms, y.received_ms, f"{where} received_ms")
        assert list(x.values) == list(y.values), f"{where}: columns {list(x.values)} != {list(y.values)}"
        for name, col in y.values.items():
            _same_floats(x.values[name], col, f"{where} {name}")


def check(city, messages, max_payload: int = MAX_PAYLOAD_BYTES, max_future_ms: int = MAX_FUTURE_MS,
          same_crash_ok: bool = False) -> Decoded | None:
    """Decode with both paths, assert they agree, return the fast result.

    ``Decoder.decode`` never raises on input; a crash is a bug of its own, which the plain
    tests report. The fuzzers look for fast/slow differences, so with ``same_crash_ok`` an
    exception that both paths raise alike counts as agreement (and is not hunted further).
    """
    fast, slow = decoders(city, max_payload, max_future_ms)
    assert fast.fast is True and slow.fast is False
    if same_crash_ok:
        try:
            b = slow.decode(messages)
        except Exception as slow_exc:
            with pytest.raises(type(slow_exc)) as fast_exc:
                fast.decode(messages)
            assert str(fast_exc.value) == str(slow_exc)
            return None
    else:
        b = slow.decode(messages)
    a = fast.decode(messages)
    assert b.fast_messages == 0
    assert 0 <= a.fast_messages <= len(messages)
    assert_same(a, b)
    again = fast.decode(messages)  # no state carried from one call to the next
    assert_same(again, b)
    assert again.fast_messages == a.fast_messages
    return a


# ---------------------------------------------------------------------------- JSON text, hand-written

WS_CHOICES = ["", "", "", " ", "  ", "\n", "\t", "\r\n", " \n\t ", "\n    ", "\r"]


def spellings(x: float) -> list[str]:
    """Valid JSON spellings of (about) ``x``."""
    out = {repr(x), f"{x:.17g}", f"{x:.17E}", f"{x:.3e}", f"{x:.6f}"}
    if x == int(x) and abs(x) < 1e16:
        i = int(x)
        out |= {str(i), f"{i}.0", f"{i}.000000", f"{i * 10}e-1", f"{i * 1000}E-3", f"{i}e0", f"{i}E+0"}
        if i and i % 100 == 0:
            out |= {f"{i // 100}e2", f"{i // 100}E+2", f"{i // 100}.00e+2"}
    return sorted(s for s in out if "inf" not in s and "nan" not in s)


def _exact(d: Decimal) -> str:
    text = str(d)
    return text if "E" in text or "." in text else text + ".0"


def halfway_texts(x: float) -> list[str]:
    """The exact decimal midway between ``x`` and the next double, and a hair either side."""
    y = math.nextafter(x, math.inf)
    if not math.isfinite(y):
        return [repr(x)]
    with localcontext() as ctx:
        ctx.prec = 1200
        mid = (Decimal(x) + Decimal(y)) / 2
        hair = (Decimal(y) - Decimal(x)) / Decimal(10**12)
        return [_exact(mid), _exact(mid + hair), _exact(mid - hair)]


@functools.cache
def edge_texts(spec: FieldSpec) -> list[str]:
    """A field's range edges: exactly lo/hi, just inside, just beyond, in several spellings."""
    lo, hi = spec.lo, spec.hi
    vals = [lo, hi, math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf), math.nextafter(lo, math.inf),
            math.nextafter(hi, -math.inf), lo - 1, hi + 1, (lo + hi) / 2]
    texts = [s for v in vals for s in spellings(v)]
    for tiny in ("00000000000000000001", "0000000001"):  # beyond the edge: rounds back onto it, or does not
        texts += [f"-{int(abs(lo))}.{tiny}", f"{int(hi)}.{tiny}"]
    texts += halfway_texts(lo) + halfway_texts(math.nextafter(hi, -math.inf))
    return sorted(set(texts))


SPECIAL_NUMBERS = [
    "-0", "-0.0", "0", "0.0", "0e0", "0E-0", "-0e5", "0.1", "1e2", "1E-3", "2.5e+1", "7.2E1", "72e-0",
    "0.1000000000000000055511151231257827", "0.30000000000000004",
    "0.3000000000000000166533453693773481063544750213623046875",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", str(10**30), str(2**63), "9007199254740993", "9007199254740993.0",
    "1.7976931348623157e308", "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9e-324", "2e-324", "1e-400",
    "123456789012345678901234567890", "0." + "0" * 400 + "1", "1" * 40, "100e-2", "72.0000000000000000000000001",
    "72.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
    "1" + "0" * 308, "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000072e86",
    "72e00000000000000000000000000000000000000", "1e0000000000000000000002", "0e99999999999999999999",
    "1e-99999999999999999999", "72e-0000000000000000000000", "7200000000000000000000000000000e-29",
    "0.00000000000000000000000000072e30", "1e4294967298", "1e-4294967296", "72" + "0" * 400 + "e-400",
]
NON_NUMBERS = [
    "true", "false", "null", '"72"', '""', '"\\u0037\\u0032"', "[]", "[72]", "{}", '{"v": 72}', '"温度"',
    "[1, [2, [3]]]", '"\\ud83d\\ude00"', '"a\\"b"', '"\\n"', '{"heart_rate": 72}',
]
INVALID_NUMBERS = [
    "01", "1.", ".5", "-", "+1", "NaN", "-NaN", "Infinity", "-Infinity", "1e", "1e+", "0x10", "1_000", "--1",
    "1.0.0", "1e400", "-1e400", "tru", "nul", "'1'", "00", "-01", "1.e5", "1e5.5", "- 1", "1 2", '"\\ud800"',
    '"\\x41"', '"tab\there"', "[1,]", "{,}", "[1 2]", "1\f", "\v1", "\u00a01", "1e99999999999999999999",
    "-1e99999999999999999999", "72" + "0" * 400,
]
DEEP = ["[" * d + "]" * d for d in (3, 100, 1022, 1023, 1024, 1100)] + ['{"a":' * 1030 + "1" + "}" * 1030]


def ts_edges() -> list[str]:
    edges = [str(MIN_TS_MS), str(MIN_TS_MS - 1), str(MIN_TS_MS + 1), str(NOW_MS), "0", "-0", "-1", "1000", "1",
             "null", "true", "false", f'"{TS}"', f"{TS}.0", f"{TS}.5", f"{TS}.999999", f"{TS / 1000}e3",
             "1.7322336e12", "1.7322336E+12", "-0.5", "0.0", "-0.0",
             str(2**63 - 1), str(2**63), str(-(2**63)), str(-(2**63) + 1), str(2**64 - 1), str(2**64),
             "1e19", "-1e19", "9.2233720368547758e18", "9.223372036854775e18", str(10**30), "[]", "{}", f"[{TS}]",
             "NaN", "01732233600000", f'"{TS}\\u0030"', "1e400"]
    for _, future in CONFIGS:
        edges += [str(NOW_MS + future + d) for d in (-1, 0, 1)] + [f"{NOW_MS + future + 1}.0"]
    return edges


TS_EDGES = ts_edges()
DEVICE_IDS_BAD = ["ghost", "wb-9999", "a" * 64, "a" * 65, "bad id!", "", "wb-0001 ", "WB-0001", "wb-0001\u00e9",
                  "wb\\u002d0001"]
GATEWAY_KEYS_BAD = ["ghost", "bad id!", "", "a" * 65, "wb-0001 ", "\u00e9", "\x00", "devices/wb-0001"]
BAD_TOPICS = [b"devices/wb-0001/status", b"devices/wb-0001/telemetry/x", b"device/wb-0001/telemetry", b"x", b"",
              b"/devices/wb-0001/telemetry", b"gateways/gw-1/telemetry/", b"gateways/no such/gw/telemetry",
              b"devices//telemetry", b"Devices/wb-0001/telemetry", b"devices/wb-0001/TELEMETRY", b"devices/wb-0001"]
JUNK = [b"NaN", b"[]", b"{}", b"42", b'"str"', b"null", b"true", b"false", b"\xef\xbb\xbf{}", b"", b" ", b"\n",
        b"[" * 1100, b"{" * 10, b'{"values": {"heart_rate": NaN}}', b"1e999", b"\x00", b"[[]]", b"[{}]", b"[null]",
        b'{"values": {}}', b'{"": 1}', b'{"values": null}', b'{"ts": 1}']

# not JSON whitespace, not UTF-8, or a stray character: a scanner has to notice each
BAD_BYTES = [b"\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\xc3", b"\x00", b"\\", b'"', b"\x0b", b"\x0c", b"\xc2\xa0",
             b"\x1f", b"\x7f", b"\xe2\x80\xa8", b",", b":", b"{", b"]"]

# The kinds of trouble a message may carry; a hypothesis example picks a few per message (none: well-formed).
TROUBLE = ("escape", "edge", "nonnumber", "invalid", "ts", "duplicate", "foreign", "shape", "device", "mutate",
           "topic")


class Writer:
    """Writes one message as JSON text, by hand, from a seeded RNG.

    Hypothesis draws the seed, the whitespace style and the set of ``trouble`` allowed, so a
    failing round shrinks to few messages with few kinds of trouble. Without trouble the
    message is well-formed telemetry, written in any valid way.
    """

    def __init__(self, seed: int, style: int, trouble: frozenset[str] = frozenset()) -> None:
        self.rng = random.Random(seed)
        self.style = style  # 0 compact, 1 json.dumps-like spaces, 2 any whitespace anywhere
        self.trouble = trouble

    def on(self, what: str, p: float = 0.2) -> bool:
        return what in self.trouble and self.rng.random() < p

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def ws(self) -> str:
        if self.style == 0:
            return ""
        if self.style == 1:
            return " " if self.rng.random() < 0.5 else ""
        return self.pick(WS_CHOICES)

    def obj(self, pairs: list[tuple[str, str]]) -> str:
        if not pairs:
            return "{" + self.ws() + "}"
        ws = self.ws
        return "{" + ",".join(ws() + k + ws() + ":" + ws() + v + ws() for k, v in pairs) + "}"

    def arr(self, items: list[str]) -> str:
        if not items:
            return "[" + self.ws() + "]"
        return "[" + ",".join(self.ws() + v + self.ws() for v in items) + "]"

    def key(self, name: str) -> str:
        """``name`` as a JSON string; with trouble ``escape`` one character as \\uXXXX (or \\/)."""
        if name and self.on("escape", 0.3):
            i = self.rng.randrange(len(name))
            c = name[i]
            if c == "/":
                esc = "\\/"
            elif ord(c) > 0xFFFF:
                esc = json.dumps(c)[1:-1]
            else:
                esc = self.pick(["\\u{:04x}", "\\u{:04X}"]).format(ord(c))
            head, tail = json.dumps(name[:i], ensure_ascii=False), json.dumps(name[i + 1:], ensure_ascii=False)
            return '"' + head[1:-1] + esc + tail[1:-1] + '"'
        if name and self.on("invalid", 0.1):  # a raw control character or a bad byte in a key: not JSON
            i = self.rng.randrange(len(name) + 1)
            return '"' + name[:i] + self.pick(["\t", "\n", "\x01", "\x7f", "\udcff"]) + name[i:] + '"'
        return json.dumps(name, ensure_ascii="escape" in self.trouble and self.rng.random() < 0.2)

    def number(self, spec: FieldSpec) -> str:
        lo, hi, r = spec.lo, spec.hi, self.rng.random()
        if self.on("edge", 0.6):
            return self.pick([
                lambda: self.pick(edge_texts(spec)),
                lambda: self.pick(halfway_texts(self.rng.uniform(lo, hi))),
                lambda: self.pick(SPECIAL_NUMBERS),
                lambda: self.pick(spellings(self.pick([-1, 1]) * 10 ** self.rng.uniform(-320, 308))),
                lambda: self.pick(spellings(self.any_double())),
            ])()
        if r < 0.4:
            return str(self.rng.randint(math.ceil(lo), math.floor(hi)))
        if r < 0.5:  # exactly on an edge: valid
            return self.pick(spellings(self.pick([lo, hi])))
        x = self.rng.uniform(lo, hi)
        return self.pick(spellings(round(x, self.rng.randrange(4)) if r < 0.75 else x))

    def any_double(self) -> float:
        """Any finite double, from its 64 random bits."""
        x = math.nan
        while not math.isfinite(x):
            x = struct.unpack("<d", self.rng.randbytes(8))[0]
        return x

    def value(self, spec: FieldSpec) -> str:
        if self.on("nonnumber", 0.3):
            return self.pick(NON_NUMBERS)
        if self.on("invalid", 0.3):
            return self.pick(INVALID_NUMBERS + DEEP if self.rng.random() < 0.3 else INVALID_NUMBERS)
        return self.number(spec)

    def ts(self) -> str:
        if self.on("ts", 0.5):
            return self.pick(TS_EDGES)
        return str(self.rng.randint(NOW_MS - 86_400_000, NOW_MS))

    def kind_of(self, device: str) -> str:
        kind = DEVICES.get(device) or self.pick(KINDS)
        return self.pick(KINDS) if self.on("foreign", 0.2) else kind

    def values(self, kind: str) -> list[tuple[str, str]]:
        specs = FIELDS[kind]
        names = self.rng.sample(list(specs), self.rng.randint(1, len(specs)))
        pairs = [(self.key(n), self.value(specs[n])) for n in names]
        if self.on("duplicate", 0.3):  # the same field twice
            dup = self.pick(names)
            pairs.insert(self.rng.randint(0, len(pairs)), (self.key(dup), self.value(specs[dup])))
        if self.on("foreign", 0.4):  # a field of another kind, or no kind's
            other = self.pick([n for k in KINDS for n in FIELDS[k] if n not in specs] + ["x", "温度", "", "Level"])
            pairs.insert(self.rng.randint(0, len(pairs)), (self.key(other), self.number(FieldSpec("", 0, 100))))
        if self.on("foreign", 0.1):
            pairs = []
        return pairs

    def reading(self, kind: str) -> str:
        if self.on("shape", 0.1):  # a reading that is not an object
            return self.pick(["5", "null", "[]", '"x"', "true", f'[{{"ts": {TS}}}]', "[1, 2]"])
        pairs = []
        if self.rng.random() < 0.85:  # ts is optional: missing means arrival time
            pairs.append((self.key("ts"), self.ts()))
        if self.on("shape", 0.2):  # values that is not an object, or missing
            if self.rng.random() < 0.7:
                pairs.append((self.key("values"), self.pick([*NON_NUMBERS[:10], "5", "-1.5"])))
        else:
            pairs.append((self.key("values"), self.obj(self.values(kind))))
        if self.on("duplicate", 0.3):
            pairs.append((self.key("ts"), self.ts()))
        if self.on("duplicate", 0.2):
            pairs.append((self.key("values"), self.obj(self.values(kind))))
        if self.on("shape", 0.2):  # a key besides ts and values
            pairs.append((self.key(self.pick(["extra", "Ts", "value", "", "ts "])), self.pick(["1", "null", '"x"'])))
        self.rng.shuffle(pairs)
        return self.obj(pairs)

    def readings(self, kind: str, low: int = 1) -> str:
        return self.arr([self.reading(kind) for _ in range(self.rng.randint(low, 5))])

    def device_id(self) -> bytes:
        if self.on("device", 0.5):
            return b"wb-0001\xff" if self.rng.random() < 0.1 else self.pick(DEVICE_IDS_BAD).encode()
        return self.pick(list(DEVICES)).encode()

    def device_message(self, at: int) -> tuple[bytes, bytes, int]:
        raw_id = self.device_id()
        kind = self.kind_of(raw_id.decode("utf-8", "replace"))
        form = self.pick(["object", "list", "bare"])
        if form == "object":
            text = self.reading(kind)
        elif form == "list":
            text = self.readings(kind, 0 if self.on("shape", 0.2) else 1)
        else:
            pairs = self.values(kind)
            if self.on("shape", 0.3):  # a ts in a bare object is a field nobody has
                pairs.insert(self.rng.randint(0, len(pairs)), (self.key("ts"), self.ts()))
            if self.on("shape", 0.3):  # "values" anywhere makes it a reading, with extra keys
                pairs.insert(self.rng.randint(0, len(pairs)), (self.key("values"), self.obj(self.values(kind))))
            text = self.obj(pairs)
        return b"devices/" + raw_id + b"/telemetry", self.mutate(text.encode("utf-8", "surrogateescape")), at

    def gateway_message(self, at: int) -> tuple[bytes, bytes, int]:
        pairs, used = [], []
        fresh = self.rng.sample(list(DEVICES), self.rng.randint(1, 6))
        for device in fresh:
            if used and self.on("duplicate", 0.3):  # the same device twice
                device = self.pick(used)
            elif self.on("device", 0.3):
                device = self.pick(GATEWAY_KEYS_BAD)
            used.append(device)
            kind = self.kind_of(device)
            if self.on("shape", 0.3):  # an object instead of a list, an empty list, or junk
                value = self.pick([self.reading(kind), "5", "null", '"x"', "true", "[]", "{}"])
            else:
                value = self.readings(kind)
            pairs.append((self.key(device), value))
        gateway = b"gw-1"
        if self.on("topic", 0.7):
            gateway = self.pick([b"", b"x" * 64, b"x" * 65, b"gw 1", b"gw\xff", b"g.w_1-2", b"wb-0001"])
        body = self.mutate(self.obj(pairs).encode("utf-8", "surrogateescape"))
        return b"gateways/" + gateway + b"/telemetry", body, at

    def mutate(self, body: bytes) -> bytes:
        """Whitespace around the top-level value; with trouble ``mutate``, broken JSON and size edges."""
        body = self.ws().encode() + body + self.ws().encode()
        if not self.on("mutate", 0.7):
            return body
        how = self.pick(["garbage", "truncate", "bom", "insert", "delete", "pad", "nul"])
        if how == "garbage":
            return body + self.pick([b"x", b"}", b"]", b",", b" 1", b"\x00", b"{}", b"//", b"\xff"])
        if how == "truncate":
            return body[: self.rng.randrange(max(len(body), 1))]
        if how == "bom":
            return b"\xef\xbb\xbf" + body
        if how == "insert":
            i = self.rng.randint(0, len(body))
            return body[:i] + self.pick(BAD_BYTES) + body[i:]
        if how == "delete":
            i = self.rng.randrange(max(len(body), 1))
            return body[:i] + body[i + 1:]
        if how == "nul":
            return body.replace(b" ", b"\x00", 1)
        return body + b" " * max(self.pick(PAD_TO) - len(body), 0)

    def junk_value(self, depth: int = 0):
        r = self.rng.random()
        if depth < 3 and r < 0.3:
            return [self.junk_value(depth + 1) for _ in range(self.rng.randrange(4))]
        if depth < 3 and r < 0.6:
            keys = ["ts", "values", "heart_rate", "level", *DEVICES, "x", ""]
            return {self.pick(keys): self.junk_value(depth + 1) for _ in range(self.rng.randrange(4))}
        return self.pick([None, True, False, TS, NOW_MS, 72, 97.5, -1, 1e308, "", "x", 2**64, -(2**63)])

    def junk_message(self, at: int) -> tuple[bytes, bytes, int]:
        topic = self.pick([b"devices/wb-0001/telemetry", b"devices/rg-0001/telemetry", b"gateways/gw-1/telemetry",
                           b"devices/ghost/telemetry", *BAD_TOPICS])
        body = self.pick([lambda: self.pick(JUNK), lambda: self.rng.randbytes(self.rng.randrange(40)),
                          lambda: json.dumps(self.junk_value()).encode()])()
        return topic, body, at


ARRIVALS = st.one_of(st.integers(NOW_MS - 10_000_000, NOW_MS),
                     st.sampled_from([NOW_MS, 0, MIN_TS_MS - 1, MIN_TS_MS, NOW_MS + 10_000_000, NOW_MS + 1]))


@st.composite
def message(draw, anomalies: bool) -> tuple[bytes, bytes, int]:
    what = draw(st.sampled_from(["device", "gateway"] * (3 if anomalies else 1) + ["junk", "bad_topic"] * anomalies))
    trouble = frozenset()
    if anomalies and draw(st.booleans()):  # half the messages well-formed, so rounds mix fast and slow ones
        trouble = frozenset(draw(st.sets(st.sampled_from(TROUBLE), min_size=1, max_size=3)))
    w = Writer(draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2)), trouble)
    at = draw(ARRIVALS) if anomalies else draw(st.integers(NOW_MS - 10_000_000, NOW_MS))
    if what == "device":
        return w.device_message(at)
    if what == "gateway":
        return w.gateway_message(at)
    if what == "junk":
        return w.junk_message(at)
    _topic, body, at = w.device_message(at) if w.rng.random() < 0.5 else w.gateway_message(at)
    return w.pick(BAD_TOPICS), body, at


FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ---------------------------------------------------------------------------- property tests


@FUZZ
@given(msgs=st.lists(message(anomalies=False), min_size=1, max_size=8))
def test_well_formed_rounds_decode_the_same(small_city, msgs):
    """Valid telemetry written every valid way: whitespace, key order, number spellings, all forms."""
    out = check(small_city, msgs)
    assert out.rejections == [] and out.accepted == out.readings > 0  # the round really is well-formed


@FUZZ
@given(msgs=st.lists(message(anomalies=True), min_size=1, max_size=8), config=st.sampled_from(CONFIGS))
def test_mixed_rounds_decode_the_same(small_city, msgs, config):
    """Valid and broken messages mixed in one round: every rejection and every kept value agrees."""
    check(small_city, msgs, *config, same_crash_ok=True)


@FUZZ
@given(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_number_spellings_decode_the_same(small_city, kind, seed, n):
    """Many readings of one kind, each value spelled another way (edges, halfway cases, big ints, odd ts)."""
    w = Writer(seed, 1, frozenset({"edge", "ts"}))
    msgs = []
    for _ in range(n):
        readings = []
        for _ in range(w.rng.randint(1, 5)):
            fields = [f'"{name}": {w.number(spec)}' for name, spec in FIELDS[kind].items() if w.rng.random() < 0.6]
            values = ", ".join(fields or [f'"{next(iter(FIELDS[kind]))}": 1'])
            readings.append(f'{{"ts": {w.ts()}, "values": {{{values}}}}}')
        device = w.pick(BY_KIND[kind])
        msgs.append((f"devices/{device}/telemetry".encode(), ("[" + ", ".join(readings) + "]").encode(), NOW_MS))
    check(small_city, msgs)


# ---------------------------------------------------------------------------- edge tables


def _dev(device: str, body: str | bytes, at: int = NOW_MS) -> tuple[bytes, bytes, int]:
    return f"devices/{device}/telemetry".encode(), body if isinstance(body, bytes) else body.encode(), at


def _fill(body: str) -> str:
    """``$TS`` placeholders become TS, TS + 1, ... in order; ``$FUT`` a ts far in the future."""
    body = body.replace("$FUT", str(NOW_MS + 10**9))
    parts = body.split("$TS")
    return "".join(p + (str(TS + i) if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def _gw(body: str | bytes, at: int = NOW_MS, gateway: str = "gw-1") -> tuple[bytes, bytes, int]:
    return f"gateways/{gateway}/telemetry".encode(), body if isinstance(body, bytes) else body.encode(), at


@pytest.mark.parametrize("kind", KINDS)
def test_range_edges_of_every_field(small_city, kind):
    device = SAMPLE[kind]
    msgs = []
    for name, spec in FIELDS[kind].items():
        for text in edge_texts(spec) + SPECIAL_NUMBERS:
            msgs.append(_dev(device, f'{{"ts": {TS}, "values": {{"{name}": {text}}}}}'))
            msgs.append(_gw(f'{{"{device}": [{{"ts": {TS}, "values": {{"{name}": {text}}}}}]}}'))
    out = check(small_city, msgs)
    assert out.readings > 0


@pytest.mark.parametrize("text", TS_EDGES)
def test_ts_edges(small_city, text):
    """Each ts edge alone, and next to a plain reading of the same kind (the column takes another path)."""
    alone = [_dev("wb-0001", f'{{"ts": {text}, "values": {{"heart_rate": 70}}}}')]
    mixed = [_dev("wb-0002", f'{{"ts": {TS}, "values": {{"heart_rate": 71}}}}'), *alone,
             _dev("wb-0003", '{"values": {"heart_rate": 72}}', NOW_MS - 5)]
    pair = f'{{"ts": {TS}, "values": {{"spo2": 99}}}}, {{"ts": {text}, "values": {{"spo2": 98}}}}'
    gateway = [_gw(f'{{"wb-0004": [{pair}]}}')]
    for max_payload, future in CONFIGS:
        check(small_city, alone, max_payload, future)
        check(small_city, mixed, max_payload, future)
        check(small_city, gateway, max_payload, future)


@pytest.mark.parametrize("text", INVALID_NUMBERS + NON_NUMBERS + DEEP)
def test_odd_values(small_city, text):
    msgs = [_dev("wb-0001", f'{{"ts": {TS}, "values": {{"heart_rate": 70}}}}'),
            _dev("wb-0002", f'{{"ts": {TS}, "values": {{"heart_rate": {text}}}}}'),
            _gw(f'{{"sm-0001": [{{"ts": {TS}, "values": {{"co": 3, "smoke": {text}}}}}], "wb-0003": {{"fall": 0}}}}'),
            _dev("wb-0004", f'{{"heart_rate": {text}}}'),
            _dev("wb-0001", f'{{"ts": {TS + 1}, "values": {{"heart_rate": 71}}}}')]
    check(small_city, msgs)


@pytest.mark.parametrize("body", [
    '{"ts": $TS, "values": {"heart_rate": 70}, "ts": $FUT}',
    '{"ts": $TS, "values": {"heart_rate": 70, "heart_rate": 400}}',
    '{"ts": $TS, "values": {"heart_rate": 400, "heart_rate": 70}}',
    '{"ts": $TS, "values": {"heart_rate": 70}, "values": {"spo2": 98}}',
    '{"ts": $TS, "values": {"heart\\u005frate": 70}}',
    '{"ts": $TS, "values": {"heart\\u005Frate": 70, "heart_rate": 71}}',
    '{"t\\u0073": $TS, "values": {"heart_rate": 70}}',
    '{"ts": $TS, "valu\\u0065s": {"heart_rate": 70}}',
    '{"values": {"heart_rate": 70}, "ts": $TS}',
    '{"ts": $TS, "values": {"heart_rate": 70}, "extra": 1}',
    '{"ts": $TS, "values": {"heart_rate": 70, "level": 2}}',
    '{"ts": $TS, "values": {"心率": 70}}',
    '{"ts": $TS, "values": {}}',
    '{"ts": $TS, "values": {"heart_rate": null}}',
    '{"ts": $TS, "values": {"heart_rate": null, "spo2": 97}}',
    '{"ts": null, "values": {"heart_rate": 70}}',
    '{"values": {"heart_rate": 70}}',
    '{"heart_rate": 70, "ts": $TS}',
    '{"heart_rate": 70, "values": {"spo2": 98}}',
    '{"spo2": 98, "ts": $TS, "values": {"heart_rate": 70}}',
    '{"values": {"heart_rate": 70}, "heart_rate": 71}',
    '{"ts": $TS}',
    '{"extra": 1, "ts": $TS, "values": {"heart_rate": 70}}',
    '{"heart_rate": 70, "spo2": 99.5, "fall": 0, "battery": 100}',
    '[{"ts": $TS, "values": {"heart_rate": 70}}, {"ts": $TS, "values": {"heart_rate": 71}}]',
    '[{"ts": $TS, "values": {"heart_rate": 70}}, 5, {"ts": $TS, "values": {"heart_rate": 301}}]',
    '[]', '{}', '[{}]', '[[]]', ' \n\t{"ts": $TS,\n\t"values":\n{"heart_rate":\r\n70}}\n ',
    '\ufeff{"ts": $TS, "values": {"heart_rate": 70}}',
    '{"ts": $TS, "values": {"heart_rate": 70}} x',
    '{"ts": $TS, "values": {"heart_rate": 70}}{}',
    '{"ts": $TS, "values": {"heart_rate": 70}',
    '{"ts": $TS, "values": {"heart_rate": 70}},',
    '{"ts": $TS, "values": {"heart_rate": 7',
])
def test_tricky_device_payloads(small_city, body):
    around = [_dev("wb-0002", f'{{"ts": {TS}, "values": {{"heart_rate": 60}}}}', NOW_MS - 2),
              _dev("wb-0001", f'{{"ts": {TS + 2}, "values": {{"heart_rate": 61}}}}', NOW_MS - 1)]
    check(small_city, [around[0], _dev("wb-0001", _fill(body), NOW_MS - 7), around[1]])


@pytest.mark.parametrize("body", [
    '{"wb-0001": [{"ts": $TS, "values": {"heart_rate": 70}}], "wb-0001": [{"ts": $TS, "values": {"heart_rate": 71}}]}',
    '{"wb\\u002d0001": [{"ts": $TS, "values": {"heart_rate": 70}}]}',
    '{"wb-0001": [{"ts": $TS, "values": {"heart_rate": 70}}], "wb\\u002d0001": [{"ts": $TS, "values": {"spo2": 9}}]}',
    '{"wb-0001": {"ts": $TS, "values": {"heart_rate": 70}}, "sm-0001": [{"ts": $TS, "values": {"co": 1}}]}',
    '{"ghost": [{"ts": $TS, "values": {"heart_rate": 70}}], "wb-0001": []}',
    '{"bad id!": [{"ts": $TS, "values": {"heart_rate": 70}}]}',
    '{"wb-0001": 5, "sm-0001": "x", "rg-0001": null, "mt-0001": true}',
    '{"wb-0001": [5, null, [], {}]}',
    '{"mt-0001": [{"ts": $TS, "values": {"power_kw": -1000000, "energy_kwh": 10000000000000}},'
    ' {"ts": $TS, "values": {"power_kw": -1000000.0000001, "energy_kwh": 1e13}}]}',
    '{"rg-0001": [{"ts": $TS, "values": {"level": -100, "rain": -0}}, {"ts": $TS, "values": {"level": -0.0}}]}',
    '{"sm-0001": [{"ts": $TS, "values": {"temperature": -50, "co": 10000}},'
    ' {"ts": $TS, "values": {"temperature": -50.000000000001}}]}',
    '{}', '[]', '{"wb-0001": [{"ts": $TS, "values": {"heart_rate": 70}}]',
    '{"wb-0001": [], "sm-0001": []}',
    '{"wb-0001": [], "wb-0001": [{"ts": $TS, "values": {"heart_rate": 70}}]}',
    '{"wb-0001": [{"ts": $TS, "values": {"heart_rate": 70}}], "wb-0001": []}',
    '{"wb-0001": [{"values": {"heart_rate": 70}}], "sm-0001": [{"smoke": 1}]}',
    '{"wb-0001": [{"values": {"heart_rate": 70}}, {"ts": $TS, "values": {"heart_rate": 71}}]}',
])
def test_tricky_gateway_payloads(small_city, body):
    around = [_gw(f'{{"wb-0002": [{{"ts": {TS}, "values": {{"heart_rate": 60}}}}]}}', NOW_MS - 2),
              _gw(f'{{"wb-0001": [{{"ts": {TS + 2}, "values": {{"heart_rate": 61}}}}]}}', NOW_MS - 1)]
    check(small_city, [around[0], _gw(_fill(body), NOW_MS - 7), around[1]])


def test_payloads_that_are_not_bytes(small_city):
    """A bytearray or memoryview payload (some MQTT clients hand those out) decodes the same either way."""
    body = f'{{"ts": {TS}, "values": {{"heart_rate": 70}}}}'.encode()
    msgs = [_dev("wb-0001", body), (b"devices/wb-0002/telemetry", bytearray(body), NOW_MS - 1),
            (b"devices/wb-0003/telemetry", memoryview(body), NOW_MS - 2), _dev("wb-0004", body, NOW_MS - 3)]
    out = check(small_city, msgs)
    assert out.accepted == 4


def test_payload_size_limit_edges(small_city):
    body = f'{{"ts": {TS}, "values": {{"heart_rate": 70}}}}'.encode()
    msgs = [_dev("wb-0001", body + b" " * (n - len(body))) for n in (511, 512, 513)]
    msgs += [_gw(b'{"wb-0002": [' + body + b"]}" + b"\n" * (n - len(body) - 15)) for n in (511, 512, 513)]
    out = check(small_city, msgs, max_payload=512)
    assert dict(out.rejected_messages) == {"too_large": 2}


# ---------------------------------------------------------------------------- the fast path is really on


def test_the_extension_is_built_and_used(small_city):
    clock = ManualClock(NOW_MS / 1000)
    assert Decoder(small_city, clock).fast is True, (
        "the C fast path ingest._scan is not built: run `pip install -e .` / `make deps`")
    assert Decoder(small_city, clock, fast=False).fast is False


def _readings(i: int, per: int) -> dict[str, list[dict]]:
    """``per`` well-formed readings over every device of the city, all four kinds."""
    out: dict[str, list[dict]] = {}
    devices = list(DEVICES)
    for j in range(per):
        device = devices[j % len(devices)]
        kind = DEVICES[device]
        t = TS + i * per + j
        values = {
            "wearable": {"heart_rate": 60 + j % 40, "spo2": 95.5, "fall": 0, "battery": 80},
            "smoke": {"smoke": 0.25, "temperature": -3.5 + j % 7, "co": 3, "battery": 99},
            "river_gauge": {"level": 2.125 + j % 900, "rain": 0.0} if j % 2 else {"level": -1.5},
            "meter": {"power_kw": -12.5 + j % 1000, "energy_kwh": 123456.789 + i},
        }[kind]
        out.setdefault(device, []).append({"ts": t, "values": values})
    return out


@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":")])
def test_well_formed_gateway_round_is_all_fast(small_city, separators):
    msgs = [_gw(json.dumps(_readings(i, 100), separators=separators), NOW_MS - 50 + i) for i in range(50)]
    out = check(small_city, msgs)
    assert out.rejections == [] and out.accepted == 5000
    assert out.fast_messages == 50


@pytest.mark.parametrize("form", ["object", "list", "bare"])
def test_well_formed_device_round_is_all_fast(small_city, form):
    msgs = []
    for i in range(60):
        device = list(DEVICES)[i % len(DEVICES)]
        readings = _readings(i, 11)[device][:1] * (3 if form == "list" else 1)
        payload = {"object": readings[0], "list": readings, "bare": readings[0]["values"]}[form]
        msgs.append(_dev(device, json.dumps(payload), NOW_MS - 100 + i))
    out = check(small_city, msgs)
    assert out.rejections == [] and out.accepted == 60 * (3 if form == "list" else 1)
    assert out.fast_messages == 60


def test_a_message_of_a_mebibyte_is_fast_and_the_same(small_city):
    """~13,000 readings in one gateway message, just under the size limit: no buffer runs short."""
    per = 13_000
    body = json.dumps(_readings(0, per), separators=(",", ":")).encode()
    assert len(body) <= MAX_PAYLOAD_BYTES
    out = check(small_city, [_gw(body + b" " * (MAX_PAYLOAD_BYTES - len(body)))])
    assert out.accepted == per and out.fast_messages == 1


def test_one_out_of_range_value_sends_only_its_message_to_the_slow_path(small_city):
    msgs = [_gw(json.dumps(_readings(i, 100)), NOW_MS - 50 + i) for i in range(10)]
    bad = _readings(4, 100)
    bad["wb-0002"][1]["values"]["heart_rate"] = 301
    msgs[4] = _gw(json.dumps(bad), NOW_MS - 46)
    msgs.append(_dev("wb-0001", f'{{"ts": {TS}, "values": {{"spo2": 100.0000001}}}}'))
    msgs.append(_dev("wb-0001", f'{{"ts": {TS}, "values": {{"spo2": 100}}}}'))
    msgs += [(b"devices/wb-0001/status", b"{}", NOW_MS), _dev("wb-0001", b" " * (MAX_PAYLOAD_BYTES + 1))]
    out = check(small_city, msgs)
    assert dict(out.rejected_messages) == {"bad_topic": 1, "too_large": 1}
    assert dict(out.rejected_readings) == {"out_of_range": 2}
    assert out.accepted == 10 * 100 - 1 + 1
    assert out.fast_messages == 10


def test_order_is_kept_across_fast_and_fallback_messages(small_city):
    """One device's readings spread over messages, every third one falls back: publish order is kept."""
    triggers = [
        '{{"ts": {t}, "values": {{"heart\\u005frate": 70}}}}',  # an escape
        '{{"ts": {t}, "values": {{"heart_rate": 70, "spo2": null}}}}',  # a null value
        '{{"ts": {t}.0, "values": {{"heart_rate": 70}}}}',  # ts not an integer
    ]
    msgs, gw_msgs = [], []
    for i in range(30):
        t = TS + i
        body = triggers[i // 3 % 3].format(t=t) if i % 3 == 1 else f'{{"ts": {t}, "values": {{"heart_rate": 70}}}}'
        msgs.append(_dev("wb-0001", body, NOW_MS - 1000 + i))
        smoke = f'[{{"ts": {t}, "values": {{"co": 1}}}}]'
        gw_msgs.append(_gw(f'{{"wb-0001": [{body}], "sm-0001": {smoke}}}', NOW_MS - 1000 + i))
    for round_ in (msgs, gw_msgs, [m for pair in zip(msgs, gw_msgs, strict=True) for m in pair]):
        out = check(small_city, round_)
        assert out.rejections == []
        assert out.fast_messages == len(round_) * 2 // 3
        wearable = next(b for b in out.batches if b.kind == "wearable")
        step = 2 if len(round_) == 60 else 1
        assert wearable.ts.tolist() == [TS + i // step for i in range(len(round_))]
        assert wearable.received_ms.tolist() == [NOW_MS - 1000 + i // step for i in range(len(round_))]
