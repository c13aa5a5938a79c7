"""The decoder: every telemetry form, every reason, exact accounting, and a fuzzer."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import ManualClock
from ingest.decode import MAX_PAYLOAD_BYTES, Decoded, Decoder
from ingest.reasons import MESSAGE_REASONS, READING_REASONS

NOW_MS = 1_732_233_600_000
TS = NOW_MS - 60_000


@pytest.fixture(scope="module")
def decoder(small_city):
    return Decoder(small_city, ManualClock(NOW_MS / 1000))


def dev(device_id: str, payload) -> tuple[bytes, bytes, int]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return (f"devices/{device_id}/telemetry".encode(), body, NOW_MS)


def gw(payload, gateway: str = "gw-1") -> tuple[bytes, bytes, int]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return (f"gateways/{gateway}/telemetry".encode(), body, NOW_MS)


def check_accounting(out: Decoded) -> None:
    assert out.messages == out.messages_read + sum(out.rejected_messages.values())
    assert out.readings == out.accepted + sum(out.rejected_readings.values())
    assert out.accepted == sum(len(b) for b in out.batches)
    assert set(out.rejected_messages) <= set(MESSAGE_REASONS)
    assert set(out.rejected_readings) <= set(READING_REASONS[1:])


def rows(out: Decoded, city) -> list[tuple]:
    """(device id, ts, {field: value}) of every accepted reading."""
    found = []
    for b in out.batches:
        for i in range(len(b)):
            vals = {f: c[i] for f, c in b.values.items() if not np.isnan(c[i])}
            found.append((str(city.devices.ids[b.device[i]]), int(b.ts[i]), vals))
    return sorted(found, key=lambda r: (r[0], r[1]))


def test_all_telemetry_forms(decoder, small_city):
    out = decoder.decode([
        dev("wb-0001", {"ts": TS, "values": {"heart_rate": 72, "spo2": 97.5}}),
        dev("wb-0002", [{"ts": TS, "values": {"heart_rate": 60}}, {"ts": TS + 1, "values": {"heart_rate": 61}}]),
        dev("wb-0003", {"heart_rate": 80}),  # bare: time = arrival
        gw({"wb-0004": [{"ts": TS, "values": {"battery": 50}}], "sm-0001": [{"ts": TS, "values": {"co": 3}}]}),
    ])
    check_accounting(out)
    assert out.rejections == []
    assert rows(out, small_city) == [
        ("sm-0001", TS, {"co": 3.0}),
        ("wb-0001", TS, {"heart_rate": 72.0, "spo2": 97.5}),
        ("wb-0002", TS, {"heart_rate": 60.0}),
        ("wb-0002", TS + 1, {"heart_rate": 61.0}),
        ("wb-0003", NOW_MS, {"heart_rate": 80.0}),
        ("wb-0004", TS, {"battery": 50.0}),
    ]
    wearable = next(b for b in out.batches if b.kind == "wearable")
    assert wearable.received_ms.tolist() == [NOW_MS] * len(wearable)
    assert wearable.device.dtype == np.int64 and wearable.ts.dtype == np.int64


@pytest.mark.parametrize(("message", "reason"), [
    (dev("wb-0001", b"{not json"), "bad_json"),
    (dev("wb-0001", b'{"ts": 1, "values": {"heart_rate": NaN}}'), "bad_json"),
    (dev("wb-0001", b'{"values": {"heart_rate": 1e400}}'), "bad_json"),
    (dev("wb-0001", b"\xff\xfe"), "bad_json"),
    (dev("wb-0001", b"[" * 5000 + b"]" * 5000), "too_deep"),
    (dev("wb-0001", b" " * (MAX_PAYLOAD_BYTES + 1)), "too_large"),
    (dev("wb-0001", 42), "bad_shape"),
    (dev("wb-0001", []), "no_readings"),
    (dev("wb-0001", {}), "no_readings"),
    (dev("bad id!", {"heart_rate": 1}), "bad_topic"),
    ((b"devices/wb-0001/status", b"{}", NOW_MS), "bad_topic"),
    ((b"devices/wb-0001/telemetry/x", b"{}", NOW_MS), "bad_topic"),
    (gw([1, 2]), "bad_shape"),
    (gw({}), "no_readings"),
    (gw({"wb-0001": []}, gateway="no such/gw"), "bad_topic"),
])
def test_message_rejections(decoder, message, reason):
    out = decoder.decode([message])
    check_accounting(out)
    assert dict(out.rejected_messages) == {reason: 1}
    assert out.readings == 0 and out.batches == []
    assert out.rejections[0].detail


@pytest.mark.parametrize(("payload", "reason"), [
    ({"ts": TS, "values": {"heart_rate": 301}}, "out_of_range"),
    ({"ts": TS, "values": {"spo2": -1}}, "out_of_range"),
    ({"ts": TS, "values": {"heart_rate": True}}, "wrong_type"),
    ({"ts": TS, "values": {"heart_rate": "72"}}, "wrong_type"),
    ({"ts": TS, "values": {"heart_rate": [72]}}, "wrong_type"),
    ({"ts": TS, "values": {"heart_rate": {"v": 72}}}, "wrong_type"),
    ({"ts": TS, "values": {"level": 2.0}}, "unknown_field"),
    ({"ts": TS, "temperature": 2.0}, "unknown_field"),
    ({"ts": NOW_MS + 10 * 60_000, "values": {"heart_rate": 72}}, "ts_future"),
    ({"ts": 1_000, "values": {"heart_rate": 72}}, "ts_too_old"),
    ({"ts": "2024-11-22T00:00:00Z", "values": {"heart_rate": 72}}, "bad_ts"),
    ({"ts": 2**70, "values": {"heart_rate": 72}}, "bad_ts"),
    ({"ts": TS, "values": {}}, "no_fields"),
    ({"ts": TS, "values": {"heart_rate": None}}, "no_fields"),
    ({"ts": TS, "values": 5}, "bad_reading"),
    ({"ts": TS, "values": {"heart_rate": 1}, "extra": 1}, "bad_reading"),
    ([{"ts": TS, "values": {"heart_rate": 1}}, "not a reading"], "bad_reading"),
])
def test_reading_rejections(decoder, payload, reason):
    out = decoder.decode([dev("wb-0001", payload)])
    check_accounting(out)
    assert out.rejected_readings[reason] == 1
    assert out.readings == (len(payload) if isinstance(payload, list) else 1)
    assert out.rejections[0].detail.startswith("wb-0001")


def test_one_bad_reading_does_not_sink_its_message(decoder, small_city):
    out = decoder.decode([gw({
        "wb-0001": [{"ts": TS, "values": {"heart_rate": 400}}, {"ts": TS + 1, "values": {"heart_rate": 70}}],
        "ghost": [{"ts": TS, "values": {"heart_rate": 1}}] * 3,
        "sm-0001": {"ts": TS, "values": {"smoke": 1.5}},  # a single object instead of a list: accepted
        "wb-0002": "nonsense",
    })])
    check_accounting(out)
    assert dict(out.rejected_readings) == {"out_of_range": 1, "unknown_device": 3, "bad_reading": 1}
    assert rows(out, small_city) == [("sm-0001", TS, {"smoke": 1.5}), ("wb-0001", TS + 1, {"heart_rate": 70.0})]
    details = {r.reason: r.detail for r in out.rejections}
    assert details["out_of_range"] == "wb-0001: heart_rate=400 outside [0, 300] bpm"
    assert details["unknown_device"] == "ghost is not in the city"


def test_explicit_null_means_not_reported(decoder, small_city):
    out = decoder.decode([dev("rg-0001", {"ts": TS, "values": {"level": 2.5, "rain": None}})])
    assert rows(out, small_city) == [("rg-0001", TS, {"level": 2.5})]


def test_huge_integers_are_out_of_range_not_errors(decoder):
    out = decoder.decode([dev("mt-0001", b'{"ts": %d, "values": {"power_kw": 123456789012345678901234567890}}' % TS)])
    check_accounting(out)
    assert dict(out.rejected_readings) == {"out_of_range": 1}


def test_a_value_nested_deeper_than_orjson_writes_is_explained_not_raised(decoder):
    # orjson reads 1,024 levels but writes 254: explaining this reading once raised and failed the round
    deep = b"[" * 600 + b"]" * 600
    out = decoder.decode([dev("wb-0001", b'{"ts": %d, "values": {"heart_rate": %s}}' % (TS, deep))])
    check_accounting(out)
    assert dict(out.rejected_readings) == {"wrong_type": 1}
    assert out.rejections[0].detail.startswith("wb-0001: ")


def test_the_lowest_int64_timestamp_is_too_old_in_any_round(small_city):
    # the same reading must get the same reason whatever else its round holds (here: a reading without ts)
    decoder = Decoder(small_city, ManualClock(NOW_MS / 1000), fast=False)
    low = b'{"ts": -9223372036854775808, "values": {"heart_rate": 70}}'
    alone = decoder.decode([dev("wb-0001", low)])
    mixed = decoder.decode([dev("wb-0001", low), dev("wb-0002", {"heart_rate": 60})])
    assert dict(alone.rejected_readings) == dict(mixed.rejected_readings) == {"ts_too_old": 1}


# ---------------------------------------------------------------------------- fuzz

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from([TS, NOW_MS, 72, 97.5, -1, 1e308]),
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["ts", "values", "heart_rate", "spo2", "fall", "battery", "smoke", "wb-0001", "sm-0001",
                         "rg-0001", "x"]) | st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)


def _encode_fuzzed(value, cut: int | None) -> bytes:
    body = json.dumps(value).encode()
    return body[:cut] if cut is not None else body


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(
    st.sampled_from([b"devices/wb-0001/telemetry", b"devices/sm-0001/telemetry", b"gateways/g/telemetry",
                     b"devices/ghost/telemetry", b"devices/../telemetry", b"x"]),
    st.one_of(
        st.builds(_encode_fuzzed, json_value, st.none() | st.integers(0, 60)),
        st.binary(max_size=64),
        st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b'{"values": {"heart_rate": NaN}}', b"1e999",
                         b"[" * 3000, b'{"a":' * 1100 + b"1" + b"}" * 1100, b"\x00", b""]),
    ),
), min_size=1, max_size=8))
def test_fuzz_no_exception_and_every_message_accounted(decoder, messages):
    out = decoder.decode([(t, p, NOW_MS) for t, p in messages])
    check_accounting(out)
    assert out.messages == len(messages)
    for b in out.batches:  # what is accepted is clean
        assert len(b) and (b.ts >= 946_684_800_000).all()
        for col in b.values.values():
            ok = col[~np.isnan(col)]
            assert np.isfinite(ok).all()


def test_ten_megabyte_payloads_are_rejected_unparsed(decoder):
    big_json = b'{"values": {"heart_rate": ' + b"1" * (10 << 20) + b"}}"
    big_garbage = bytes(range(256)) * (40 << 10)
    out = decoder.decode([dev("wb-0001", big_json), gw(big_garbage)])
    check_accounting(out)
    assert dict(out.rejected_messages) == {"too_large": 2}
