"""The alerts configuration: one strict model, loaded from TOML.

The annotated default ships as ``alerts/default_config.toml``; ``Settings.alerts_config``
names a replacement. Unknown keys and wrong types are errors that name the key.

>>> cfg = load_config()
>>> cfg.escalation["red"].accept_s, cfg.departments_for("wearable", Severity.RED)
(60.0, ['medical-120', 'traffic-police'])
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from alerts.errors import ConfigError
from core.config_files import StrictModel, read_toml, validate_model
from core.severity import Severity

DEFAULT_PATH = Path(__file__).parent / "default_config.toml"
STEPS = ("next_worker", "supervisor", "command_center", "departments")


class IncidentsConfig(StrictModel):
    window_s: float = Field(900, gt=0)
    building_m: float = Field(60, ge=0)
    river_m: float = Field(3000, ge=0)
    river_column: str = "river"


class RoutingConfig(StrictModel):
    neighbour_grids: int = Field(3, ge=0)
    speed_m_s: float = Field(4.0, gt=0)
    red_backup: bool = True
    skills: dict[str, str] = Field(default_factory=dict)


class Deadlines(StrictModel):
    accept_s: float = Field(gt=0)
    arrive_s: float = Field(gt=0)
    renotify_s: float = Field(gt=0)


class LadderConfig(StrictModel):
    steps: list[str] = Field(default_factory=lambda: list(STEPS))

    @field_validator("steps")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in STEPS]
        if bad:
            raise ValueError(f"unknown step(s) {bad}; expected from {list(STEPS)}")
        return v


class DepartmentRule(StrictModel):
    kind: str
    min_severity: str = "red"
    call: list[str]

    @field_validator("min_severity")
    @classmethod
    def _sev(cls, v: str) -> str:
        Severity.parse(v)
        return v


class DepartmentsConfig(StrictModel):
    accept_s: float = Field(120, gt=0)
    rules: list[DepartmentRule] = Field(default_factory=list)
    purpose: dict[str, str] = Field(default_factory=dict)


class WebhookConfig(StrictModel):
    url: str
    events: list[str] = Field(default_factory=list)  # empty = every event


class NotifyConfig(StrictModel):
    worker_rate_per_min: float = Field(6, gt=0)
    retry_base_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(30, gt=0)
    webhook_max_attempts: int = Field(8, ge=1)
    webhooks: list[WebhookConfig] = Field(default_factory=list)


class AlertsConfig(StrictModel):
    order_min_severity: str = "yellow"
    incidents: IncidentsConfig = IncidentsConfig()
    routing: RoutingConfig = RoutingConfig()
    escalation: dict[str, Deadlines]
    escalation_ladder: LadderConfig = LadderConfig()
    departments: DepartmentsConfig = DepartmentsConfig()
    notify: NotifyConfig = NotifyConfig()

    @field_validator("escalation")
    @classmethod
    def _every_severity(cls, v: dict[str, Deadlines]) -> dict[str, Deadlines]:
        missing = [str(s) for s in Severity if str(s) not in v]
        unknown = [k for k in v if k not in {str(s) for s in Severity}]
        if missing or unknown:
            raise ValueError(f"need exactly red, orange, yellow, blue (missing {missing}, unknown {unknown})")
        return v

    @field_validator("order_min_severity")
    @classmethod
    def _sev(cls, v: str) -> str:
        Severity.parse(v)
        return v

    def deadlines(self, severity: Severity) -> Deadlines:
        return self.escalation[str(severity)]

    def departments_for(self, kind: str, severity: Severity) -> list[str]:
        """Departments pulled in when an order of ``kind`` and ``severity`` opens."""
        for rule in self.departments.rules:
            if rule.kind == kind and severity >= Severity.parse(rule.min_severity):
                return list(rule.call)
        return []

    def opens_order(self, severity: Severity) -> bool:
        return severity >= Severity.parse(self.order_min_severity)


def load_config(path: str | Path | None = None) -> AlertsConfig:
    """The configuration at ``path`` (the shipped default if ``None``); ``ConfigError`` if invalid."""
    p = Path(path) if path else DEFAULT_PATH
    data = read_toml(p, "alerts config", ConfigError)
    return validate_model(AlertsConfig, data, f"alerts config {p}", ConfigError)
