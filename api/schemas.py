"""Typed request and response bodies, so ``/openapi.json`` can generate a client.

Responses mirror ``alerts.serialize`` (the one JSON shape of each record): times are
ISO 8601 UTC strings, severities their names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SeverityName = Literal["blue", "yellow", "orange", "red"]
OrderStatus = Literal["created", "dispatched", "accepted", "en_route", "on_site", "resolved", "closed", "cancelled"]
ClosureCode = Literal["true_event", "false_alarm", "device_fault", "duplicate"]
Id = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimelineEvent(_Out):
    id: int
    order_id: int
    at: str
    type: str
    actor: str
    note: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class DepartmentCall(_Out):
    id: int
    order_id: int
    dept_id: str
    purpose: str = ""
    status: str
    called_at: str | None = None
    accept_by: str | None = None
    accepted_at: str | None = None
    returned_at: str | None = None
    note: str = ""


class WorkOrder(_Out):
    id: int
    severity: SeverityName
    status: OrderStatus
    kind: str
    device_id: str
    grid_id: str
    town_id: str | None = None
    incident_id: int | None = None
    assignee: str | None = None
    backup: str | None = None
    escalation_level: int = 0
    reason: str = ""
    lat: float | None = None
    lon: float | None = None
    evaluation: int | None = None
    closure_code: str | None = None
    detected_at: str | None = None
    created_at: str
    dispatched_at: str | None = None
    accepted_at: str | None = None
    en_route_at: str | None = None
    on_site_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    place: str | None = Field(None, description="what the device watches, e.g. the resident or the building")


class WorkOrderDetail(WorkOrder):
    timeline: list[TimelineEvent]
    departments: list[DepartmentCall] = Field(default_factory=list)


class Note(_In):
    note: str | None = Field(None, max_length=2000)


class CloseBody(_In):
    evaluation: int = Field(ge=1, le=5, description="the resident's evaluation, 1-5")
    closure_code: ClosureCode
    note: str | None = Field(None, max_length=2000)


class ReassignBody(_In):
    worker_id: str = Id
    note: str | None = Field(None, max_length=2000)


class Alert(_Out):
    id: int
    incident_id: int | None = None
    device_id: str
    kind: str
    grid_id: str
    rule: str
    state: str
    severity: SeverityName
    reason: str = ""
    value: float | None = None
    at_ms: int
    received_at: str | None = None


class Incident(_Out):
    id: int
    kind: str
    grid_id: str
    town_id: str | None = None
    device_id: str
    severity: SeverityName
    status: str
    opened_at: str
    last_alert_at: str | None = None
    resolved_at: str | None = None
    alert_count: int = 0
    lat: float | None = None
    lon: float | None = None


class Reading(BaseModel):
    ts: int = Field(description="epoch milliseconds of the latest reading")
    values: dict[str, float | None]


class Device(BaseModel):
    device_id: str
    kind: str
    grid_id: str
    town_id: str
    lat: float
    lon: float
    place: str | None = None
    latest: Reading | None = None
    open_alerts: list[Alert] = Field(default_factory=list)


class SlaStage(BaseModel):
    stage: str = Field(description="detect_dispatch, dispatch_accept, accept_on_site or on_site_resolved")
    count: int = Field(description="orders with both ends of the stage stamped")
    p50_s: float | None = None
    p90_s: float | None = None
    p99_s: float | None = None


class AreaSummary(BaseModel):
    """A grid or a town: open orders by severity and the SLA per stage."""

    id: str
    town_id: str
    lat: float
    lon: float
    grids: list[str] = Field(default_factory=list)
    open_orders: dict[str, int] = Field(description="open orders by severity, and total")
    sla: list[SlaStage] = Field(description="per stage: how many orders and percentile seconds")


class Worker(_Out):
    id: str
    name: str
    grid_id: str
    town_id: str | None = None
    role: str
    skills: list[str] = Field(default_factory=list)
    on_duty: bool
    available: bool = True
    lat: float | None = None
    lon: float | None = None
    located_at: str | None = None
    load: int = 0


class WorkerCreate(_In):
    id: str = Id
    name: str = Field(min_length=1, max_length=200)
    grid_id: str = Id
    role: Literal["worker", "supervisor"] = "worker"
    skills: list[str] = Field(default_factory=list, max_length=20)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class WorkerUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    grid_id: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    role: Literal["worker", "supervisor"] | None = None
    skills: list[str] | None = Field(None, max_length=20)


class Duty(_In):
    on_duty: bool


class Location(_In):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


_ScopeId = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")


class _TokenBase(_In):
    name: str | None = Field(None, min_length=1, max_length=200, description="the person; defaults to the scope id")
    label: str | None = Field(None, max_length=200, description="what the token is for")


class AdminToken(_TokenBase):
    role: Literal["admin"]


class DispatcherToken(_TokenBase):
    role: Literal["dispatcher"]
    town_id: str = _ScopeId


class WorkerToken(_TokenBase):
    role: Literal["worker"]
    worker_id: str = _ScopeId


class DepartmentToken(_TokenBase):
    role: Literal["department"]
    dept_id: str = _ScopeId


TokenCreate = Annotated[AdminToken | DispatcherToken | WorkerToken | DepartmentToken, Field(discriminator="role")]


class TokenIssued(BaseModel):
    id: int
    token: str = Field(description="shown once; only its hash is stored")
    role: str
    scope: str | None = None


class TokenInfo(BaseModel):
    id: int
    person_id: str
    name: str
    role: str
    scope: str | None = None
    label: str | None = None
    created_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None


class Me(BaseModel):
    role: str
    name: str
    worker_id: str | None = None
    dept_id: str | None = None
    town_id: str | None = None
