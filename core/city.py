"""The city directory (INTERFACES §3) as columns: grids, devices, workers, departments.

A city can hold a million devices, so each table is a set of numpy columns plus one
``id -> slot`` dict, never an object per row. Rows keep extra CSV columns: numeric
ones of devices become per-device parameters (e.g. a river gauge's
``warning_level``), which detectors read as overrides of their defaults.

Every problem in a file is reported as a ``CityError`` naming file, line, column and
reason, so whoever edits the CSV can fix it without reading code.

>>> city = load_city("tests/data/city-small")
>>> city.devices.slot("wb-0001"), city.describe()
(0, '4 grids, 11 devices, 7 workers, 5 departments')
"""

from __future__ import annotations

import csv
import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.kinds import KINDS

ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
ROLES = ("worker", "supervisor")


class CityError(ValueError):
    """A problem in a city file, located precisely."""

    def __init__(self, file: str, line: int | None, column: str | None, reason: str) -> None:
        self.file, self.line, self.column, self.reason = file, line, column, reason
        where = file
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {reason}")


@dataclass(slots=True)
class Table:
    """Columns of one CSV file with an id column and its id -> slot index."""

    ids: np.ndarray  # object (str)
    index: dict[str, int]
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # kept extra columns

    def __len__(self) -> int:
        return len(self.ids)

    def slot(self, id_: str) -> int:
        """Slot of an id, or -1 if unknown."""
        return self.index.get(id_, -1)

    def slots(self, ids: Iterable[str]) -> np.ndarray:
        """Slots of many ids (int64), -1 where unknown."""
        get = self.index.get
        return np.fromiter((get(i, -1) for i in ids), dtype=np.int64)


@dataclass(slots=True)
class Grids(Table):
    town: np.ndarray = field(default_factory=lambda: np.empty(0, object))
    district: np.ndarray = field(default_factory=lambda: np.empty(0, object))
    lat: np.ndarray = field(default_factory=lambda: np.empty(0))
    lon: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass(slots=True)
class Devices(Table):
    kind: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))  # KIND_CODE
    grid: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))  # slot in Grids
    lat: np.ndarray = field(default_factory=lambda: np.empty(0))
    lon: np.ndarray = field(default_factory=lambda: np.empty(0))
    params: dict[str, np.ndarray] = field(default_factory=dict)  # numeric extras, NaN=blank

    def param(self, name: str, slots: np.ndarray, default: float) -> np.ndarray:
        """Per-device parameter for ``slots``: the CSV value where given, else ``default``."""
        col = self.params.get(name)
        if col is None:
            return np.full(len(slots), float(default))
        vals = col[slots]
        return np.where(np.isnan(vals), float(default), vals)

    def kind_name(self, slot: int) -> str:
        return KINDS[int(self.kind[slot])]


@dataclass(slots=True)
class Workers(Table):
    name: np.ndarray = field(default_factory=lambda: np.empty(0, object))
    grid: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    role: np.ndarray = field(default_factory=lambda: np.empty(0, object))
    skills: np.ndarray = field(default_factory=lambda: np.empty(0, object))  # frozenset[str]
    lat: np.ndarray = field(default_factory=lambda: np.empty(0))
    lon: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass(frozen=True, slots=True)
class Department:
    dept_id: str
    name: str
    handles: frozenset[str]


@dataclass(slots=True)
class City:
    grids: Grids
    devices: Devices
    workers: Workers
    departments: dict[str, Department]
    source: str = "<memory>"

    def device_grid_id(self, device_slot: int) -> str:
        return str(self.grids.ids[self.devices.grid[device_slot]])

    def describe(self) -> str:
        return (
            f"{len(self.grids)} grids, {len(self.devices)} devices, "
            f"{len(self.workers)} workers, {len(self.departments)} departments"
        )


# --------------------------------------------------------------------------- loading


def _read(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    name = path.name
    if not path.is_file():
        raise CityError(name, None, None, f"file not found in {path.parent}")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CityError(name, 1, None, "empty file: a header row is required") from None
        rows = list(reader)
    missing = [c for c in required if c not in header]
    if missing:
        raise CityError(name, 1, ", ".join(missing), "required column missing from header")
    width = len(header)
    for i, row in enumerate(rows):
        if len(row) != width:
            if not row:
                raise CityError(name, i + 2, None, "blank line inside the file")
            raise CityError(name, i + 2, None, f"{len(row)} fields, header has {width}")
    return header, rows


def _columns(header: list[str], rows: list[list[str]]) -> dict[str, np.ndarray]:
    if not rows:
        return {h: np.empty(0, object) for h in header}
    cols = list(zip(*rows, strict=True))
    return {h: np.array(c, dtype=object) for h, c in zip(header, cols, strict=True)}


def _floats(file: str, col: str, values: np.ndarray, blank_ok: bool = False) -> np.ndarray:
    try:
        if blank_ok:
            values = np.where(values == "", "nan", values)
        return values.astype(np.float64)
    except ValueError:
        for i, v in enumerate(values):
            try:
                float(v)
            except ValueError:
                raise CityError(file, i + 2, col, f"{v!r} is not a number") from None
        raise


def _check_range(file: str, col: str, vals: np.ndarray, lo: float, hi: float) -> None:
    bad = np.flatnonzero(~((vals >= lo) & (vals <= hi)))
    if len(bad):
        i = int(bad[0])
        raise CityError(file, i + 2, col, f"{vals[i]} outside [{lo}, {hi}]")


def _ids(file: str, col: str, values: np.ndarray) -> dict[str, int]:
    index: dict[str, int] = {}
    match = ID_PATTERN.fullmatch
    for i, v in enumerate(values):
        if not match(v):
            raise CityError(file, i + 2, col, f"{v!r} is not an id ([A-Za-z0-9._-]{{1,64}})")
        if index.setdefault(v, i) != i:
            raise CityError(file, i + 2, col, f"duplicate id {v!r} (first on line {index[v] + 2})")
    return index


def _refs(file: str, col: str, values: np.ndarray, target: Table, what: str) -> np.ndarray:
    slots = target.slots(values)
    bad = np.flatnonzero(slots < 0)
    if len(bad):
        i = int(bad[0])
        raise CityError(file, i + 2, col, f"unknown {what} {values[i]!r}")
    return slots.astype(np.int32)


def _latlon(file: str, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lat = _floats(file, "lat", cols["lat"])
    lon = _floats(file, "lon", cols["lon"])
    _check_range(file, "lat", lat, -90.0, 90.0)
    _check_range(file, "lon", lon, -180.0, 180.0)
    return lat, lon


def load_grids(path: Path) -> Grids:
    required = ("grid_id", "town_id", "district_id", "lat", "lon")
    header, rows = _read(path, required)
    cols = _columns(header, rows)
    index = _ids(path.name, "grid_id", cols["grid_id"])
    lat, lon = _latlon(path.name, cols)
    extra = {h: cols[h] for h in header if h not in required}
    return Grids(cols["grid_id"], index, extra, cols["town_id"], cols["district_id"], lat, lon)


def load_devices(path: Path, grids: Grids) -> Devices:
    required = ("device_id", "kind", "grid_id", "lat", "lon")
    header, rows = _read(path, required)
    cols = _columns(header, rows)
    index = _ids(path.name, "device_id", cols["device_id"])
    kinds = np.empty(len(rows), np.int8)
    for code, kind in enumerate(KINDS):
        kinds[cols["kind"] == kind] = code
    known = np.isin(cols["kind"], np.array(KINDS, dtype=object))
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise CityError(
            path.name, i + 2, "kind", f"unknown kind {cols['kind'][i]!r} (expected {', '.join(KINDS)})"
        )
    grid = _refs(path.name, "grid_id", cols["grid_id"], grids, "grid")
    lat, lon = _latlon(path.name, cols)
    params, extra = {}, {}
    for h in header:
        if h in required:
            continue
        try:
            params[h] = _floats(path.name, h, cols[h], blank_ok=True)
        except CityError:
            extra[h] = cols[h]  # a text column: kept, not a parameter
    return Devices(cols["device_id"], index, extra, kinds, grid, lat, lon, params)


def load_workers(path: Path, grids: Grids) -> Workers:
    required = ("worker_id", "name", "grid_id", "role", "skills", "lat", "lon")
    header, rows = _read(path, required)
    cols = _columns(header, rows)
    index = _ids(path.name, "worker_id", cols["worker_id"])
    grid = _refs(path.name, "grid_id", cols["grid_id"], grids, "grid")
    for i, role in enumerate(cols["role"]):
        if role not in ROLES:
            raise CityError(path.name, i + 2, "role", f"{role!r} is not one of {', '.join(ROLES)}")
    skills = np.array(
        [frozenset(s.strip() for s in v.split(";") if s.strip()) for v in cols["skills"]],
        dtype=object,
    )
    lat, lon = _latlon(path.name, cols)
    extra = {h: cols[h] for h in header if h not in required}
    return Workers(cols["worker_id"], index, extra, cols["name"], grid, cols["role"], skills, lat, lon)


def load_departments(path: Path) -> dict[str, Department]:
    header, rows = _read(path, ("dept_id", "name", "handles"))
    pos = {h: header.index(h) for h in ("dept_id", "name", "handles")}
    out: dict[str, Department] = {}
    for i, row in enumerate(rows):
        dept_id = row[pos["dept_id"]]
        if not ID_PATTERN.fullmatch(dept_id):
            raise CityError(path.name, i + 2, "dept_id", f"{dept_id!r} is not an id")
        if dept_id in out:
            raise CityError(path.name, i + 2, "dept_id", f"duplicate id {dept_id!r}")
        handles = frozenset(h.strip() for h in row[pos["handles"]].split(";") if h.strip())
        out[dept_id] = Department(dept_id, row[pos["name"]], handles)
    return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Parsing makes millions of short-lived row lists that trigger full collections
    over and over; pausing the collector halves the load of a 1M-device city."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_city(directory: str | Path) -> City:
    """Load and validate a city directory; raises ``CityError`` on the first problem."""
    d = Path(directory)
    if not d.is_dir():
        raise CityError(str(d), None, None, "city directory not found")
    with _collector_paused():
        grids = load_grids(d / "grids.csv")
        devices = load_devices(d / "devices.csv", grids)
        workers = load_workers(d / "workers.csv", grids)
        departments = load_departments(d / "departments.csv")
    return City(grids, devices, workers, departments, source=str(d))
