"""Who hears about an order change, written as outbox rows in the change's transaction.

MQTT topics (INTERFACES §1): ``workers/{id}/orders`` for the assignee (and the red
backup, and a worker an order was taken from), ``departments/{id}/orders`` for a
department pulled in, and ``towns/{id}/orders`` for a town command center on
escalation. Every event also goes to each configured webhook. The payload is
``{"event": ..., "order": {...}, "at": ...}`` (plus ``"call"`` for departments).
"""

from __future__ import annotations

from typing import Any

import orjson

from alerts.config import NotifyConfig
from alerts.models import DepartmentCall, OutboxMessage, WorkOrder
from alerts.serialize import call_dict, iso, order_dict
from alerts.unit import Tx


class Fanout:
    """Turns order events into outbox rows; ``mqtt=False`` when no broker is configured."""

    def __init__(self, config: NotifyConfig, mqtt: bool = True) -> None:
        self.config = config
        self.mqtt = mqtt

    def order(self, tx: Tx, order: WorkOrder, event: str, extra: list[str | None] | None = None) -> None:
        """Tell the assignee (plus ``extra`` workers, and the backup while unaccepted) and the webhooks."""
        payload = self._payload(tx, order, event)
        workers = [order.assignee, *(extra or [])]
        if order.backup and order.status in ("created", "dispatched"):
            workers.append(order.backup)
        for wid in dict.fromkeys(w for w in workers if w):
            self._mqtt(tx, f"workers/{wid}/orders", payload, order.severity, wid)
        self._webhooks(tx, payload, event, order.severity)

    def worker(self, tx: Tx, order: WorkOrder, worker_id: str, event: str) -> None:
        """Tell one worker (a backup, a supervisor) about the order."""
        self._mqtt(tx, f"workers/{worker_id}/orders", self._payload(tx, order, event), order.severity, worker_id)

    def department(self, tx: Tx, order: WorkOrder, call: DepartmentCall, event: str) -> None:
        payload = self._payload(tx, order, event, call=call_dict(call))
        self._mqtt(tx, f"departments/{call.dept_id}/orders", payload, order.severity, None)
        self._webhooks(tx, payload, event, order.severity)

    def town(self, tx: Tx, order: WorkOrder, event: str) -> None:
        if order.town_id:
            self._mqtt(tx, f"towns/{order.town_id}/orders", self._payload(tx, order, event), order.severity, None)

    def _payload(self, tx: Tx, order: WorkOrder, event: str, **more: Any) -> str:
        body = {"event": event, "order": order_dict(order), "at": iso(tx.now), **more}
        return orjson.dumps(body).decode()

    def _mqtt(self, tx: Tx, topic: str, payload: str, severity: int, recipient: str | None) -> None:
        if self.mqtt:
            self._add(tx, "mqtt", topic, payload, severity, recipient)

    def _webhooks(self, tx: Tx, payload: str, event: str, severity: int) -> None:
        for hook in self.config.webhooks:
            if not hook.events or event in hook.events:
                self._add(tx, "webhook", hook.url, payload, severity, None)

    def _add(self, tx: Tx, channel: str, target: str, payload: str, severity: int, recipient: str | None) -> None:
        tx.add_row(
            OutboxMessage, channel=channel, target=target, recipient=recipient, payload=payload, priority=severity,
            created_at=tx.now, next_attempt_at=tx.now, attempts=0, status="pending",
        )
        tx.outbox = True
