"""The line-protocol encoder: escaping, field patterns, precision, skipped rows."""

from __future__ import annotations

import numpy as np

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
        r"smoke,device_id=d-0,grid_id=g\ 0 smoke=0.5,co=3.0 1",
        r"smoke,device_id=d-0,grid_id=g\ 0 smoke=1e-05,co=1e+16 4",
        r"smoke,device_id=d-2,grid_id=网格\,2 co=12.0 3",
    ]  # row 2 has no field: no line; an empty grid id leaves the tag out


def test_series_keys_are_built_once_per_device():
    enc = LineEncoder(["d-0"], ["g"])
    b = ReadingBatch("meter", np.array([0, 0]), np.array([1, 2]), {"power_kw": np.array([1.5, 2.5])})
    enc.encode(b)
    enc._device_ids = ["changed"]  # a cached key is not rebuilt
    assert enc.encode(b).decode().startswith("meter,device_id=d-0,grid_id=g power_kw=1.5 1\n")


def test_empty_batch():
    assert LineEncoder([], []).encode(ReadingBatch.empty("wearable")) == b""
