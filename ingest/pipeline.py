"""The ingest pipeline: MQTT inbox -> decode -> (consumers, dead letters, sink) -> acknowledgements.

One thread takes what the MQTT source appended to its inbox, in rounds of up to
``ROUND_MESSAGES`` messages or ``ROUND_BYTES`` of payload (waiting ``ROUND_WAIT_S`` for a
small round to fill: the column work has a fixed cost per round), and for each round:

1. decodes it (``ingest.decode``) into one ``ReadingBatch`` per kind and rejections;
2. counts everything (received, accepted per kind, rejected per reason and level);
3. writes the rejected messages to the dead-letter store (committed at once);
4. hands every accepted batch to each **batch consumer** (``consume(batch)``: the
   detector engine, anything else the service registers) — before storage, so
   detection never waits for InfluxDB;
5. submits the batches to the sink with the round's number.

When the sink reports a round durable, the round's messages are acknowledged to the
broker (in order). Until then the broker holds them, so a crash at any point loses
nothing: unacknowledged messages are redelivered to the persistent session.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Protocol

from core.batch import ReadingBatch
from ingest.dead_letters import DeadLetter, DeadLetterStore
from ingest.decode import Decoded, Decoder
from ingest.metrics import IngestMetrics
from ingest.mqtt_source import Received
from ingest.sink import Sink

log = logging.getLogger(__name__)

ROUND_MESSAGES = 2000
ROUND_BYTES = 4 << 20  # ~500 gateway messages: detectors and encoder cost less per reading in big batches
ROUND_WAIT_S = 0.005  # at most this much latency is added to fill a round


class BatchConsumer(Protocol):
    def consume(self, batch: ReadingBatch) -> None:
        """Called on the pipeline thread for every accepted batch; must not block on I/O."""
        ...


class Inbox(Protocol):
    """What the pipeline needs of a source (``MqttSource`` has it; tests fake it)."""

    inbox: deque[Received]
    wakeup: threading.Event

    def ack(self, received: list[tuple[int, int, int]]) -> None: ...


class Pipeline:
    def __init__(
        self,
        source: Inbox,
        decoder: Decoder,
        sink: Sink,
        dead_letters: DeadLetterStore,
        metrics: IngestMetrics,
        consumers: list[BatchConsumer] | None = None,
    ) -> None:
        self.source, self.decoder, self.sink = source, decoder, sink
        self.dead_letters, self.metrics = dead_letters, metrics
        self.consumers: list[BatchConsumer] = consumers if consumers is not None else []
        self._round = 0
        self._unacked: deque[tuple[int, list[tuple[int, int, int]]]] = deque()
        self._unacked_count = 0
        self._ack_lock = threading.Lock()
        self._running = False
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-pipeline", daemon=True)
        sink.on_durable = self._durable

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._running = True
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Process what is in the inbox, then stop the thread (the sink is stopped by the caller)."""
        self._running = False
        self.source.wakeup.set()
        self._thread.join(timeout)

    def drained(self, timeout: float) -> bool:
        """Wait until the inbox is empty and processed (for tests and shutdown)."""
        return self._idle.wait(timeout)

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        inbox, wakeup = self.source.inbox, self.source.wakeup
        while True:
            if not inbox:
                self._idle.set()
                if not self._running:
                    return
                wakeup.wait(0.5)
                wakeup.clear()
                continue
            self._idle.clear()
            if len(inbox) < ROUND_MESSAGES // 4 and self._running:
                time.sleep(ROUND_WAIT_S)  # let a round fill: numpy's fixed costs per round, not per message
            batch: list[Received] = []
            size = 0
            while inbox and len(batch) < ROUND_MESSAGES and size < ROUND_BYTES:
                item = inbox.popleft()
                batch.append(item)
                size += len(item[1])
            try:
                self.process(batch)
            except Exception:  # a bug: keep ingesting; these messages stay unacknowledged until restart
                log.exception("ingest: a round of %d messages failed; they stay unacknowledged", len(batch))

    def process(self, received: list[Received]) -> Decoded:
        """Decode, count, dead-letter, consume and submit one round."""
        decoded = self.decoder.decode([(r[0], r[1], r[5]) for r in received])
        self._count(decoded)
        if decoded.rejections:
            self._dead_letter(received, decoded)
        for batch in decoded.batches:
            for consumer in self.consumers:
                try:
                    consumer.consume(batch)
                except Exception:
                    name = type(consumer).__name__
                    self.metrics.consumer_errors.labels(name).inc()
                    log.exception("batch consumer %s failed on %d %s readings", name, len(batch), batch.kind)
        self._round += 1
        with self._ack_lock:
            self._unacked.append((self._round, [(r[2], r[3], r[4]) for r in received]))
            self._unacked_count += len(received)
            self.metrics.inflight.set(self._unacked_count)
        self.sink.submit(decoded.batches, self._round, len(received))
        return decoded

    def _count(self, d: Decoded) -> None:
        m = self.metrics
        m.messages.inc(d.messages)
        m.fast_messages.inc(d.fast_messages)
        m.readings.inc(d.readings)
        for b in d.batches:
            m.accepted.labels(b.kind).inc(len(b))
        for reason, n in d.rejected_messages.items():
            m.rejected.labels(reason, "message").inc(n)
        for reason, n in d.rejected_readings.items():
            m.rejected.labels(reason, "reading").inc(n)

    def _dead_letter(self, received: list[Received], d: Decoded) -> None:
        by_message: dict[int, list] = {}
        for r in d.rejections:
            by_message.setdefault(r.message, []).append(r)
        letters = []
        for mi, rejections in sorted(by_message.items()):
            topic, payload, _mid, _qos, _conn, arrival = received[mi]
            letters.append(DeadLetter(
                arrival,
                topic.decode("utf-8", "replace"),
                tuple(r.reason for r in rejections),
                sum(r.count for r in rejections),
                "; ".join(f"{r.reason}: {r.detail}" + (f" (×{r.count})" if r.count > 1 else "")
                          for r in rejections[:5]),
                payload,
            ))
        evicted = self.dead_letters.add(letters)
        self.metrics.dead_letters.inc(len(letters))
        if evicted:
            self.metrics.dead_letters_evicted.inc(evicted)

    # ------------------------------------------------------------------ acknowledgements

    def _durable(self, upto: int) -> None:
        """Called by the sink (its thread): everything up to round ``upto`` is durable."""
        done: list[tuple[int, int, int]] = []
        with self._ack_lock:
            while self._unacked and self._unacked[0][0] <= upto:
                done += self._unacked.popleft()[1]
            self._unacked_count -= len(done)
            self.metrics.inflight.set(self._unacked_count)
        if done:
            self.source.ack(done)

    @property
    def unacked(self) -> int:
        return self._unacked_count


