"""Server-Sent Events: one bus subscription fanned out to many console clients.

The ``EventBus`` is thread-based; an SSE client is a coroutine. One reader thread
per app drains a single bus subscription and hands each event to the event loop,
which copies it into every client's bounded ``asyncio.Queue``. So 200 consoles cost
200 queues, not 200 threads, and a client that stops reading loses its oldest
events (counted, and flagged with ``"gap": true``) instead of slowing the others.

A ring of recent events serves ``Last-Event-ID``: a console that reconnects gets
what it missed, if it is still in the ring.

>>> frame({"type": "order", "seq": 3, "data": {"id": 1}})
b'id: 3\\nevent: order\\ndata: {"id":1}\\n\\n'
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge

from core.events import EventBus

log = logging.getLogger(__name__)
Event = dict[str, Any]


def frame(event: Event) -> bytes:
    """One event in the text/event-stream format."""
    data = orjson.dumps({**event["data"], "gap": True} if event.get("gap") else event["data"])
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event["seq"], event["type"].encode(), data)


class Client:
    """One connected console: a bounded queue of (event, encoded frame) and a visibility filter."""

    def __init__(self, visible: Callable[[Event], bool], maxsize: int) -> None:
        self.queue: asyncio.Queue[tuple[Event, bytes]] = asyncio.Queue(maxsize)
        self.visible = visible
        self.gap = False


class Broadcaster:
    """Bridges the thread-side ``EventBus`` to asyncio SSE clients."""

    def __init__(self, bus: EventBus, registry: CollectorRegistry, history: int = 2000, client_queue: int = 1000,
                 enrich: Callable[[Event], Event] = lambda e: e):
        self._bus, self._history, self._enrich = bus, deque(maxlen=history), enrich
        self._clients: set[Client] = set()
        self._client_queue = client_queue
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warned = False
        self.dropped = Counter("gridwatch_sse_dropped_total", "events dropped for slow SSE clients", registry=registry)
        self.unencodable = Counter("gridwatch_sse_unencodable_total", "bus events that are not JSON-ready",
                                   registry=registry)
        self.sent = Counter("gridwatch_sse_events_total", "events fanned out to SSE clients", registry=registry)
        Gauge("gridwatch_sse_clients", "connected SSE clients", registry=registry).set_function(
            lambda: len(self._clients)
        )

    def start(self) -> None:
        """Called once from the app's lifespan, on the event loop."""
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        sub = self._bus.subscribe(maxsize=100_000)
        self._thread = threading.Thread(target=self._pump, args=(sub,), name="sse-pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)

    def _pump(self, sub: Any) -> None:
        loop = self._loop
        assert loop is not None
        try:
            while not self._stop.is_set():
                try:
                    event = sub.get(timeout=0.25)
                except queue.Empty:
                    continue
                with contextlib.suppress(RuntimeError):  # loop closed during shutdown
                    loop.call_soon_threadsafe(self._fanout, event)
        finally:
            sub.close()

    def _fanout(self, event: Event) -> None:
        try:
            event = self._enrich(event)
            encoded = frame(event)  # once, not once per client
        except (TypeError, KeyError, ValueError):
            self.unencodable.inc()
            if not self._warned:  # log once; the counter tells how many since
                self._warned = True
                log.warning("bus event of type %r cannot be sent as JSON; dropped (see %s)",
                            event.get("type"), "gridwatch_sse_unencodable_total")
            return
        self._history.append(event)
        sent = 0
        for client in self._clients:
            if not client.visible(event):
                continue
            if client.queue.full():
                client.queue.get_nowait()
                client.gap = True
                self.dropped.inc()
            client.queue.put_nowait((event, encoded))
            sent += 1
        self.sent.inc(sent)

    def backlog(self, last_id: int | None) -> list[Event]:
        """Events after ``last_id`` still in the ring (empty if none asked)."""
        if last_id is None:
            return []
        return [e for e in self._history if e["seq"] > last_id]

    def _drain(self, client: Client, first: tuple[Event, bytes]) -> bytes:
        """The first waiting frame and every other one already queued, as one write."""
        if client.gap:
            client.gap = False
            first = (first[0], frame({**first[0], "gap": True}))
        frames = [first[1]]
        while not client.queue.empty() and len(frames) < 256:
            frames.append(client.queue.get_nowait()[1])
        return b"".join(frames)

    async def stream(
        self, visible: Callable[[Event], bool], last_id: int | None, heartbeat_s: float
    ) -> AsyncIterator[bytes]:
        """The byte stream of one client, heartbeats included, until it disconnects."""
        client = Client(visible, self._client_queue)
        self._clients.add(client)
        try:
            yield b"retry: 2000\n: connected\n\n"
            for event in self.backlog(last_id):
                if visible(event):
                    yield frame(event)
            while True:
                try:
                    first = await asyncio.wait_for(client.queue.get(), heartbeat_s)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                yield self._drain(client, first)
        finally:
            self._clients.discard(client)
