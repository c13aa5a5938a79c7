"""Prometheus metrics: one registry per running service, never the global default.

A registry per service instance keeps tests exact (two pipelines in one test process
do not share counters) and lets ``/metrics`` show just this service. Components take
the registry as a constructor argument and create their metrics on it.

>>> reg = new_registry()
>>> from prometheus_client import Counter
>>> c = Counter("gridwatch_example_total", "an example", registry=reg); c.inc(3)
>>> b"gridwatch_example_total 3.0" in render(reg)
True
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


def new_registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


def render(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus text exposition format."""
    return generate_latest(registry)
