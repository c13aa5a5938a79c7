"""Sinks: where accepted batches become durable, and the batching every sink shares.

A sink is a batch consumer with a receipt: the pipeline calls ``submit(batches, upto,
messages)`` for every decoded round (also with no batches, when every reading of the
round was rejected), and the sink calls ``on_durable(upto)`` once everything submitted
up to that round is durable. Only then does the pipeline acknowledge the MQTT messages.

``BufferedSink`` owns the batching (telegraf's running_output is the model): a commit
happens when ``batch_size`` readings are waiting, when the oldest waiting submission is
``flush_interval`` old, or early when ``flush_messages`` MQTT messages wait for their
acknowledgement — the broker sends at most ``mqtt_max_inflight`` unacknowledged ones,
so waiting for a full batch there would stall the stream. ``submit`` never blocks: the
MQTT window bounds what can be waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from core.batch import ReadingBatch

log = logging.getLogger(__name__)

Durable = Callable[[int], None]


class Sink(Protocol):
    on_durable: Durable

    def submit(self, batches: list[ReadingBatch], upto: int, messages: int) -> None:
        """Take a round's accepted batches; called on the pipeline thread, never blocks."""
        ...

    def start(self) -> None: ...

    def stop(self, timeout: float) -> None:
        """Commit what is waiting, then take up to ``timeout`` s to deliver it; call once."""
        ...

    def health(self) -> dict:
        """A JSON-ready summary for ``/health``."""
        ...


class BufferedSink:
    """Batching and the commit thread; subclasses implement ``_commit``."""

    name = "sink"

    def __init__(self, batch_size: int, flush_interval: float, flush_messages: int) -> None:
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.flush_messages = max(1, flush_messages)
        self.on_durable: Durable = lambda upto: None
        self._cond = threading.Condition()
        self._pending: list[ReadingBatch] = []
        self._pending_readings = 0
        self._pending_messages = 0
        self._pending_upto: int | None = None
        self._oldest = 0.0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-commit", daemon=True)

    def submit(self, batches: list[ReadingBatch], upto: int, messages: int) -> None:
        with self._cond:
            if self._pending_upto is None:
                self._oldest = time.monotonic()
            self._pending.extend(batches)
            self._pending_readings += sum(len(b) for b in batches)
            self._pending_messages += messages
            self._pending_upto = upto
            if self._pending_readings >= self.batch_size or self._pending_messages >= self.flush_messages:
                self._cond.notify()

    def start(self) -> None:
        self._thread.start()

    def _due(self) -> bool:
        return self._pending_upto is not None and (
            self._stopping
            or self._pending_readings >= self.batch_size
            or self._pending_messages >= self.flush_messages
            or time.monotonic() - self._oldest >= self.flush_interval
        )

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due():
                    if self._stopping:
                        return
                    wait = self.flush_interval
                    if self._pending_upto is not None:
                        wait = max(0.0, self._oldest + self.flush_interval - time.monotonic())
                    self._cond.wait(wait)
                batches, upto = self._pending, self._pending_upto
                self._pending, self._pending_readings, self._pending_messages, self._pending_upto = [], 0, 0, None
            try:
                done = self._commit_until_done(batches)
            except Exception:  # a bug, not an outage: keep the thread, leave the messages unacknowledged
                log.exception("%s: commit failed; the messages stay unacknowledged", self.name)
                continue
            if done:
                self.on_durable(upto)

    def _commit_until_done(self, batches: list[ReadingBatch]) -> bool:
        """Commit, retrying while the subclass says it cannot yet (e.g. the spool is full).

        Gives up (False: not durable, not acknowledged) only when stopping."""
        while not self._commit(batches):
            if self._stopping:
                return False
            time.sleep(0.5)
        return True

    def _commit(self, batches: list[ReadingBatch]) -> bool:
        """Make ``batches`` durable; False to be called again later. Runs on the commit thread."""
        raise NotImplementedError

    def _stop_committer(self, timeout: float) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
