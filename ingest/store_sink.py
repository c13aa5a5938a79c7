"""The embedded-store sink: with no InfluxDB configured, batches go to local files.

A commit writes the waiting batches as segments of the ``EmbeddedStore`` (fsync'd), and
only then are their MQTT messages acknowledged, exactly as with the InfluxDB sink.
"""

from __future__ import annotations

import logging
import time

from core.batch import ReadingBatch
from ingest.embedded_store import EmbeddedStore
from ingest.metrics import IngestMetrics
from ingest.sink import BufferedSink

log = logging.getLogger(__name__)


class StoreSink(BufferedSink):
    name = "store"

    def __init__(
        self,
        store: EmbeddedStore,
        metrics: IngestMetrics,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        flush_messages: int = 500,
    ) -> None:
        super().__init__(batch_size, flush_interval, flush_messages)
        self.store, self.metrics = store, metrics
        self.last_error: str | None = None
        metrics.storage_up.set(1)

    def _commit(self, batches: list[ReadingBatch]) -> bool:
        started = time.monotonic()
        try:
            self.store.append(batches)
        except OSError as exc:  # disk full, permissions: keep the messages unacknowledged and retry
            if self.last_error is None:
                log.error("embedded store %s: cannot write (%s); retrying", self.store.dir, exc)
            self.last_error = str(exc)
            self.metrics.storage_up.set(0)
            self.metrics.write_errors.labels("unavailable").inc()
            return False
        if self.last_error is not None:
            log.info("embedded store %s: writing again", self.store.dir)
            self.last_error = None
            self.metrics.storage_up.set(1)
        self.metrics.write_seconds.observe(time.monotonic() - started)
        self.metrics.written.inc(sum(len(b) for b in batches))
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_committer(timeout)

    def health(self) -> dict:
        return {"storage": "embedded", "path": str(self.store.dir), "reachable": self.last_error is None,
                "last_error": self.last_error}
