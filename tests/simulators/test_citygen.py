import numpy as np

from core.city import ID_PATTERN, load_city
from gridwatch.cli import main
from simulators.citygen import ensure_builtin_city, generate_city


def test_same_seed_same_files_other_seed_differs(tmp_path):
    a = generate_city(tmp_path / "a", grids_per_town=6, seed=3)
    b = generate_city(tmp_path / "b", grids_per_town=6, seed=3)
    c = generate_city(tmp_path / "c", grids_per_town=6, seed=4)
    for f in ("grids.csv", "devices.csv", "workers.csv", "departments.csv"):
        assert (a / f).read_bytes() == (b / f).read_bytes()
    assert (a / "devices.csv").read_bytes() != (c / "devices.csv").read_bytes()


def test_generated_city_loads_with_the_shape_asked_for(tmp_path):
    d = generate_city(tmp_path / "city", districts=2, towns_per_district=3, grids_per_town=5,
                      devices_per_grid={"wearable": 2, "smoke": 1, "river_gauge": 0.5, "meter": 1}, seed=1)
    city = load_city(d)
    assert len(city.grids) == 30
    assert len(set(city.grids.town)) == 6 and len(set(city.grids.district)) == 2
    assert 30 * 4 <= len(city.devices) <= 30 * 5
    assert all(ID_PATTERN.fullmatch(i) for i in city.devices.ids)
    # Chongqing, and devices near their grid (a grid is ~400 m across)
    assert np.all(np.abs(city.devices.lat - 29.56) < 1.0) and np.all(np.abs(city.devices.lon - 106.55) < 1.5)
    gauges = np.flatnonzero(city.devices.kind == 2)
    warn = city.devices.param("warning_level", gauges, np.nan)
    assert np.all(city.devices.param("guarantee_level", gauges, np.nan) > warn) and np.all(warn > 0)
    assert (city.workers.role == "supervisor").sum() == 6


def test_builtin_town_has_the_demo_ingredients(tmp_path):
    city = load_city(ensure_builtin_city(tmp_path))
    assert city.describe() == "20 grids, 360 devices, 21 workers, 5 departments"
    assert set(city.departments) == {"medical-120", "traffic-police", "fire-119", "water-authority",
                                     "city-management"}
    first = city.devices.slot("wb-000001")
    assert city.devices.param("age", np.array([first]), 0).tolist() == [69]
    assert ensure_builtin_city(tmp_path) == tmp_path / "city"  # second call keeps the files


def test_cli_generate_city(tmp_path, capsys):
    assert main(["generate-city", str(tmp_path / "t"), "--grids", "3", "--devices", "wearable=2,meter=1"]) == 0
    assert load_city(tmp_path / "t").describe() == "3 grids, 9 devices, 4 workers, 5 departments"
    assert main(["generate-city", str(tmp_path / "x"), "--devices", "robot=1"]) == 2
    assert "unknown device kind" in capsys.readouterr().out
