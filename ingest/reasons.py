"""Why a message or a reading was rejected: the closed list of reasons an operator reads.

A reason names one rule; ``MESSAGE_REASONS`` reject a whole message (nothing in it could
be read), ``READING_REASONS`` reject one reading and let the rest of the message through.
Each reason is a Prometheus label value (``gridwatch_ingest_rejected_total{reason=...}``),
a column in the dead-letter store and a ``--reason`` filter of ``gridwatch dead-letters``.

>>> describe("out_of_range")
'a value outside the physical range of its field (core.kinds.FIELDS)'
>>> READING_REASONS.index("bad_reading") == BAD_READING
True
"""

from __future__ import annotations

# Whole-message rejections: the payload could not be read as readings at all.
MESSAGE_REASONS: tuple[str, ...] = (
    "bad_topic",  # not devices/{id}/telemetry or gateways/{id}/telemetry, or a bad id in it
    "too_large",  # payload over the size limit (checked before parsing)
    "bad_json",  # not UTF-8 JSON (incl. NaN/Infinity literals, numbers beyond double range)
    "too_deep",  # nesting deeper than the JSON parser allows
    "bad_shape",  # valid JSON but none of the telemetry forms (INTERFACES §1)
    "no_readings",  # an empty list or object
)

# Per-reading rejections; the code of a reason is its index here (0 is "accepted").
READING_REASONS: tuple[str, ...] = (
    "accepted",
    "bad_reading",  # a reading that is not {"ts": ..., "values": {...}} (or a bare object)
    "unknown_device",  # the device id is not in the city (or not a valid id)
    "bad_ts",  # ts is not epoch milliseconds (a string, a bool, out of int64)
    "wrong_type",  # a field value that is not a number: bool, string, list, object (null = not reported)
    "unknown_field",  # a field that the device's kind does not have
    "out_of_range",  # a value outside the field's physical range
    "ts_future",  # ts too far ahead of the clock
    "ts_too_old",  # ts before 2000-01-01
    "no_fields",  # a reading without any field value
)
(ACCEPTED, BAD_READING, UNKNOWN_DEVICE, BAD_TS, WRONG_TYPE, UNKNOWN_FIELD, OUT_OF_RANGE, TS_FUTURE, TS_TOO_OLD,
 NO_FIELDS) = range(len(READING_REASONS))

ALL_REASONS: tuple[str, ...] = MESSAGE_REASONS + READING_REASONS[1:]

_DESCRIPTIONS = {
    "bad_topic": "topic is not devices/{id}/telemetry or gateways/{id}/telemetry with a valid id",
    "too_large": "payload larger than the ingest limit",
    "bad_json": "payload is not UTF-8 JSON (NaN, Infinity and numbers beyond double range are not JSON)",
    "too_deep": "JSON nested deeper than the parser allows",
    "bad_shape": "JSON, but not one of the telemetry forms of INTERFACES §1",
    "no_readings": "an empty list or object: no readings in the message",
    "bad_reading": 'a reading that is not {"ts": ms, "values": {...}} (or, on a device topic, a bare object)',
    "unknown_device": "device id not in the city (or not a valid id)",
    "bad_ts": "ts is not an epoch-milliseconds number",
    "wrong_type": "a field value that is not a number (bool, string, list or object); null counts as not reported",
    "unknown_field": "a field the device's kind does not have",
    "out_of_range": "a value outside the physical range of its field (core.kinds.FIELDS)",
    "ts_future": "ts too far in the future",
    "ts_too_old": "ts before the year 2000",
    "no_fields": "a reading with no field values",
}


def describe(reason: str) -> str:
    """One line an operator can act on."""
    return _DESCRIPTIONS[reason]
