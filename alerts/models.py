"""SQLAlchemy 2 models for every table in the database (the API's identity tables too).

Times are timezone-aware UTC ``datetime`` values (``UtcDateTime``): PostgreSQL stores
``timestamptz``; SQLite stores naive UTC text that sorts and compares correctly.
The schema itself is created only by the Alembic migrations in ``alerts/migrations``;
``Base.metadata`` is what the migrations are checked against.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT on PostgreSQL; INTEGER on SQLite so that it is the rowid (auto-increment)
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(epoch_seconds: float) -> datetime:
    """Epoch seconds (a ``Clock.now()``) as an aware UTC datetime.

    >>> utc(0).isoformat()
    '1970-01-01T00:00:00+00:00'
    """
    return datetime.fromtimestamp(epoch_seconds, UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# ----------------------------------------------------------------- identity (API)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin | dispatcher | worker | department
    worker_id: Mapped[str | None] = mapped_column(String(64))
    dept_id: Mapped[str | None] = mapped_column(String(64))
    town_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# ----------------------------------------------------------------- people on the ground


class Worker(Base):
    """A grid worker or supervisor: static fields from workers.csv, dynamic state here."""

    __tablename__ = "workers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    grid_id: Mapped[str] = mapped_column(String(64), index=True)
    town_id: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # worker | supervisor
    skills: Mapped[str] = mapped_column(String(400), default="")  # ';'-separated
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    located_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    load: Mapped[int] = mapped_column(Integer, default=0)  # open orders assigned
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# ----------------------------------------------------------------- incidents and alerts


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))  # correlation key, e.g. "river:g-003"
    kind: Mapped[str] = mapped_column(String(32))
    grid_id: Mapped[str] = mapped_column(String(64))
    town_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))  # the first device
    severity: Mapped[int] = mapped_column(Integer)  # highest seen (core.Severity value)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_alert_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (Index("ix_incidents_open_key", "status", "key"), Index("ix_incidents_grid", "grid_id"))


class Alert(Base):
    """One AlertEvent transition, kept as evidence of its incident."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    device_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    grid_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))  # firing | resolved
    severity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[float | None] = mapped_column(Float)
    started_ms: Mapped[int] = mapped_column(BigInteger)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    detected_ms: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (
        Index("ix_alerts_device_id", "device_id", "id"),
        Index("ix_alerts_fingerprint_id", "fingerprint", "id"),
    )


# ----------------------------------------------------------------- work orders


class WorkOrder(Base):
    __tablename__ = "work_orders"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    severity: Mapped[int] = mapped_column(Integer)  # core.Severity value; red = 4
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(64))
    grid_id: Mapped[str] = mapped_column(String(64))
    town_id: Mapped[str | None] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    assignee: Mapped[str | None] = mapped_column(String(64))
    backup: Mapped[str | None] = mapped_column(String(64))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    detected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    en_route_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    on_site_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    evaluation: Mapped[int | None] = mapped_column(Integer)
    closure_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (
        Index("ix_work_orders_status_sev", "status", "severity", "id"),
        Index("ix_work_orders_grid_status", "grid_id", "status"),
        Index("ix_work_orders_town_status", "town_id", "status"),
        Index("ix_work_orders_assignee_sev", "assignee", "severity", "id"),  # a worker's list, red first
        Index("ix_work_orders_backup_sev", "backup", "severity", "id"),
        Index("ix_work_orders_device", "device_id"),
        Index("ix_work_orders_incident", "incident_id"),
        Index("ix_work_orders_sev_id", "severity", "id"),
    )


class OrderEvent(Base):
    """One line of an order's timeline, kept forever."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Deadline(Base):
    """A durable escalation timer: fires once, by ``run_due(now)``, after ``due_at``."""

    __tablename__ = "deadlines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # accept | arrive | renotify | department
    ref: Mapped[str | None] = mapped_column(String(64))  # e.g. the department call id
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | fired | cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_deadlines_pending_due", "status", "due_at"),)


class DepartmentCall(Base):
    __tablename__ = "department_calls"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    dept_id: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(100), default="")  # e.g. "escort request"
    status: Mapped[str] = mapped_column(String(16), default="called")  # called|accepted|returned|overdue
    called_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accept_by: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class OutboxMessage(Base):
    """A notification to deliver (MQTT or webhook); written with the change it announces."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))  # mqtt | webhook
    target: Mapped[str] = mapped_column(String(500))  # topic or URL
    recipient: Mapped[str | None] = mapped_column(String(64))  # worker id for the rate limit
    payload: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # severity; red first
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)
