"""Delivers the durable outbox: a broker or webhook outage delays, never loses.

Rows are written in the transaction of the change they announce (``Fanout``). A
deliverer per channel (``mqtt``, ``webhook``) takes due rows red first, sends them,
and marks them delivered; a failure sets ``next_attempt_at`` with exponential
back-off. MQTT rows are retried until the broker takes them; webhook rows become
dead letters (``status = 'dead'``) after ``webhook_max_attempts``. Non-red rows for
a worker over their rate limit are postponed, never dropped; red rows never wait.

Several gridwatch processes may share one PostgreSQL database: before sending, a
deliverer *claims* its rows with a conditional UPDATE that moves ``next_attempt_at`` a
lease ahead (``CLAIM_S``) only where the row is still due, so each row goes to one
process. A process that dies holding a claim delays those rows by the lease, never
loses them. SQLite is the embedded database of one process (its data directory is
locked), so there the rows are simply read: a claim would wait for the write lock the
intake holds while it creates the very order being announced (+3–4 ms to a red alert).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.background import Background
from alerts.config import NotifyConfig
from alerts.models import OutboxMessage, utc
from alerts.notify.ratelimit import RateLimit
from core.clock import Clock
from core.severity import Severity

log = logging.getLogger(__name__)

CLAIM_S = 30.0  # a claimed row is due again after this long if its sender never settled it

# a sender takes rows and returns, per row, None (delivered) or (reason, retryable)
Sender = Callable[[list[OutboxMessage]], list[tuple[str, bool] | None]]


class OutboxDeliverer:
    """Delivers one channel's pending rows; ``deliver_due()`` for tests, a thread in service."""

    def __init__(self, channel: str, send: Sender, sessions: sessionmaker[Session], clock: Clock, config: NotifyConfig,
                 registry: CollectorRegistry | None = None, batch: int = 200, max_sleep: float = 1.0,
                 reader: sessionmaker[Session] | None = None) -> None:
        self.channel, self.send, self.sessions, self.clock = channel, send, sessions, clock
        self.reader = reader or sessions
        self._shared = sessions.kw["bind"].dialect.name != "sqlite"  # several processes may deliver
        self.config, self.batch = config, batch
        self.limit = RateLimit(config.worker_rate_per_min)
        self._bg = Background(f"outbox-{channel}", self._pass, clock, max_sleep)
        self._retry_now = False
        self.delivered = _counter("gridwatch_outbox_delivered", "notifications delivered", registry)
        self.retried = _counter("gridwatch_outbox_retries", "delivery attempts that failed and will retry",
                                registry)
        self.dead = _counter("gridwatch_outbox_dead_letters", "notifications given up (dead letters)", registry)
        self.postponed = _counter("gridwatch_outbox_rate_limited", "non-red notifications postponed by the "
                                  "per-worker rate limit", registry)

    def wake(self) -> None:
        self._bg.wake()

    def retry_now(self) -> None:
        """The channel is back (broker reconnected): make waiting rows due at once, not after back-off."""
        self._retry_now = True
        self._bg.wake()

    def _make_due(self) -> None:
        self._retry_now = False
        with self.sessions.begin() as s:
            s.execute(update(OutboxMessage).where(
                OutboxMessage.channel == self.channel, OutboxMessage.status == "pending",
                OutboxMessage.attempts > 0).values(next_attempt_at=utc(self.clock.now())))

    def pending(self) -> int:
        with self.reader() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.channel == self.channel, OutboxMessage.status == "pending")) or 0

    def deliver_due(self) -> int:
        """Send every due row (in batches); returns how many were delivered."""
        total = 0
        while not self._bg.stopping:
            now = self.clock.now()
            rows = self._claim_due(now) if self._shared else self._read_due(now)
            if not rows:
                return total
            ready, later = self._rate_limit(rows, now)
            results = self.send(ready) if ready else []
            total += self._settle(ready, results, later, now)
            if len(rows) < self.batch:
                return total

    def _due(self, now: float):
        return (select(OutboxMessage).where(
            OutboxMessage.channel == self.channel, OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= utc(now))
            .order_by(OutboxMessage.priority.desc(), OutboxMessage.id).limit(self.batch))

    def _read_due(self, now: float) -> list[OutboxMessage]:
        """Up to ``batch`` due rows, red first (one process: nobody else takes them)."""
        with self.reader() as s:
            return list(s.scalars(self._due(now)))

    def _claim_due(self, now: float) -> list[OutboxMessage]:
        """Take up to ``batch`` due rows, red first, that no other process has taken (one statement)."""
        # FOR UPDATE SKIP LOCKED: rows another process is claiming are skipped, not waited for
        due = self._due(now).with_only_columns(OutboxMessage.id).with_for_update(skip_locked=True)
        with self.sessions.begin() as s:
            rows = list(s.scalars(
                update(OutboxMessage).where(
                    OutboxMessage.id.in_(due), OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at <= utc(now))  # re-checked: a row claimed meanwhile is not ours
                .values(next_attempt_at=utc(now + CLAIM_S)).returning(OutboxMessage)))
        rows.sort(key=lambda r: (-r.priority, r.id))
        return rows

    def _rate_limit(self, rows: list[OutboxMessage], now: float) -> tuple[list, dict[int, float]]:
        ready, later = [], {}
        for r in rows:
            wait = self.limit.wait_s(r.recipient, now, r.priority >= Severity.RED) if r.recipient else 0.0
            if wait > 0:
                later[r.id] = wait
            else:
                ready.append(r)
        return ready, later

    def _settle(self, rows: list[OutboxMessage], results: list, later: dict[int, float], now: float) -> int:
        at = utc(now)
        ok = [r.id for r, res in zip(rows, results, strict=True) if res is None]
        with self.sessions.begin() as s:
            if ok:
                s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ok))
                          .values(status="delivered", delivered_at=at, attempts=OutboxMessage.attempts + 1))
            for r, res in zip(rows, results, strict=True):
                if res is not None:
                    self._failed(s, r, res, at)
            for row_id, wait in later.items():
                s.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                          .values(next_attempt_at=at + timedelta(seconds=wait)))
        self.delivered.labels(self.channel).inc(len(ok))
        self.postponed.labels(self.channel).inc(len(later))
        return len(ok)

    def _failed(self, s: Session, r: OutboxMessage, res: tuple[str, bool], at: datetime) -> None:
        reason, retryable = res
        attempts = r.attempts + 1
        give_up = self.channel == "webhook" and (not retryable or attempts >= self.config.webhook_max_attempts)
        delay = min(self.config.retry_max_s, self.config.retry_base_s * 2 ** min(attempts - 1, 20))
        s.execute(update(OutboxMessage).where(OutboxMessage.id == r.id).values(
            attempts=attempts, last_error=reason[:500], status="dead" if give_up else "pending",
            next_attempt_at=at + timedelta(seconds=delay)))
        (self.dead if give_up else self.retried).labels(self.channel).inc()
        if give_up:
            log.warning("dead letter: %s %s after %d attempt(s): %s", self.channel, r.target, attempts, reason)

    def next_due(self) -> float | None:
        with self.reader() as s:
            t = s.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.channel == self.channel, OutboxMessage.status == "pending"))
        return t.timestamp() if t else None

    def _pass(self) -> float | None:
        if self._retry_now:
            self._make_due()
        self.deliver_due()
        return self.next_due()

    def start(self) -> None:
        self._bg.start()

    def stop(self) -> None:
        self._bg.stop()


def _counter(name: str, doc: str, registry: CollectorRegistry | None) -> Counter:
    return Counter(name, doc, ["channel"], registry=registry)
