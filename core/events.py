"""An in-process publish/subscribe bus for order and alert changes.

The alerts package publishes every work-order event and alert transition here; the
API's Server-Sent Events stream and tests subscribe. Publishing never blocks: each
subscriber has a bounded queue, and a subscriber that falls that far behind loses
its oldest events and is told so (``dropped`` counts them, and the next event it
reads carries ``"gap": true``), so one slow console cannot stall dispatch.

>>> bus = EventBus()
>>> sub = bus.subscribe()
>>> bus.publish("order", {"id": 1})
>>> sub.get(timeout=0.1)
{'type': 'order', 'seq': 1, 'data': {'id': 1}}
>>> sub.close()
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from typing import Any


class Subscription:
    """One subscriber's bounded view of the bus; ``get`` waits, ``close`` detaches."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._items: deque[dict[str, Any]] = deque()
        self._maxsize = maxsize
        self._ready = threading.Condition()
        self.dropped = 0
        self._gap = False

    def _offer(self, event: dict[str, Any]) -> None:
        with self._ready:
            if len(self._items) >= self._maxsize:
                self._items.popleft()
                self.dropped += 1
                self._gap = True
            self._items.append(event)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> dict[str, Any]:
        """The next event; ``queue.Empty`` if none arrives within ``timeout`` seconds."""
        with self._ready:
            if not self._items and not self._ready.wait_for(lambda: bool(self._items), timeout):
                raise queue.Empty
            event = self._items.popleft()
            if self._gap:
                self._gap = False
                return {**event, "gap": True}
            return event

    def close(self) -> None:
        self._bus._detach(self)


class EventBus:
    """Thread-safe fan-out of events to subscribers; every event gets a sequence number."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(self, maxsize)
        with self._lock:
            self._subs.append(sub)
        return sub

    def _detach(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, type_: str, data: dict[str, Any]) -> None:
        with self._lock:
            event = {"type": type_, "seq": next(self._seq), "data": data}
            subs = list(self._subs)
        for sub in subs:
            sub._offer(event)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)
