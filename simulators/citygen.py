"""Generate a city directory (INTERFACES §3) of any size, deterministically for a seed.

The layout follows Chongqing's command ladder: districts on a lattice around
Jiefangbei, towns on a lattice inside each district, grids (~400 m apart) inside each
town, devices scattered ~100 m around their grid's centre. River gauges sit on a
river line through each town, so sorting a town's gauges by longitude walks
downstream. Each grid has its grid worker(s), each town one supervisor; the five
departments are always the same.

The first wearable of every generated city is the DOMAIN.md case: a 69-year-old man
living alone (``age`` 69), so the ``elderly-cardiac`` scenario works on any city.

Everything is built as numpy columns and written with one ``write`` per file, so a
1,000,000-device city takes seconds, not minutes.

>>> import tempfile
>>> from core.city import load_city
>>> d = generate_city(Path(tempfile.mkdtemp()) / "c", grids_per_town=4, seed=7)
>>> load_city(d).describe()
'4 grids, 72 devices, 5 workers, 5 departments'
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from core.kinds import KINDS
from simulators.names import person_names, place_name

CENTER = (29.5630, 106.5516)  # Jiefangbei, Chongqing (WGS84)
GRID_SPACING = 0.004  # degrees between grid centres (~400 m)
DEFAULT_DEVICES: dict[str, float] = {"wearable": 8, "smoke": 6, "river_gauge": 1, "meter": 3}
PREFIX = {"wearable": "wb", "smoke": "sm", "river_gauge": "rg", "meter": "mt"}
SKILLS = ("medical", "fire", "water", "electric", "elderly_care")
DEPARTMENTS = (
    ("medical-120", "Emergency Medical Centre (120)", "wearable;medical;cardiac;fall;hypoxemia"),
    ("traffic-police", "Traffic Police Command Centre", "escort;traffic"),
    ("fire-119", "Fire Brigade (119)", "smoke;fire"),
    ("water-authority", "Water Resources Bureau", "river_gauge;flood"),
    ("city-management", "City Management Bureau", "meter;enterprise;infrastructure"),
)
DEVICE_COLUMNS = "device_id,kind,grid_id,lat,lon,age,warning_level,guarantee_level,rated_kw,resident"
BUILTIN_SEED = 141  # the "141" system the project follows


def _lattice(n: int, spacing: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` jittered points on a square lattice centred on 0: shape (n, 2) as (dlat, dlon)."""
    side = math.ceil(math.sqrt(n))
    k = np.arange(n)
    pts = np.stack([k // side, k % side], axis=1).astype(np.float64) - (side - 1) / 2
    return (pts + rng.uniform(-0.2, 0.2, (n, 2))) * spacing


def _ids(prefix: str, n: int, width: int | None = None) -> list[str]:
    width = width or max(3, len(str(n)))
    return [f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)]


def _counts(mean: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Per-grid counts averaging ``mean`` (fractions spread at random), int64."""
    whole = math.floor(mean)
    return whole + (rng.random(n) < mean - whole).astype(np.int64)


def _grid_layout(districts: int, towns: int, grids: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    town_span = GRID_SPACING * (math.ceil(math.sqrt(grids)) + 1.5)
    district_span = town_span * (math.ceil(math.sqrt(towns)) + 0.5)
    d_off = _lattice(districts, district_span, rng)
    t_off = np.concatenate([_lattice(towns, town_span, rng) for _ in range(districts)])
    g_off = np.concatenate([_lattice(grids, GRID_SPACING, rng) for _ in range(districts * towns)])
    n_towns = districts * towns
    town_of_grid = np.repeat(np.arange(n_towns), grids)
    district_of_town = np.repeat(np.arange(districts), towns)
    pos = d_off[district_of_town][town_of_grid] + t_off[town_of_grid] + g_off
    return {
        "town": town_of_grid,
        "district": district_of_town[town_of_grid],
        "lat": CENTER[0] + pos[:, 0],
        "lon": CENTER[1] + pos[:, 1],
        "town_lat": CENTER[0] + (d_off[district_of_town] + t_off)[:, 0],
    }


def _write(path: Path, header: str, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        fh.write("\n".join(lines))
        if lines:
            fh.write("\n")


def _write_grids(path: Path, layout: dict[str, np.ndarray], grid_ids: list[str]) -> None:
    towns = _ids("t", int(layout["town"].max()) + 1)
    dists = _ids("d", int(layout["district"].max()) + 1, 2)
    lines = [
        f"{g},{towns[t]},{dists[d]},{la:.6f},{lo:.6f},{place_name(i)}"
        for i, (g, t, d, la, lo) in enumerate(
            zip(grid_ids, layout["town"].tolist(), layout["district"].tolist(),
                layout["lat"].tolist(), layout["lon"].tolist(), strict=True)
        )
    ]
    _write(path, "grid_id,town_id,district_id,lat,lon,name", lines)


def _kind_params(kind: str, n: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Per-device ``age,warning_level,guarantee_level,rated_kw`` cells and ``resident`` names."""
    blank = [",,,"] * n
    if kind == "wearable":
        elderly = rng.random(n) < 0.8  # "one old, one young": elderly living alone, left-behind children
        age = np.where(elderly, rng.integers(60, 93, n), rng.integers(6, 15, n))
        if n:
            age[0] = 69  # the DOMAIN.md case
        names = person_names(rng, n)
        if n:
            names[0] = "Wang Jianguo"
        return [f"{a},,," for a in age.tolist()], [f"{nm} ({a})" for nm, a in zip(names, age.tolist(), strict=True)]
    if kind == "river_gauge":
        warn = rng.uniform(3.5, 6.0, n)
        guarantee = warn + rng.uniform(1.0, 1.8, n)
        return [f",{w:.2f},{g:.2f}," for w, g in zip(warn.tolist(), guarantee.tolist(), strict=True)], [""] * n
    if kind == "meter":
        rated = np.round(rng.lognormal(math.log(80), 0.8, n), 1)
        return [f",,,{r}" for r in rated.tolist()], [""] * n
    return blank, [""] * n


def _device_lines(layout: dict[str, np.ndarray], grid_ids: list[str], per_grid: Mapping[str, float],
                  rng: np.random.Generator) -> list[str]:
    n_grids = len(grid_ids)
    lines: list[str] = []
    for kind in KINDS:
        counts = _counts(float(per_grid.get(kind, 0)), n_grids, rng)
        g = np.repeat(np.arange(n_grids), counts)
        n = len(g)
        lat = layout["lat"][g] + rng.normal(0, 0.0009, n)
        lon = layout["lon"][g] + rng.normal(0, 0.0011, n)
        if kind == "river_gauge":  # on the river: a meander through the town, south of its centre
            lat = layout["town_lat"][layout["town"][g]] - 0.002 + 0.0015 * np.sin(lon * 120.0)
        params, residents = _kind_params(kind, n, rng)
        ids = _ids(PREFIX[kind], n, 6 if n < 1_000_000 else 7)
        gids = [grid_ids[i] for i in g.tolist()]
        lines.extend(
            f"{d},{kind},{gi},{a:.6f},{o:.6f},{p},{r}"
            for d, gi, a, o, p, r in zip(ids, gids, lat.tolist(), lon.tolist(), params, residents, strict=True)
        )
    return lines


def _worker_lines(layout: dict[str, np.ndarray], grid_ids: list[str], per_grid: int,
                  rng: np.random.Generator) -> list[str]:
    n_grids = len(grid_ids)
    g = np.repeat(np.arange(n_grids), per_grid)
    first_of_town = np.flatnonzero(np.r_[True, layout["town"][1:] != layout["town"][:-1]])
    roles = ["worker"] * len(g) + ["supervisor"] * len(first_of_town)
    g = np.concatenate([g, first_of_town])
    n = len(g)
    ids = _ids("w", len(g) - len(first_of_town), 6) + _ids("s", len(first_of_town), 4)
    extra = rng.integers(0, len(SKILLS), n)
    skills = [
        "supervise;first_aid" if r == "supervisor" else f"first_aid;{SKILLS[e]}"
        for r, e in zip(roles, extra.tolist(), strict=True)
    ]
    lat = layout["lat"][g] + rng.normal(0, 0.0012, n)  # home locations
    lon = layout["lon"][g] + rng.normal(0, 0.0014, n)
    phone = rng.integers(10_000_000, 99_999_999, n)
    names = person_names(rng, n)
    return [
        f"{w},{nm},{grid_ids[gi]},{r},{s},{a:.6f},{o:.6f},138{p}"
        for w, nm, gi, r, s, a, o, p in zip(
            ids, names, g.tolist(), roles, skills, lat.tolist(), lon.tolist(), phone.tolist(), strict=True
        )
    ]


def generate_city(
    out_dir: str | Path,
    *,
    districts: int = 1,
    towns_per_district: int = 1,
    grids_per_town: int = 20,
    devices_per_grid: Mapping[str, float] | None = None,
    workers_per_grid: int = 1,
    seed: int = 0,
) -> Path:
    """Write grids/devices/workers/departments CSVs into ``out_dir`` and return it.

    ``devices_per_grid`` maps kind -> mean devices per grid (fractions allowed, e.g.
    ``{"river_gauge": 0.3}``); the same arguments and seed give byte-identical files.
    """
    if min(districts, towns_per_district, grids_per_town) < 1 or workers_per_grid < 1:
        raise ValueError("districts, towns_per_district, grids_per_town and workers_per_grid must be >= 1")
    per_grid = dict(DEFAULT_DEVICES if devices_per_grid is None else devices_per_grid)
    unknown = set(per_grid) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown device kind(s) {sorted(unknown)}; expected {', '.join(KINDS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    layout = _grid_layout(districts, towns_per_district, grids_per_town, rng)
    grid_ids = _ids("g", len(layout["lat"]), 6)
    _write_grids(out / "grids.csv", layout, grid_ids)
    _write(out / "devices.csv", DEVICE_COLUMNS, _device_lines(layout, grid_ids, per_grid, rng))
    _write(out / "workers.csv", "worker_id,name,grid_id,role,skills,lat,lon,phone",
           _worker_lines(layout, grid_ids, workers_per_grid, rng))
    _write(out / "departments.csv", "dept_id,name,handles", [",".join(d) for d in DEPARTMENTS])
    spec = {"districts": districts, "towns_per_district": towns_per_district, "grids_per_town": grids_per_town,
            "devices_per_grid": per_grid, "workers_per_grid": workers_per_grid, "seed": seed}
    (out / "generated.json").write_text(json.dumps(spec, indent=2) + "\n")
    return out


def ensure_builtin_city(data_dir: Path) -> Path:
    """The built-in demo town in ``data_dir/city``, generated once (atomically) if absent.

    One town of 20 grids, 360 devices, 21 workers; used when no ``--city`` is given.
    """
    target = Path(data_dir) / "city"
    if (target / "departments.csv").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".city-", dir=target.parent))
    try:
        generate_city(tmp, grids_per_town=20, seed=BUILTIN_SEED)
        os.replace(tmp, target)
    except OSError:
        if not (target / "departments.csv").is_file():  # lost a race only if the winner finished
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
