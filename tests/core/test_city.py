import shutil
from pathlib import Path

import numpy as np
import pytest

from core.city import CityError, load_city
from core.kinds import kind_code


def test_small_city_loads_columns(small_city):
    d = small_city.devices
    slot = d.slot("rg-0001")
    assert d.kind_name(slot) == "river_gauge"
    assert small_city.device_grid_id(slot) == "g-003"
    assert d.param("warning_level", np.array([slot]), 9.9).tolist() == [4.5]
    assert d.param("warning_level", np.array([d.slot("wb-0001")]), 9.9).tolist() == [9.9]
    assert d.extra["resident"][d.slot("wb-0001")].startswith("Wang")
    assert d.slots(["wb-0001", "nope"]).tolist() == [0, -1]
    assert d.kind[d.slot("sm-0001")] == kind_code("smoke")
    assert "medical" in small_city.workers.skills[small_city.workers.slot("w-001")]
    assert "fire" in small_city.departments["fire-119"].handles


def _broken(tmp_path: Path, small_city_dir: Path, file: str, old: str, new: str) -> Path:
    city = tmp_path / "city"
    shutil.copytree(small_city_dir, city)
    p = city / file
    p.write_text(p.read_text().replace(old, new, 1))
    return city


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "column", "words"),
    [
        ("devices.csv", "wb-0002,wearable", "wb-0002,wearabel", 3, "kind", "unknown kind 'wearabel'"),
        ("devices.csv", "sm-0003,smoke,g-002", "sm-0003,smoke,g-999", 8, "grid_id", "unknown grid 'g-999'"),
        ("devices.csv", "wb-0003,wearable,g-002,29.5657", "wb-0003,wearable,g-002,north", 4, "lat", "not a number"),
        ("devices.csv", "wb-0004,", "wb 0004,", 5, "device_id", "is not an id"),
        ("devices.csv", "sm-0001,", "wb-0001,", 6, "device_id", "duplicate id 'wb-0001' (first on line 2)"),
        ("grids.csv", "29.5600,106.5530", "129.5600,106.5530", 4, "lat", "outside [-90.0, 90.0]"),
        ("workers.csv", ",worker,fire", ",boss,fire", 3, "role", "'boss' is not one of worker, supervisor"),
    ],
)
def test_bad_row_names_file_line_column_reason(tmp_path, small_city_dir, file, old, new, line, column, words):
    with pytest.raises(CityError) as err:
        load_city(_broken(tmp_path, small_city_dir, file, old, new))
    e = err.value
    assert (e.file, e.line, e.column) == (file, line, column)
    assert words in str(e)
    assert str(e).startswith(f"{file} line {line}, column {column}:")


def test_missing_file_and_column(tmp_path, small_city_dir):
    city = tmp_path / "city"
    shutil.copytree(small_city_dir, city)
    (city / "workers.csv").unlink()
    with pytest.raises(CityError, match="workers.csv: file not found"):
        load_city(city)
    shutil.copy(small_city_dir / "workers.csv", city)
    (city / "grids.csv").write_text("grid_id,town_id,lat,lon\n")
    with pytest.raises(CityError, match="column district_id: required column missing"):
        load_city(city)
