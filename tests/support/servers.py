"""Real servers for integration tests: a private Mosquitto and InfluxDB 1.x.

Each runs on free loopback ports with its own data directory, so tests are isolated
and may stop, kill and restart them. A missing binary is a hard error (CI installs
Debian's ``mosquitto`` and ``influxdb``): integration tests never skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def require_binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not path:
        raise RuntimeError(f"{name} is not installed; run `make setup` (Debian package needed)")
    return path


@dataclass
class ManagedServer:
    """A server process we own: start, stop (graceful), kill (SIGKILL), restart."""

    name: str
    argv: list[str]
    port: int
    workdir: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        try:
            self.wait_ready()
        except TimeoutError:
            self.kill()
            tail = (self.workdir / f"{self.name}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} did not start:\n{tail}") from None

    def wait_ready(self) -> None:
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {dir}/
autosave_interval 1
# "nothing lost": the default of 1000 queued messages per client drops the rest
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
log_type error
log_type warning
"""


class Mosquitto(ManagedServer):
    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


def _writable_by_mosquitto(workdir: Path) -> None:
    """Started as root, mosquitto drops to its own user: it must own its persistence dir.

    Without this it cannot save sessions ("Error: Permission denied" every autosave)
    and a broker restart silently loses queued messages."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    os.chown(workdir, user.pw_uid, user.pw_gid)


def start_mosquitto(workdir: Path, port: int | None = None) -> Mosquitto:
    binary = require_binary("mosquitto")
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    _writable_by_mosquitto(workdir)
    conf = workdir / "mosquitto.conf"
    conf.write_text(MOSQUITTO_CONF.format(port=port, dir=workdir))
    server = Mosquitto("mosquitto", [binary, "-c", str(conf)], port, workdir)
    server.start()
    return server


INFLUX_CONF = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{dir}/meta"
  logging-enabled = false
[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  max-body-size = 0
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
"""


class InfluxDB1(ManagedServer):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                    if r.status == 204:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError("influxd /ping never answered")

    def query(self, q: str, db: str) -> dict:
        """Run an InfluxQL query (v1 /query) and return the decoded JSON."""
        import json
        from urllib.parse import urlencode

        params = urlencode({"q": q, "db": db, "epoch": "ms"})
        with urllib.request.urlopen(f"{self.url}/query?{params}", timeout=30) as r:
            return json.loads(r.read())

    def create_database(self, db: str) -> None:
        from urllib.parse import urlencode

        data = urlencode({"q": f'CREATE DATABASE "{db}"'}).encode()
        urllib.request.urlopen(urllib.request.Request(self.url + "/query", data=data), timeout=10).read()

    def points(self, measurement: str, db: str) -> list[dict]:
        """Every point of a measurement as dicts (``time`` in epoch ms, tags and fields)."""
        res = self.query(f'SELECT * FROM "{measurement}"', db)["results"][0]
        out: list[dict] = []
        for series in res.get("series", []):
            cols = series["columns"]
            out.extend(dict(zip(cols, row, strict=True)) for row in series["values"])
        return out


def start_influxdb(workdir: Path, port: int | None = None) -> InfluxDB1:
    binary = require_binary("influxd")
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "influxdb.conf"
    conf.write_text(INFLUX_CONF.format(port=port, rpc_port=free_port(), dir=workdir))
    server = InfluxDB1("influxd", [binary, "-config", str(conf)], port, workdir)
    server.start()
    return server
