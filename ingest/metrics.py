"""The ingest pipeline's Prometheus metrics, created on the service's registry.

Names follow Prometheus conventions (``_total`` counters, base units). Invariants an
operator (and the tests) can check on ``/metrics``::

    gridwatch_ingest_messages_total == read messages + sum(rejected_total{level="message"})
    gridwatch_ingest_readings_total == sum(accepted_total) + sum(rejected_total{level="reading"})
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from core.kinds import KINDS
from ingest.reasons import MESSAGE_REASONS, READING_REASONS


class IngestMetrics:
    """Every ingest metric, pre-labelled where the label set is closed."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.mqtt_connected = Gauge("gridwatch_mqtt_connected", "1 while connected to the MQTT broker", registry=r)
        self.mqtt_connects = Counter("gridwatch_mqtt_connects", "successful MQTT (re)connections", registry=r)
        self.messages = Counter("gridwatch_ingest_messages", "MQTT messages received", registry=r)
        self.readings = Counter(
            "gridwatch_ingest_readings", "readings received in messages that could be read", registry=r
        )
        self.fast_messages = Counter(
            "gridwatch_ingest_fast_messages",
            "messages decoded by the C fast path (the rest took the general path: odd forms, rejections)", registry=r
        )
        self.accepted = Counter("gridwatch_ingest_accepted", "readings accepted", ["kind"], registry=r)
        self.rejected = Counter(
            "gridwatch_ingest_rejected", "messages or readings rejected, by reason", ["reason", "level"], registry=r
        )
        self.inflight = Gauge(
            "gridwatch_ingest_unacked_messages", "messages received but not yet acknowledged to the broker", registry=r
        )
        self.consumer_errors = Counter(
            "gridwatch_ingest_consumer_errors", "exceptions raised by batch consumers (detectors)", ["consumer"],
            registry=r,
        )
        for k in KINDS:
            self.accepted.labels(k)
        for reason in MESSAGE_REASONS:
            self.rejected.labels(reason, "message")
        for reason in READING_REASONS[1:]:
            self.rejected.labels(reason, "reading")
        # storage
        self.written = Counter("gridwatch_storage_written", "readings written to InfluxDB or the embedded store",
                               registry=r)
        self.write_seconds = Histogram(
            "gridwatch_storage_write_seconds", "time of one write to InfluxDB or the embedded store", registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.write_errors = Counter(
            "gridwatch_storage_write_errors", "failed writes, by what was done about them", ["reason"], registry=r
        )
        self.dropped = Counter(
            "gridwatch_storage_dropped", "readings InfluxDB refused for good (400/422), by reason", ["reason"],
            registry=r,
        )
        self.storage_up = Gauge("gridwatch_storage_up", "1 while the last write succeeded", registry=r)
        self.spool_bytes = Gauge("gridwatch_spool_bytes", "bytes in the disk spool not yet written", registry=r)
        self.spool_readings = Gauge("gridwatch_spool_readings", "readings in the disk spool not yet written",
                                    registry=r)
        self.spool_max_bytes = Gauge("gridwatch_spool_max_bytes", "the disk spool's bound", registry=r)
        self.dead_letters = Counter("gridwatch_dead_letters", "rejected messages kept in the dead-letter store",
                                    registry=r)
        self.dead_letters_evicted = Counter(
            "gridwatch_dead_letters_evicted", "dead letters removed to respect the row cap (oldest first)", registry=r
        )
