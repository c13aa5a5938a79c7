"""Which detectors exist per kind, their rules, and how a configuration builds them.

>>> from detectors.config import DetectorConfig
>>> [d.name for d in build_kind("wearable", DetectorConfig())]
['heart', 'spo2', 'fall', 'silence']
>>> [r.name for r in build_kind("smoke", DetectorConfig())[0].rules]
['smoke.fire', 'smoke.smoke', 'smoke.heat', 'smoke.co']
"""

from __future__ import annotations

from typing import Any

from detectors.alerting import RuleSpec
from detectors.base import Detector
from detectors.config import DetectorConfig, DetectorConfigError
from detectors.generic import Generic
from detectors.iforest import IForest
from detectors.meter import Counter, Profile
from detectors.river import Level, Stuck
from detectors.smoke import Fire
from detectors.wearable import Fall, Heart, Silence, Spo2

# kind -> detector name -> (class, rule suffixes; each suffix is also its Timing key in the config)
DETECTORS: dict[str, dict[str, tuple[type[Detector], tuple[str, ...]]]] = {
    "wearable": {
        "heart": (Heart, ("hr_drop", "bradycardia", "tachycardia")),
        "spo2": (Spo2, ("spo2_low",)),
        "fall": (Fall, ("fall",)),
        "silence": (Silence, ("no_signal",)),
    },
    "smoke": {"fire": (Fire, ("fire", "smoke", "heat", "co"))},
    "river_gauge": {
        "level": (Level, ("level", "projected", "rise_rate")),
        "stuck": (Stuck, ("stuck",)),
    },
    "meter": {
        "profile": (Profile, ("profile", "stop")),
        "iforest": (IForest, ("iforest",)),
        "counter": (Counter, ("counter_reset",)),
    },
}


def rules_for(kind: str, suffixes: tuple[str, ...], cfg: Any, names: tuple[str, ...] | None = None) -> list[RuleSpec]:
    """RuleSpecs named ``kind.suffix`` (or ``names``) with timing from ``cfg.<suffix>``."""
    names = names or tuple(f"{kind}.{s}" for s in suffixes)
    return [RuleSpec(n, getattr(cfg, s).for_s, getattr(cfg, s).clear_for_s) for n, s in zip(names, suffixes,
                                                                                            strict=True)]


def detector_names(kind: str) -> list[str]:
    """Names accepted in ``[<kind>] detectors`` and by ``detect --detector``."""
    return [*DETECTORS.get(kind, {}), "generic"]


def build_generic(kind: str, field: str, config: DetectorConfig) -> Generic:
    cfg = config.generic if kind == "generic" else config.kind(kind).generic
    rule = f"{kind}.{field}_anomaly" if kind != "generic" else f"generic.{field}"
    rules = rules_for(kind, ("anomaly",), cfg, (rule,))
    return Generic(cfg, rules, config.flap_window_s, config.flap_doublings, field=field)


def build(kind: str, name: str, config: DetectorConfig) -> Detector:
    """One detector of a kind, configured; ``DetectorConfigError`` for an unknown name."""
    known = DETECTORS.get(kind, {})
    if name not in known:
        raise DetectorConfigError(
            f"{kind}.detectors: unknown detector {name!r} (expected one of {', '.join(known) or 'none'})"
        )
    cls, suffixes = known[name]
    cfg = getattr(config.kind(kind), name)
    return cls(cfg, rules_for(kind, suffixes, cfg), config.flap_window_s, config.flap_doublings)


def build_kind(kind: str, config: DetectorConfig) -> list[Detector]:
    """Every detector the configuration turns on for ``kind``, plus generic ones per listed field."""
    kc = config.kind(kind)
    dets = [build(kind, name, config) for name in kc.detectors]
    return dets + [build_generic(kind, f, config) for f in kc.generic_fields]


def reconfigure(det: Detector, config: DetectorConfig) -> None:
    """Give ``det`` its new parameters from ``config`` without touching its state."""
    if isinstance(det, Generic):
        fresh = build_generic(det_kind(det), det.fields[0], config)
    else:
        fresh = build(det.kind, det.name, config)
    det.configure(fresh.cfg, fresh.rules, config.flap_window_s, config.flap_doublings)


def det_kind(det: Detector) -> str:
    """The kind a detector serves (a generic one carries it in its rule name)."""
    return det.rules[0].name.split(".", 1)[0] if isinstance(det, Generic) else det.kind
