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
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=50), st.integers(0, 2**63 - 1),
       st.integers(0, 10**9))
def test_timestamps_written_as_decimals_whatever_their_range(ts, base, spread):
    """A batch's timestamps usually share their leading digits; mixed, tiny and int64-extreme ones
    must come out as exact decimals too."""
    near = [min(base + t % (spread + 1), 2**63 - 1) for t in ts]
    enc = LineEncoder(["m-1"], ["g"])
    for values in (ts, near, [base] * 3):
        n = len(values)
        b = ReadingBatch("meter", np.zeros(n, np.int64), np.array(values, np.int64), {"power_kw": np.ones(n)})
        assert [line.rsplit(b" ", 1)[1] for line in enc.encode(b).splitlines()] == [b"%d" % v for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.floats(allow_nan=False, allow_infinity=False), st.booleans()),
                min_size=1, max_size=40),
       st.integers(0, 6))
def test_each_column_uses_the_fewest_places_every_value_of_it_needs(rows, places):
    """Per column: the fewest fractional digits (<= 6) that give every value back, trailing zeros dropped
    per value; so 2.5 next to 1.25 is still "2.5", and a value needing more than six places is its repr."""
    n = len(rows)
    col = np.array([round(v, places) if keep else np.nan for _, v, keep in rows])
    b = ReadingBatch("meter", np.array([s for s, _, _ in rows]), np.arange(n) + 1, {"power_kw": col})
    lines = LineEncoder(["m-0", "m-1", "m-2"], ["g", "g", "g"]).encode(b).decode().splitlines()
    assert len(lines) == int((~np.isnan(col)).sum())
    for line, v in zip(lines, col[~np.isnan(col)].tolist(), strict=True):
        text = line.split(" ")[1].split("=")[1]
        assert float(text) == v
        fraction = text.partition(".")[2]
        assert text == repr(v) or (len(fraction) <= places and not fraction.endswith("0")), text
