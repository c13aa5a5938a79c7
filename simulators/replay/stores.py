"""Readings for a time window from where gridwatch stored them: InfluxDB v1 or v2, the embedded store.

Windows are read in slices of simulated time (an hour by default) and every kind of a
slice is read before the next slice, so the detectors see time move forward across
kinds, as they did live. Rows of devices the city does not know are skipped and
counted under ``unknown_device``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from core.batch import ReadingBatch
from core.city import City
from core.kinds import KINDS, field_names
from simulators.replay.files import read_rows

SLICE_MS = 3_600_000


def slices(start_ms: int, end_ms: int, step_ms: int = SLICE_MS) -> Iterator[tuple[int, int]]:
    a = start_ms
    while a < end_ms:
        yield a, min(a + step_ms, end_ms)
        a += step_ms


def _series_rows(series: list[dict[str, Any]]) -> Iterator[tuple[int, str, dict[str, float]]]:
    for s in series:
        cols = s["columns"]
        tags = s.get("tags") or {}
        ti = cols.index("time")
        di = cols.index("device_id") if "device_id" in cols else None
        fields = [(i, c) for i, c in enumerate(cols) if c not in ("time", "device_id", "grid_id")]
        for row in s["values"]:
            dev = row[di] if di is not None else tags.get("device_id", "")
            yield int(row[ti]), str(dev), {c: float(row[i]) for i, c in fields if isinstance(row[i], int | float)}


def influx_v1(url: str, db: str, city: City, start_ms: int, end_ms: int, counts: Counter[str],
              auth: str | None = None, kinds: Iterable[str] = KINDS) -> Iterator[ReadingBatch]:
    """InfluxDB 1.x ``/query`` with ``chunked=true``; the measurement is the kind."""
    params: dict[str, str] = {"db": db, "epoch": "ms", "chunked": "true", "chunk_size": "20000"}
    if auth:
        params["u"], _, params["p"] = auth.partition(":")
    with httpx.Client(base_url=url.rstrip("/"), timeout=120) as http:
        for a, b in slices(start_ms, end_ms):
            for kind in kinds:
                fields = ", ".join(f'"{f}"' for f in field_names(kind))
                q = f'SELECT "device_id", {fields} FROM "{kind}" WHERE time >= {a}ms AND time < {b}ms'
                with http.stream("GET", "/query", params={**params, "q": q}) as r:
                    r.raise_for_status()
                    rows = (row for line in r.iter_lines() if line.strip()
                            for res in orjson.loads(line).get("results", [])
                            for row in _checked(res))
                    yield from read_rows(rows, city, a, b, counts)


def _checked(res: dict[str, Any]) -> Iterator[tuple[int, str, dict[str, float]]]:
    if "error" in res:
        raise RuntimeError(f"InfluxDB query failed: {res['error']}")
    return _series_rows(res.get("series", []))


def influx_v2(url: str, bucket: str, org: str | None, token: str | None, city: City, start_ms: int, end_ms: int,
              counts: Counter[str], kinds: Iterable[str] = KINDS) -> Iterator[ReadingBatch]:
    """InfluxDB 2.x/3.x/Cloud through influxdb-client's streaming Flux query API."""
    from influxdb_client import InfluxDBClient

    with InfluxDBClient(url=url, token=token or "", org=org) as client:
        api = client.query_api()
        for a, b in slices(start_ms, end_ms):
            for kind in kinds:
                flux = (f'from(bucket: "{bucket}") |> range(start: time(v: {a * 1_000_000}), '
                        f'stop: time(v: {b * 1_000_000})) |> filter(fn: (r) => r._measurement == "{kind}") '
                        '|> pivot(rowKey: ["_time", "device_id"], columnKey: ["_field"], valueColumn: "_value")')
                names = field_names(kind)
                rows = ((_ms(rec.values["_time"]), str(rec.values.get("device_id")),
                         {f: float(rec.values[f]) for f in names if rec.values.get(f) is not None})
                        for rec in api.query_stream(flux, org=org))
                yield from read_rows(rows, city, a, b, counts)


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


def embedded(data_dir: Path, city: City, start_ms: int, end_ms: int, kinds: Iterable[str] | None = None
             ) -> Iterator[ReadingBatch]:
    """The embedded store's readings (``ingest.embedded_store``, ``DATA_DIR/store``), already as batches."""
    try:
        from ingest.embedded_store import EmbeddedStore
    except ImportError as exc:
        raise RuntimeError(f"the embedded store is not available in this build ({exc})") from None
    store = EmbeddedStore.open(data_dir, city)
    try:
        for a, b in slices(start_ms, end_ms):
            yield from store.read(a, b, kinds=list(kinds) if kinds else None)
    finally:
        store.close()
