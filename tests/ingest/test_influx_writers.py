"""The InfluxDB writers and the sink's handling of every class of failure.

InfluxDB 2.x cannot run here (Debian ships 1.6, which has no /api/v2), so a local HTTP
server stands in for an InfluxDB 2 server: it records each request and answers what the
test tells it to. The v2 writer's requests are checked against the InfluxDB 2 API: path
``/api/v2/write``, ``org``, ``bucket`` and ``precision=ms`` parameters, ``Authorization:
Token …``, gzip. The v1 writer and the sink's error handling run against it too.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from core.batch import ReadingBatch
from core.metrics import new_registry
from ingest.influx import Dropped, Retryable, Throttled, TooLarge, V1Writer, V2Writer
from ingest.influx_sink import InfluxSink
from ingest.line_protocol import LineEncoder
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from tests.support.servers import free_port


class StandIn:
    """An HTTP server that records requests and replies from a script (default 204)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: deque[tuple[int, dict, bytes]] = deque()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                url = urlsplit(self.path)
                raw = body
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                stand_in.requests.append({"path": url.path, "query": parse_qs(url.query),
                                          "headers": dict(self.headers), "body": body, "raw": raw,
                                          "at": time.monotonic()})
                status, headers, text = stand_in.replies.popleft() if stand_in.replies else (204, {}, b"")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    s = StandIn()
    yield s
    s.close()


BODY = b"wearable,device_id=wb-1,grid_id=g heart_rate=72.0 1732233600123\n"


@pytest.mark.parametrize("gzip_body", [False, True])
def test_v2_writer_requests_match_the_influxdb2_api(stand_in, gzip_body):
    writer = V2Writer(stand_in.url, bucket="telemetry", org="city-ops", token="s3cr3t", gzip_body=gzip_body)
    writer.write(BODY)
    writer.close()
    [req] = stand_in.requests
    assert req["path"] == "/api/v2/write"
    assert req["query"] == {"org": ["city-ops"], "bucket": ["telemetry"], "precision": ["ms"]}
    assert req["headers"]["Authorization"] == "Token s3cr3t"
    assert req["body"] == BODY
    assert (req["headers"].get("Content-Encoding") == "gzip") == gzip_body
    assert (req["raw"] != BODY) == gzip_body


def test_v1_writer_request_and_keep_alive(stand_in):
    writer = V1Writer(stand_in.url, "gw db", token="user:pa:ss")
    writer.write(BODY)
    writer.write(BODY)
    assert [r["path"] for r in stand_in.requests] == ["/write", "/write"]
    assert stand_in.requests[0]["query"] == {"db": ["gw db"], "precision": ["ms"]}
    assert stand_in.requests[0]["headers"]["Authorization"] == "Basic dXNlcjpwYTpzcw=="
    assert stand_in.requests[1]["headers"].get("Connection") != "close"


@pytest.mark.parametrize("writer_kind", ["v1", "v2"])
@pytest.mark.parametrize(("status", "headers", "error"), [
    (400, {}, Dropped), (422, {}, Dropped), (413, {}, TooLarge), (429, {"Retry-After": "7"}, Throttled),
    (503, {}, Throttled), (500, {}, Retryable), (401, {}, Retryable), (404, {}, Retryable),
])
def test_failures_are_classified(stand_in, writer_kind, status, headers, error):
    writer = V1Writer(stand_in.url, "db") if writer_kind == "v1" else V2Writer(stand_in.url, "b", "o", "t")
    stand_in.replies.append((status, headers, b'{"error":"nope"}'))
    with pytest.raises(error) as info:
        writer.write(BODY)
    if status == 429:
        assert info.value.retry_after == 7.0
    writer.close()


def test_connection_refused_is_retryable():
    for writer in (V1Writer(f"http://127.0.0.1:{free_port()}", "db"), V2Writer(f"http://127.0.0.1:{free_port()}",
                                                                                 "b", "o", "t")):
        with pytest.raises(Retryable):
            writer.write(BODY)


# ---------------------------------------------------------------------------- the sink


def make_sink(stand_in, tmp_path, batch_size=100):
    metrics = IngestMetrics(new_registry())
    sink = InfluxSink(V1Writer(stand_in.url, "db"), Spool(tmp_path / "spool", 1 << 20),
                      LineEncoder([f"wb-{i}" for i in range(1000)], ["g"] * 1000), metrics,
                      batch_size=batch_size, flush_interval=0.05, flush_messages=10)
    durable: list[int] = []
    sink.on_durable = durable.append
    sink.start()
    return sink, metrics, durable


def readings(n: int, t0: int = 1_732_233_600_000) -> ReadingBatch:
    return ReadingBatch("wearable", np.arange(n) % 1000, t0 + np.arange(n), {"heart_rate": np.full(n, 70.0)})


def lines_written(stand_in) -> list[bytes]:
    return [line for r in stand_in.requests if r["headers"].get("x-drop") is None
            for line in r["body"].splitlines()]


def test_sink_splits_on_413_waits_on_429_drops_on_400(stand_in, tmp_path):
    sink, metrics, durable = make_sink(stand_in, tmp_path)
    stand_in.replies.extend([
        (413, {}, b"too large"),  # 100 lines -> two halves of 50
        (204, {}, b""), (204, {}, b""),
        (429, {"Retry-After": "1"}, b"slow down"),  # the next body waits a second, then goes again
        (204, {}, b""),
        (400, {}, b'{"error":"unable to parse"}'),  # the third is dropped and counted
    ])
    sink.submit([readings(100)], 1, 1)
    sink.submit([readings(100, 1_732_233_700_000)], 2, 1)
    sink.submit([readings(100, 1_732_233_800_000)], 3, 1)
    deadline = time.monotonic() + 10
    while (sink.spool.depth()[0] or len(stand_in.requests) < 6) and time.monotonic() < deadline:
        time.sleep(0.02)
    sink.stop(2)
    sizes = [r["body"].count(b"\n") for r in stand_in.requests]
    assert sizes == [100, 50, 50, 100, 100, 100]
    throttled, retried = stand_in.requests[3]["at"], stand_in.requests[4]["at"]
    assert 0.9 <= retried - throttled < 3
    assert durable[-1] == 3  # all durable (spooled) before any of this was sorted out
    assert metrics.written._value.get() == 200
    assert metrics.dropped.labels("bad_request")._value.get() == 100
    assert metrics.write_errors.labels("too_large")._value.get() == 1
    assert metrics.write_errors.labels("throttled")._value.get() == 1


def test_sink_spools_while_unreachable_and_drains_in_order(stand_in, tmp_path):
    sink, metrics, durable = make_sink(stand_in, tmp_path)
    stand_in.replies.extend([(500, {}, b"down")] * 3)
    for i in range(5):
        sink.submit([readings(100, 1_732_233_600_000 + i * 1000)], i + 1, 1)
    deadline = time.monotonic() + 10
    while (not durable or durable[-1] < 5 or sink.spool.depth()[0]) and time.monotonic() < deadline:
        time.sleep(0.02)
    sink.stop(2)
    bodies = [r["body"] for r in stand_in.requests]
    assert len(bodies) == 8 and bodies[0] == bodies[1] == bodies[2] == bodies[3]  # retried, same body
    first_ts = [int(b.split(b"\n")[0].rsplit(b" ", 1)[1]) for b in bodies[3:]]
    assert first_ts == sorted(first_ts)
    assert durable[-1] == 5 and metrics.written._value.get() == 500
    assert metrics.write_errors.labels("unavailable")._value.get() == 3


def test_two_writers_share_the_work_and_lose_nothing(stand_in, tmp_path):
    metrics = IngestMetrics(new_registry())
    writers = [V1Writer(stand_in.url, "db"), V1Writer(stand_in.url, "db")]
    sink = InfluxSink(writers, Spool(tmp_path / "spool", 1 << 20), LineEncoder([f"wb-{i}" for i in range(1000)],
                      ["g"] * 1000), metrics, batch_size=100, flush_interval=0.05, flush_messages=10)
    durable: list[int] = []
    sink.on_durable = durable.append
    stand_in.replies.append((500, {}, b"one failure"))
    sink.start()
    for i in range(10):
        sink.submit([readings(100, 1_732_233_600_000 + i * 1000)], i + 1, 1)
    deadline = time.monotonic() + 10
    while (not durable or durable[-1] < 10 or sink.spool.depth()[0]) and time.monotonic() < deadline:
        time.sleep(0.02)
    sink.stop(2)
    lines = {line for r in stand_in.requests[1:] for line in r["body"].splitlines()}
    assert len(lines) == 1000 and sink.spool.depth() == (0, 0)
    assert metrics.written._value.get() >= 1000  # a body sent beside a failed one may be sent again
