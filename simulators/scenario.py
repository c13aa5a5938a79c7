"""Scenario files: which city, which incidents and faults, how workers behave, how long, how fast.

TOML, validated strictly: an unknown key or a bad value is an error that names the
key (``incidents.0.type: Input should be 'cardiac', 'fall', ...``), so a typo never
silently becomes a default. Durations are seconds or text like ``"90s"``, ``"5m"``,
``"2h"``, ``"1d"``. Built-in scenarios live in ``simulators/scenarios/*.toml``;
``annotated.toml`` there documents every key.

>>> s = load_scenario("elderly-cardiac")
>>> s.name, s.incidents[0].type, s.incidents[0].device
('elderly-cardiac', 'cardiac', 'wb-000001')
>>> parse_duration("1h30m"), parse_duration(45)
(5400.0, 45.0)
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from core.config_files import StrictModel, validate_model
from simulators.faults import FAULTS

KindName = Literal["wearable", "smoke", "river_gauge", "meter"]
IncidentType = Literal["cardiac", "fall", "hypoxemia", "fire", "flood", "meter_anomaly"]
FaultType = Literal[FAULTS]  # type: ignore[valid-type]
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")


class ScenarioError(ValueError):
    """A scenario that cannot run; the message names the file and the key."""


def parse_duration(v: Any) -> float:
    """Seconds from a number or text such as ``"2h"``, ``"1h30m"``, ``"90s"``."""
    if isinstance(v, bool):
        raise ValueError("a duration is a number of seconds or text like '5m'")
    if isinstance(v, int | float):
        if v < 0:
            raise ValueError("a duration cannot be negative")
        return float(v)
    text = str(v).strip().replace(" ", "")
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{v!r} is not a duration (e.g. 90, '90s', '5m', '1h30m', '2d')")
    return sum(float(n) * _UNITS[u] for n, u in parts)


Duration = Annotated[float, BeforeValidator(parse_duration)]


class GenerateSpec(StrictModel):
    districts: int = Field(1, ge=1)
    towns_per_district: int = Field(1, ge=1)
    grids_per_town: int = Field(20, ge=1)
    devices_per_grid: dict[KindName, float] | None = None
    workers_per_grid: int = Field(1, ge=1)
    seed: int = 0


class CitySpec(StrictModel):
    """Exactly one of: the built-in demo town (default), a directory, generated parameters."""

    builtin: bool = False
    dir: Path | None = None
    generate: GenerateSpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> CitySpec:
        if sum([self.builtin, self.dir is not None, self.generate is not None]) > 1:
            raise ValueError("give only one of builtin, dir, generate")
        return self


class IncidentSpec(StrictModel):
    type: IncidentType
    at: Duration = Field(description="onset, after the scenario start")
    duration: Duration = 1800.0
    device: str | None = Field(None, description="where it happens; none = chosen from the seed")
    rate_mm_h: float = Field(35.0, gt=0, le=200, description="flood only: rain intensity")
    rain: Duration = Field(10800.0, description="flood only: how long it rains")


class FaultSpec(StrictModel):
    type: FaultType
    at: Duration
    duration: Duration = 600.0
    device: str | None = None
    kind: KindName | None = Field(None, description="when no device is named; default wearable")


class StormSpec(StrictModel):
    at: Duration
    duration: Duration
    rate_mm_h: float = Field(gt=0, le=200)
    towns: list[str] = Field(default_factory=list, description="town ids; empty = everywhere")


class WorkersSpec(StrictModel):
    enabled: bool = True
    accept_delay: tuple[Duration, Duration] = (10.0, 40.0)
    travel_speed_kmh: float = Field(15.0, gt=0, le=200)
    no_answer_probability: float = Field(0.1, ge=0, le=1)
    on_site_time: tuple[Duration, Duration] = (120.0, 300.0)
    location_every: Duration = 15.0


class PublishSpec(StrictModel):
    form: Literal["gateway", "device"] = "gateway"
    kinds: list[KindName] = Field(default_factory=lambda: ["wearable", "smoke", "river_gauge", "meter"])
    intervals: dict[KindName, list[Annotated[float, Field(gt=0)]]] = Field(default_factory=dict)
    step: Duration = Field(1.0, gt=0, description="simulated seconds per publishing step")
    warmup: Duration = Field(0.0, description="history published at once before the start (detector baselines)")
    warmup_kinds: dict[KindName, Duration] = Field(default_factory=dict,
                                                   description="longer history for some kinds (meters: weeks)")


class ContinuousSpec(StrictModel):
    every: Duration = Field(gt=0)
    first: Duration = 60.0
    types: list[IncidentType] = Field(min_length=1)
    faults: list[FaultType] = Field(default_factory=list)
    incident_duration: Duration = 900.0


class Scenario(StrictModel):
    name: str
    description: str = ""
    seed: int = 0
    start: dt.datetime | None = Field(None, description="simulated start (with zone); none = now")
    duration: Duration = Field(description="0 = run until stopped (needs [continuous])")
    speed: float = Field(1.0, gt=0, le=100_000)
    city: CitySpec = Field(default_factory=lambda: CitySpec(builtin=True))
    publish: PublishSpec = Field(default_factory=PublishSpec)
    workers: WorkersSpec = Field(default_factory=WorkersSpec)
    incidents: list[IncidentSpec] = Field(default_factory=list)
    faults: list[FaultSpec] = Field(default_factory=list)
    storms: list[StormSpec] = Field(default_factory=list)
    continuous: ContinuousSpec | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Scenario:
        if self.duration == 0 and self.continuous is None:
            raise ValueError("duration 0 (run until stopped) needs a [continuous] table")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2024-11-22T08:00:00+08:00")
        return self


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    return validate_model(Scenario, data, source, ScenarioError)


def builtin_names() -> list[str]:
    root = resources.files("simulators") / "scenarios"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml") and p.name != "annotated.toml")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario from a TOML file, or a built-in one by name (``elderly-cardiac``, ``demo``...)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError(f"{path}: scenario file not found")
        text, source = path.read_text(encoding="utf-8"), str(path)
    else:
        res = resources.files("simulators") / "scenarios" / f"{name_or_path}.toml"
        if not res.is_file():
            raise ScenarioError(f"no built-in scenario {str(name_or_path)!r}; built-in: {', '.join(builtin_names())}")
        text, source = res.read_text(encoding="utf-8"), f"built-in {name_or_path}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return parse_scenario(data, source)
