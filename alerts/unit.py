"""A unit of work: one transaction, plus what to announce once it has committed.

Everything that changes orders (the service, the escalation scheduler, intake) runs
inside ``Deps.tx()``. Bus events and wake-ups are held until the commit succeeds, so
nobody hears of a change that was rolled back, and the outbox rows written in the
same transaction are never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from alerts.config import AlertsConfig
from alerts.models import utc
from core.city import City
from core.clock import Clock
from core.events import EventBus

if TYPE_CHECKING:
    from alerts.notify.fanout import Fanout
    from alerts.routing import Router


@dataclass
class Tx:
    """The open transaction: its session, its time, and what to publish after commit."""

    s: Session
    now: datetime
    events: list[tuple[str, Any]] = field(default_factory=list)
    outbox: bool = False  # new outbox rows: wake the deliverer
    deadlines: bool = False  # new deadlines: wake the scheduler
    memo: dict[str, Any] = field(default_factory=dict)  # per-transaction lookups (incidents by fingerprint)
    rows: dict[type, list[dict[str, Any]]] = field(default_factory=dict)  # write-only rows, inserted in bulk

    def add_row(self, model: type, **values: Any) -> None:
        """Queue a row nobody reads back in this transaction (timeline, deadline, outbox): one
        multi-row INSERT per table at the next ``flush``, instead of one round trip each."""
        self.rows.setdefault(model, []).append(values)

    def flush(self) -> None:
        """Write pending ORM changes, then the queued rows."""
        self.s.flush()
        rows, self.rows = self.rows, {}
        for model, values in rows.items():
            # render_nulls: rows with and without a NULL column go out in one statement
            self.s.execute(insert(model).execution_options(render_nulls=True), values)

    def publish(self, type_: str, data: dict[str, Any] | Callable[[], dict[str, Any]]) -> None:
        """Publish on the bus after commit; a callable is serialised then (ids assigned by the flush)."""
        self.events.append((type_, data))


def _nothing() -> None:
    return None


@dataclass
class Deps:
    """What every alerts component needs; built once by ``alerts.runtime.build``."""

    sessions: sessionmaker[Session]  # for writing (``tx()`` uses it)
    reader: sessionmaker[Session]  # for reading only
    clock: Clock
    bus: EventBus
    config: AlertsConfig
    city: City
    router: Router
    fanout: Fanout
    wake_outbox: Callable[[], None] = _nothing
    wake_deadlines: Callable[[], None] = _nothing

    def now(self) -> datetime:
        return utc(self.clock.now())

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        """One transaction; commit on success, then publish and wake; rollback on error."""
        with self.sessions.begin() as s:
            tx = Tx(s, self.now())
            yield tx
            tx.flush()
        for type_, data in tx.events:
            self.bus.publish(type_, data() if callable(data) else data)
        if tx.outbox:
            self.wake_outbox()
        if tx.deadlines:
            self.wake_deadlines()
