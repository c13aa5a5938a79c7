"""The line-protocol encoder: escaping, field patterns, precision, skipped rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.batch import ReadingBatch
from ingest.line_protocol import LineEncoder, escape_measurement, escape_tag


def test_escaping_of_hostile_tag_values():
    assert escape_tag("a b,c=d") == r"a\ b\,c\=d"
    assert escape_tag("网格 一") == r"网格\ 一"
    assert escape_tag("line\nbreak\ttab") == r"line\ break\ tab"
    assert escape_tag("ends with \\") == r"ends\ with\ /"  # no portable escape for a trailing backslash
    assert escape_measurement("river gauge,x=1") == r"river\ gauge\,x=1"


def test_encode_groups_by_field_pattern_and_skips_empty_rows():
    enc = LineEncoder(["d-0", "d-1", "d-2"], ["g 0", "", "网格,2"])
    b = ReadingBatch("smoke", np.array([0, 1, 2, 0]), np.array([1, 2, 3, 4]), {
        "smoke": np.array([0.5, np.nan, np.nan, 1e-05]),
        "co": np.array([3.0, np.nan, 12.0, 1e16]),
    })
    lines = sorted(enc.encode(b).decode().splitlines())
    assert lines == [
        r"smoke,device_id=d-0,grid_id=g\ 0 smoke=0.00001,co=1e+16 4",  # beyond 2**53: repr
        r"smoke,device_id=d-0,grid_id=g\ 0 smoke=0.5,co=3 1",
        r"smoke,device_id=d-2,grid_id=网格\,2 co=12 3",
    ]  # row 2 has no field: no line; an empty grid id leaves the tag out


def test_series_keys_are_built_once_per_device():
    enc = LineEncoder(["d-0"], ["g"])
    b = ReadingBatch("meter", np.array([0, 0]), np.array([1, 2]), {"power_kw": np.array([1.5, 2.5])})
    enc.encode(b)
    enc._device_ids = ["changed"]  # a cached key is not rebuilt
    assert enc.encode(b).decode().startswith("meter,device_id=d-0,grid_id=g power_kw=1.5 1\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([72.0, 97.5, 2.37, -0.0, 1e-6]),
                min_size=1, max_size=300),
       st.integers(min_value=946_684_800_000, max_value=2**53))
def test_every_value_and_timestamp_parses_back_exactly(values, ts):
    n = len(values)
    b = ReadingBatch("meter", np.zeros(n, np.int64), np.full(n, ts), {"power_kw": np.array(values)})
    lines = LineEncoder(["m-1"], ["g"]).encode(b).decode().splitlines()
    assert len(lines) == n
    for line, v in zip(lines, values, strict=True):
        key, field, stamp = line.split(" ")
        assert key == "meter,device_id=m-1,grid_id=g" and int(stamp) == ts
        _name, text = field.split("=")
        assert float(text) == v and (text == repr(v) or "e" not in text)


def test_empty_batch():
    assert LineEncoder([], []).encode(ReadingBatch.empty("wearable")) == b""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=50), st.integers(0, 2**63 - 1),
       st.integers(0, 10**9))
def test_timestamps_written_as_decimals_whether_or_not_they_share_leading_digits(ts, base, spread):
    """Timestamps of a batch usually agree above their last 8 digits (one shared head is written);
    mixed, tiny and int64-extreme ones take the general path. Both give exact decimals."""
    from ingest.line_protocol import _digits

    near = [min(base + t % (spread + 1), 2**63 - 1) for t in ts]  # often within 10**8 of each other
    for values in (ts, near, [base] * 3):
        digits, mask = _digits(np.array(values, np.int64))
        assert [bytes(row[keep]) for row, keep in zip(digits, mask, strict=True)] == [b"%d" % v for v in values]
