"""The SSE broadcaster alone: scoped fan-out, one slow client never holds up the rest."""

from __future__ import annotations

import asyncio

from api.sse import Broadcaster
from core.events import EventBus
from core.metrics import new_registry


async def _next(stream, n: int) -> list[bytes]:
    out = []
    while len(out) < n:
        chunk = await asyncio.wait_for(anext(stream), 5)
        if not chunk.startswith((b":", b"retry")):
            out.extend(f + b"\n\n" for f in chunk.split(b"\n\n") if f)
    return out


def test_a_slow_client_loses_its_oldest_events_counted_and_flagged_while_others_get_all():
    async def scenario() -> None:
        bus, reg = EventBus(), new_registry()
        b = Broadcaster(bus, reg, client_queue=5)
        b.start()
        try:
            fast = b.stream(lambda e: True, None, heartbeat_s=30)
            slow = b.stream(lambda e: e["data"]["town_id"] == "t-01", None, heartbeat_s=30)
            await anext(fast), await anext(slow)  # both connected
            for i in range(20):
                bus.publish("order", {"id": i, "town_id": "t-01" if i % 2 == 0 else "t-02"})
                got = await _next(fast, 1)  # the fast client keeps up, one by one
                assert got[0].startswith(b"id: %d\nevent: order" % (i + 1))
            frames = await _next(slow, 5)  # the slow one read nothing until now: the last 5 of its 10
            assert [f.split(b'"id":')[1].split(b",")[0] for f in frames] == [b"10", b"12", b"14", b"16", b"18"]
            assert b'"gap":true' in frames[0] and b'"gap"' not in frames[1]
            assert reg.get_sample_value("gridwatch_sse_dropped_total") == 5
            assert reg.get_sample_value("gridwatch_sse_clients") == 2
        finally:
            b.stop()

    asyncio.run(scenario())


def test_last_event_id_replays_what_a_client_missed():
    async def scenario() -> None:
        bus = EventBus()
        b = Broadcaster(bus, new_registry())
        b.start()
        try:
            first = b.stream(lambda e: True, None, heartbeat_s=30)
            await anext(first)
            for i in range(3):
                bus.publish("order", {"id": i})
            await _next(first, 3)
            again = b.stream(lambda e: True, 1, heartbeat_s=30)
            await anext(again)
            replay = [await anext(again), await anext(again)]
            assert [r.split(b"\n")[0] for r in replay] == [b"id: 2", b"id: 3"]
        finally:
            b.stop()

    asyncio.run(scenario())
