"""The embedded MQTT broker: amqtt in a child process, when no ``--mqtt`` is given.

``gridwatch run`` with no options must work on a fresh machine, so the broker comes
from a Python dependency: amqtt (MQTT 3.1.1). Checked here with paho: QoS 1 delivery,
manual acknowledgement and reconnects work. amqtt keeps a persistent session's
messages only for clients that authenticated, and it lives and dies with gridwatch
anyway, so the embedded setup is for demos and development: production points
``--mqtt`` at Mosquitto (``docker-compose.yml``), which keeps messages while gridwatch
restarts. It runs as a child process, not a thread, so the broker's asyncio loop does
not compete with the ingest hot path for the GIL; the child exits when its parent
does (it watches its parent pid).

Run alone: ``python -m ingest.embedded_broker --bind 127.0.0.1:1883``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """Start, stop and locate the child broker process."""

    def __init__(self, bind: str, log_dir: Path) -> None:
        host, _, port = bind.rpartition(":")
        self.host, self.port = host, int(port)
        self.log_path = Path(log_dir) / "embedded-broker.log"
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((self.host, self.port))
            except OSError as exc:
                raise RuntimeError(
                    f"cannot start the embedded MQTT broker on {self.host}:{self.port} ({exc.strerror}); "
                    f"is a broker already running there? Then use it: --mqtt mqtt://{self.host}:{self.port}"
                ) from None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = self.log_path.open("ab")
        argv = [sys.executable, "-m", "ingest.embedded_broker", "--bind", f"{self.host}:{self.port}",
                "--parent", str(os.getpid())]
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        # own session: Ctrl-C reaches gridwatch, which stops the broker last (the child
        # still exits when gridwatch is gone: it watches its parent pid)
        self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the embedded MQTT broker exited at start:\n{tail}")
            with socket.socket() as s:
                if s.connect_ex((self.host, self.port)) == 0:
                    log.info("embedded MQTT broker (amqtt) on %s", self.url)
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the embedded MQTT broker did not listen on {self.host}:{self.port} in {timeout:.0f} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


def broker_config(bind: str) -> dict:
    return {
        "listeners": {"default": {"type": "tcp", "bind": bind}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


async def _serve(bind: str, parent: int | None) -> None:
    from amqtt.broker import Broker

    broker = Broker(broker_config(bind))
    await broker.start()
    try:
        while parent is None or os.getppid() == parent:
            await asyncio.sleep(1.0)
    finally:
        await broker.shutdown()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ingest.embedded_broker", description=__doc__.splitlines()[0])
    p.add_argument("--bind", default="127.0.0.1:1883", help="HOST:PORT to listen on")
    p.add_argument("--parent", type=int, default=None, help="exit when this process is gone")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.bind, args.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
