"""The live event stream (SSE) on a real uvicorn: scoped per token, resumable."""

from __future__ import annotations

import json
import logging
import queue
import threading

import httpx

from tests.api.conftest import auth


def _listen(url: str, headers: dict[str, str], out: queue.Queue, stop: threading.Event) -> None:
    """Parse the stream into (id, type, data) tuples until ``stop``."""
    with httpx.Client(timeout=httpx.Timeout(10, read=30)) as client, client.stream(
        "GET", url + "/api/v1/events", headers=headers
    ) as r:
        out.put(("status", r.status_code, r.headers.get("content-type")))
        event: dict = {}
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(": ")
                event[key.rstrip(":")] = value
            elif not line and "data" in event:
                out.put((int(event["id"]), event["event"], json.loads(event["data"])))
                event = {}


def _open(live, headers):
    out, stop = queue.Queue(), threading.Event()
    threading.Thread(target=_listen, args=(live.url, headers, out, stop), daemon=True).start()
    status = out.get(timeout=10)
    return out, stop, status


def _orders(out: queue.Queue, want: int, timeout: float = 10) -> list[tuple]:
    got = []
    while len({e[2]["id"] for e in got}) < want:
        item = out.get(timeout=timeout)
        if item[1] == "order":
            got.append(item)
    return got


def test_the_stream_needs_a_token(live):
    r = httpx.get(live.url + "/api/v1/events", timeout=5)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_each_client_sees_only_its_scope_live_and_can_resume(sqlite_harness, live, caplog):
    caplog.set_level(logging.INFO)
    h = sqlite_harness
    admin_q, admin_stop, status = _open(live, auth(h, "admin"))
    assert status == ("status", 200, "text/event-stream; charset=utf-8")
    worker_q, worker_stop, _ = _open(live, auth(h, "worker"))
    mine = h.red_order("wb-0001")
    other = h.red_order("sm-0003")
    seen = _orders(admin_q, 2)
    assert {mine["id"], other["id"]} <= {e[2]["id"] for e in seen}
    assert any(e[2]["id"] == mine["id"] and e[2]["severity"] == "red" and e[2]["place"] for e in seen)
    worker_seen = _orders(worker_q, 1)
    assert {e[2]["id"] for e in worker_seen} == {mine["id"]}
    assert worker_q.empty() or all(
        item[2]["assignee"] == "w-001" for item in list(worker_q.queue) if item[1] == "order")
    # resume: a reconnecting console gets what it missed after its Last-Event-ID
    first_id = seen[0][0]
    resumed, resumed_stop, _ = _open(live, {**auth(h, "admin"), "Last-Event-ID": str(first_id)})
    replay = _orders(resumed, 2)
    assert all(e[0] > first_id for e in replay)
    for stop in (admin_stop, worker_stop, resumed_stop):
        stop.set()
    assert h.tokens["worker"] not in caplog.text and h.tokens["admin"] not in caplog.text
