"""Runs due deadlines: ``run_due(now)`` for tests and replay, a thread for the service.

The thread sleeps until the earliest pending deadline (at most ``max_sleep`` s, so a
deadline written by another process is seen too), and is woken at once when this
process adds a deadline. After a restart it finds the pending rows and fires the
overdue ones immediately, so an escalation resumes on time.
"""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import func, select, update

from alerts import escalation
from alerts.background import Background
from alerts.models import Deadline, utc
from alerts.unit import Deps

log = logging.getLogger(__name__)


class Scheduler:
    """Fires durable deadlines; ``start``/``stop`` run it on its own thread."""

    def __init__(self, deps: Deps, registry: CollectorRegistry | None = None, max_sleep: float = 1.0) -> None:
        self.deps = deps
        self._bg = Background("alerts-deadlines", self._pass, deps.clock, max_sleep)
        self.fired = Counter("gridwatch_deadlines_fired", "deadlines acted on, by kind", ["kind"],
                             registry=registry)
        self.failed = Counter("gridwatch_deadlines_failed", "deadline actions that raised", registry=registry)

    def wake(self) -> None:
        """A deadline was added: re-check when the next one is due."""
        self._bg.wake()

    def next_due(self) -> datetime | None:
        with self.deps.reader() as s:
            return s.scalar(select(func.min(Deadline.due_at)).where(Deadline.status == "pending"))

    def run_due(self, now: float | None = None, limit: int = 500) -> int:
        """Fire every pending deadline due at ``now`` (default: the clock); returns how many."""
        at = utc(self.deps.clock.now() if now is None else now)
        with self.deps.reader() as s:
            due = s.execute(
                select(Deadline.id, Deadline.kind).where(Deadline.status == "pending", Deadline.due_at <= at)
                .order_by(Deadline.due_at).limit(limit)
            ).all()
        fired = 0
        for dl_id, kind in due:
            try:
                if self._fire_one(dl_id):
                    fired += 1
                    self.fired.labels(kind).inc()
            except Exception:
                self.failed.inc()
                log.exception("deadline %s (%s) failed; it stays pending and is retried", dl_id, kind)
        return fired

    def _fire_one(self, dl_id: int) -> bool:
        with self.deps.tx() as tx:
            claimed = tx.s.execute(
                update(Deadline).where(Deadline.id == dl_id, Deadline.status == "pending")
                .values(status="fired", fired_at=tx.now).execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                return False  # cancelled, or fired by another scheduler
            dl = tx.s.get(Deadline, dl_id)
            assert dl is not None
            escalation.fire(self.deps, tx, dl)
            return True

    # ------------------------------------------------------------ thread

    def _pass(self) -> float | None:
        self.run_due()
        nxt = self.next_due()
        return nxt.timestamp() if nxt else None

    def start(self) -> None:
        self._bg.start()

    def stop(self) -> None:
        self._bg.stop()
