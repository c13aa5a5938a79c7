"""Replay's InfluxDB v2 source, against a local HTTP server standing in for InfluxDB 2.

No InfluxDB 2 can run on the test machines (Debian ships 1.6), so this server answers
``POST /api/v2/query`` with the annotated CSV InfluxDB 2 sends for our pivoted Flux
query, and records what it was asked.
"""

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from simulators.replay.stores import influx_v2

HEAD = ("#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,string,double,double\n"
        "#group,false,false,true,true,false,true,true,true,false,false\n"
        "#default,_result,,,,,,,,,\n"
        ",result,table,_start,_stop,_time,_measurement,device_id,grid_id,heart_rate,spo2\n")
ROWS = (",,0,2024-11-25T00:00:00Z,2024-11-25T01:00:00Z,2024-11-25T00:00:05.123Z,wearable,wb-0001,g-001,72,97\n"
        ",,0,2024-11-25T00:00:00Z,2024-11-25T01:00:00Z,2024-11-25T00:00:15.000Z,wearable,wb-0001,g-001,70,\n"
        ",,0,2024-11-25T00:00:00Z,2024-11-25T01:00:00Z,2024-11-25T00:00:16.000Z,wearable,wb-9999,g-001,70,96\n")


class Handler(BaseHTTPRequestHandler):
    asked: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.asked.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        m = re.search(r'r._measurement == "(\w+)"', body["query"])
        data = (HEAD + (ROWS if m and m.group(1) == "wearable" else "") + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_v2_source_reads_pivoted_flux_rows_into_batches(small_city):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        counts: Counter[str] = Counter()
        start = 1_732_492_800_000  # 2024-11-25T00:00:00Z
        batches = list(influx_v2(url, "gridwatch", "city", "tok", small_city, start, start + 3_600_000, counts))
    finally:
        server.shutdown()
    (b,) = batches
    assert b.kind == "wearable" and b.ts.tolist() == [start + 5123, start + 15000]
    assert b.values["heart_rate"].tolist() == [72.0, 70.0] and b.values["spo2"][1] != b.values["spo2"][1]  # NaN
    assert counts["unknown_device"] == 1
    first = Handler.asked[0]
    assert first["path"].startswith("/api/v2/query?org=city") and first["auth"] == "Token tok"
    assert 'from(bucket: "gridwatch")' in first["query"] and "pivot(" in first["query"]
    assert len(Handler.asked) == 4  # one query per kind for the one-hour slice
