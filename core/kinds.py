"""Device kinds and their fields: the fixed vocabulary of INTERFACES §2.

Every field has a unit and a physical range. A value outside the range cannot come
from a working sensor, so ingest rejects it (reason ``out_of_range``) instead of
letting it reach the detectors or InfluxDB.

>>> FIELDS["wearable"]["heart_rate"].unit
'bpm'
>>> kind_code("smoke")
1
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS: tuple[str, ...] = ("wearable", "smoke", "river_gauge", "meter")
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One measured field: its unit and the range a working sensor can report."""

    unit: str
    lo: float
    hi: float
    event: bool = False  # 0/1 flags such as ``fall``


FIELDS: dict[str, dict[str, FieldSpec]] = {
    "wearable": {
        "heart_rate": FieldSpec("bpm", 0.0, 300.0),
        "spo2": FieldSpec("%", 0.0, 100.0),
        "fall": FieldSpec("0/1", 0.0, 1.0, event=True),
        "battery": FieldSpec("%", 0.0, 100.0),
    },
    "smoke": {
        "smoke": FieldSpec("%/m", 0.0, 100.0),
        "temperature": FieldSpec("°C", -50.0, 200.0),
        "co": FieldSpec("ppm", 0.0, 10_000.0),
        "battery": FieldSpec("%", 0.0, 100.0),
    },
    "river_gauge": {
        "level": FieldSpec("m", -100.0, 1_000.0),
        "rain": FieldSpec("mm", 0.0, 1_000.0),
    },
    "meter": {
        "power_kw": FieldSpec("kW", -1.0e6, 1.0e6),
        "energy_kwh": FieldSpec("kWh", 0.0, 1.0e13),
    },
}


def kind_code(kind: str) -> int:
    """The small integer used for a kind in columnar arrays; ``KeyError`` if unknown."""
    return KIND_CODE[kind]


def field_names(kind: str) -> tuple[str, ...]:
    """The fields of a kind, in the fixed order used for batch columns."""
    return tuple(FIELDS[kind])
