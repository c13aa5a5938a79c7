"""Detector configuration: which detectors run per kind, and their parameters.

Strict: an unknown key or a wrong type is an error naming the key, so a typo never
falls back to a default silently. ``detectors/default_config.toml`` is the annotated
example and equals the built-in defaults. Sources of the defaults are cited in the
docstrings of the detectors that use them.

>>> cfg = DetectorConfig()
>>> cfg.wearable.detectors, cfg.timezone
(['heart', 'spo2', 'fall', 'silence'], 'Asia/Shanghai')
>>> parse_detector_config({"wearable": {"heart": {"drop_red": "x"}}})
Traceback (most recent call last):
...
detectors.config.DetectorConfigError: invalid detector config: wearable.heart.drop_red: Input should be...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from core.config_files import StrictModel, read_toml, validate_model

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")


class DetectorConfigError(ValueError):
    """A detector configuration that cannot be used; the message names the key."""


class Timing(StrictModel):
    """How long a condition must hold before firing, and be gone before resolving."""

    for_s: float = Field(0.0, ge=0)
    clear_for_s: float = Field(0.0, ge=0)


def _t(for_s: float, clear_for_s: float) -> Any:
    return Field(default_factory=lambda: Timing(for_s=for_s, clear_for_s=clear_for_s))


class HeartConfig(StrictModel):
    warmup_readings: int = Field(10, ge=1)
    warmup_s: float = Field(600.0, ge=0, description="history needed before the baseline is trusted")
    baseline_tau_s: float = Field(1800.0, gt=0)
    learn_band: float = Field(0.2, gt=0, description="readings further from the baseline are not learned")
    rise_tau_factor: float = Field(4.0, ge=1, description="the baseline rises this many times slower than it falls")
    stuck_readings: int = Field(30, ge=2, description="this many identical readings in a row: a frozen sensor")
    drop_orange: float = Field(0.25, gt=0, lt=1)
    drop_red: float = Field(0.35, gt=0, lt=1)
    drop_clear: float = Field(0.15, ge=0, lt=1)
    brady_yellow_bpm: float = 50.0
    brady_orange_bpm: float = 40.0
    brady_clear_bpm: float = 55.0
    tachy_yellow_bpm: float = 120.0
    tachy_orange_bpm: float = 150.0
    tachy_clear_bpm: float = 100.0
    min_valid_bpm: float = Field(20.0, description="below this a wrist sensor has no pulse contact")
    hr_drop: Timing = _t(12, 60)
    bradycardia: Timing = _t(300, 120)
    tachycardia: Timing = _t(900, 300)


class Spo2Config(StrictModel):
    warmup_readings: int = Field(3, ge=1)
    orange_below: float = 90.0
    red_below: float = 85.0
    clear_at: float = 93.0
    min_valid: float = Field(50.0, description="lower readings are sensor faults, not physiology")
    spo2_low: Timing = _t(30, 60)


class FallConfig(StrictModel):
    warmup_readings: int = Field(1, ge=1)
    fall: Timing = _t(25, 0)


class SilenceConfig(StrictModel):
    warmup_readings: int = Field(1, ge=1)
    day_after_s: float = Field(1800.0, gt=0, description="daytime silence before an alert")
    night_after_s: float = Field(10800.0, gt=0, description="night-time silence before an alert (bands charge)")
    min_valid_bpm: float = Field(20.0, description="a heart rate below this is no contact, not a reading")
    no_signal: Timing = _t(0, 0)


class FireConfig(StrictModel):
    warmup_readings: int = Field(2, ge=1)
    smoke_alarm: float = Field(8.0, gt=0, description="obscuration %/m")
    smoke_dense: float = Field(20.0, gt=0)
    smoke_clear: float = Field(3.0, ge=0)
    heat_static_c: float = 58.0
    heat_clear_c: float = 50.0
    ror_c_per_min: float = Field(10.0, gt=0)
    fire_smoke: float = Field(4.0, gt=0, description="obscuration %/m that, with heat or CO, is fire")
    fire_ror_c_per_min: float = Field(6.0, gt=0, description="rate of rise that, with smoke, is fire")
    ror_tau_s: float = Field(15.0, gt=0)
    co_fire_ppm: float = 50.0
    co_tau_s: float = Field(960.0, gt=0)
    co_alarm_equiv_ppm: float = 49.0
    co_clear_equiv_ppm: float = 30.0
    co_red_ppm: float = 200.0
    fire: Timing = _t(10, 120)
    smoke: Timing = _t(30, 60)
    heat: Timing = _t(20, 120)
    co: Timing = _t(0, 300)


class RiverLevelConfig(StrictModel):
    warmup_readings: int = Field(10, ge=2)
    warning_level: float = Field(float("nan"), description="m; per gauge from devices.csv")
    guarantee_level: float = Field(float("nan"), description="m; per gauge from devices.csv")
    level_tau_s: float = Field(300.0, gt=0)
    slope_tau_s: float = Field(600.0, gt=0)
    lead_s: float = Field(3600.0, gt=0, description="warn when projected to reach the warning level within this")
    min_rise_m_per_h: float = Field(0.05, ge=0)
    fast_rise_m_per_h: float = Field(0.3, gt=0)
    hysteresis_m: float = Field(0.05, ge=0)
    level: Timing = _t(120, 600)
    projected: Timing = _t(300, 1800)
    rise_rate: Timing = _t(600, 1800)


class StuckConfig(StrictModel):
    warmup_readings: int = Field(1, ge=1)
    tolerance: float = Field(1e-4, ge=0)
    stuck: Timing = _t(21600, 0)


class ProfileConfig(StrictModel):
    warmup_weeks: int = Field(2, ge=1, le=200)
    learn_rate: float = Field(0.2, gt=0, lt=1, description="floor of the hour-of-week level's update weight")
    scale_rate: float = Field(0.02, gt=0, lt=1)
    learn_every_s: float = Field(900.0, gt=0, description="the rates are per reading at this interval")
    min_scale_kw: float = Field(1.0, gt=0)
    blue_z: float = 4.0
    yellow_z: float = 6.0
    clear_z: float = 3.0
    stop_fraction: float = Field(0.05, ge=0, lt=1)
    stop_min_kw: float = Field(5.0, ge=0, description="only meters expected to draw this much can 'stop'")
    profile: Timing = _t(1800, 1800)
    stop: Timing = _t(900, 900)


class IForestConfig(StrictModel):
    warmup_readings: int = Field(20, ge=2)
    level_tau_s: float = Field(86400.0, gt=0)
    n_estimators: int = Field(100, ge=10, le=1000)
    reservoir: int = Field(20000, ge=100)
    sample_every: int = Field(7, ge=1, description="keep every k-th reading for training")
    min_fit_samples: int = Field(2000, ge=50)
    refit_every_samples: int = Field(10000, ge=1, description="new samples between refits")
    refit_every_s: float = Field(3600.0, ge=0, description="event time between refits")
    blue_score: float = Field(0.68, gt=0, lt=1)
    yellow_score: float = Field(0.78, gt=0, lt=1)
    clear_score: float = Field(0.6, gt=0, lt=1)
    seed: int = 7
    background: bool = Field(True, description="refit on a background thread; false = only on refit()")
    iforest: Timing = _t(1800, 1800)


class CounterConfig(StrictModel):
    warmup_readings: int = Field(1, ge=1)
    tolerance_kwh: float = Field(0.01, ge=0)
    counter_reset: Timing = _t(0, 0)


class GenericConfig(StrictModel):
    warmup_readings: int = Field(30, ge=2)
    halflife_readings: float = Field(200.0, gt=1)
    huber_k: float = Field(3.0, gt=0)
    min_rel_scale: float = Field(1e-3, ge=0)
    blue_z: float = 5.0
    yellow_z: float = 8.0
    clear_z: float = 3.0
    anomaly: Timing = _t(60, 60)


class KindConfig(StrictModel):
    detectors: list[str]
    generic_fields: list[str] = Field(default_factory=list, description="extra fields scored by 'generic'")
    generic: GenericConfig = Field(default_factory=GenericConfig)


class WearableConfig(KindConfig):
    detectors: list[str] = Field(default_factory=lambda: ["heart", "spo2", "fall", "silence"])
    heart: HeartConfig = Field(default_factory=HeartConfig)
    spo2: Spo2Config = Field(default_factory=Spo2Config)
    fall: FallConfig = Field(default_factory=FallConfig)
    silence: SilenceConfig = Field(default_factory=SilenceConfig)


class SmokeConfig(KindConfig):
    detectors: list[str] = Field(default_factory=lambda: ["fire"])
    fire: FireConfig = Field(default_factory=FireConfig)


class RiverConfig(KindConfig):
    detectors: list[str] = Field(default_factory=lambda: ["level", "stuck"])
    level: RiverLevelConfig = Field(default_factory=RiverLevelConfig)
    stuck: StuckConfig = Field(default_factory=StuckConfig)


class MeterConfig(KindConfig):
    detectors: list[str] = Field(default_factory=lambda: ["profile", "iforest", "counter"])
    profile: ProfileConfig = Field(default_factory=ProfileConfig)
    iforest: IForestConfig = Field(default_factory=IForestConfig)
    counter: CounterConfig = Field(default_factory=CounterConfig)


class DetectorConfig(StrictModel):
    timezone: str = Field("Asia/Shanghai", description="local time for night rules and hour-of-week profiles")
    night_start_hour: int = Field(22, ge=0, le=23)
    night_end_hour: int = Field(6, ge=0, le=23)
    flap_window_s: float = Field(900.0, ge=0)
    flap_doublings: int = Field(3, ge=0, le=8)
    wearable: WearableConfig = Field(default_factory=WearableConfig)
    smoke: SmokeConfig = Field(default_factory=SmokeConfig)
    river_gauge: RiverConfig = Field(default_factory=RiverConfig)
    meter: MeterConfig = Field(default_factory=MeterConfig)
    generic: GenericConfig = Field(default_factory=GenericConfig, description="for `detect --kind generic`")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from None
        return v

    def kind(self, kind: str) -> KindConfig:
        return getattr(self, kind)


def parse_detector_config(data: dict[str, Any], source: str = "detector config") -> DetectorConfig:
    """Validate a mapping; errors name the dotted key."""
    return validate_model(DetectorConfig, data, f"invalid {source}", DetectorConfigError)


def load_detector_config(path: str | Path | None = None) -> DetectorConfig:
    """Read a TOML file (``None``: the shipped defaults) into a validated ``DetectorConfig``."""
    p = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    return parse_detector_config(read_toml(p, "detector config", DetectorConfigError), f"detector config {p}")
