"""Detector quality on the simulators' models: independent evidence for the targets.

``benchmarks/detector_quality.py`` uses a generator of its own, which the detectors
were tuned against. This one draws everything from ``simulators/`` (another
engineer's models: daily rhythm, walks, sleep, cooking, rainfall-driven rivers,
weekly meter profiles with public holidays, 10-60 s intervals with phases, lost
messages, ten-minute gaps, clock skew and jitter) and its incidents and faults:

* a generated city (``simulators.citygen``), one ``World`` per kind with a scenario
  built here: incidents of the kind spread over the run, sensor faults (stuck,
  spikes, band off, battery dying, dropout) on other devices, moderate storms that
  stay below the warning levels, and per kind a warm-up history (meters 15 days);
* readings fed exactly as ``gridwatch replay`` does (``simulators.replay.engine.Replayer``:
  one-hour slices, ``DetectorEngine.process`` per 60 s tick, then ``tick``, on a
  ``ManualClock`` that follows the readings).

Printed per incident type: recall, precision, latency from onset (median / max);
for floods the lead before each gauge crosses its warning level; then false red and
false orange alert episodes per 10,000 device-days (device-days counted after the
warm-up; alerts counted at any time) and what the sensor faults raised.

    .venv/bin/python benchmarks/detector_quality_sim.py            # ~32,800 device-days, ~5 minutes
    .venv/bin/python benchmarks/detector_quality_sim.py --quick    # ~1/10
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from core.city import City, load_city
from core.clock import ManualClock
from core.kinds import kind_code
from core.severity import Severity
from detectors.config import DetectorConfig
from detectors.engine import DetectorEngine
from simulators.citygen import generate_city
from simulators.replay.engine import Replayer
from simulators.replay.stores import slices
from simulators.scenario import parse_scenario
from simulators.signals import MODELS, schedule
from simulators.world import World

START = "2025-09-24T00:00:00+08:00"  # a Wednesday; meters run into the National Day week (holidays)
RED, ORG, YEL, BLU = (int(s) for s in (Severity.RED, Severity.ORANGE, Severity.YELLOW, Severity.BLUE))
BEFORE_MS, AFTER_MS = 120_000, 600_000  # an alert this close to an incident belongs to it (as replay reports)


@dataclass(frozen=True)
class Plan:
    """One kind's run: devices per grid, days after warm-up, incidents and faults to place."""

    per_grid: float
    days: float
    warmup: str
    incidents: dict[str, int]  # type -> how many over the run
    duration: dict[str, str]
    faults: tuple[str, ...]
    fault_share: float = 0.04  # fault episodes per device over the run


PLANS = {
    "wearable": Plan(6, 4, "1h", {"cardiac": 200, "fall": 200, "hypoxemia": 200},
                     {"cardiac": "20m", "fall": "20m", "hypoxemia": "30m"},
                     ("stuck", "spikes", "band_off", "battery_dying", "dropout")),
    "smoke": Plan(8, 4, "30m", {"fire": 200}, {"fire": "40m"}, ("stuck", "spikes", "battery_dying", "dropout")),
    "river_gauge": Plan(1, 6, "2h", {"flood": 30}, {"flood": "14h"}, ("stuck", "spikes", "dropout")),
    "meter": Plan(0.5, 7, "15d", {"meter_anomaly": 60}, {"meter_anomaly": "2h"}, ("stuck", "spikes", "dropout")),
}
# incident type -> (rules that count as raising it, lowest severity that counts)
RULES = {
    "cardiac": ({"wearable.hr_drop", "wearable.bradycardia"}, RED),
    "fall": ({"wearable.fall"}, RED),
    "hypoxemia": ({"wearable.spo2_low"}, ORG),
    "fire": ({"smoke.fire"}, RED),
    "flood": ({"river_gauge.projected", "river_gauge.level"}, YEL),
    "meter_anomaly": ({"meter.stop", "meter.profile", "meter.iforest"}, YEL),
}
LIFE_SAFETY = ("cardiac", "fall", "fire")  # red within 60 s; hypoxemia is an orange case (slow 5-min fall)
# the first reading that shows the danger, as the suite in benchmarks/detector_quality.py dates its onsets
VISIBLE = {"hypoxemia": ("spo2", lambda v: v < 90.0, "SpO2 first read below 90 %"),
           "fire": ("smoke", lambda v: v >= 4.0, "a sensor first read >= 4 %/m smoke (alarm range)")}


def scenario_for(kind: str, plan: Plan, scale: float, seed: int):
    """A scenario of one kind: incidents spread over the run, faults on other devices, storms."""
    rng = np.random.default_rng([seed, len(kind)])
    span = plan.days * 86400.0
    kinds_inc = [t for t, n in plan.incidents.items() for _ in range(max(2, round(n * scale)))]
    rng.shuffle(kinds_inc)
    at = np.sort(rng.uniform(0.02, 0.92, len(kinds_inc))) * span
    incidents = [{"type": t, "at": float(a), "duration": plan.duration[t]} for t, a in zip(kinds_inc, at, strict=True)]
    for inc in incidents:
        if inc["type"] == "flood":
            inc.update(rate_mm_h=float(rng.uniform(25, 45)), rain=float(rng.uniform(2, 4) * 3600))
    return incidents, span


def build_world(city: City, kind: str, plan: Plan, scale: float, seed: int) -> World:
    incidents, span = scenario_for(kind, plan, scale, seed)
    rng = np.random.default_rng([seed, len(kind), 1])
    n_dev = int(np.sum(city.devices.kind == _code(kind)))
    n_faults = max(len(plan.faults), round(plan.fault_share * n_dev))
    faults = [{"type": plan.faults[k % len(plan.faults)], "kind": kind, "at": float(rng.uniform(0.0, 0.9) * span),
               "duration": float(rng.uniform(1, 4) * 3600)} for k in range(n_faults)]
    storms = []
    if kind == "river_gauge":  # rain that lifts the rivers 0.5-1.5 m, well below the warning level
        storms = [{"at": float(rng.uniform(0.05, 0.9) * span), "duration": float(rng.uniform(2, 5) * 3600),
                   "rate_mm_h": float(rng.uniform(4, 9))} for _ in range(3)]
    return World(city, parse_scenario({
        "name": f"quality-{kind}", "seed": seed, "start": START, "duration": span,
        "publish": {"kinds": [kind], "warmup": plan.warmup},
        "incidents": incidents, "faults": faults, "storms": storms,
    }), start_s=_start_s())


def _start_s() -> float:
    return dt.datetime.fromisoformat(START).timestamp()


def _code(kind: str) -> int:
    return kind_code(kind)


def detector_config() -> DetectorConfig:
    """Defaults, with the forest refit inline (``engine.refit()`` once a simulated day) for determinism."""
    cfg = DetectorConfig()
    forest = cfg.meter.iforest.model_copy(update={"background": False})
    return cfg.model_copy(update={"meter": cfg.meter.model_copy(update={"iforest": forest})})


def replay_world(city: City, world: World) -> tuple[list, int]:
    """Every reading of the world (warm-up included) through a fresh engine, as ``gridwatch replay`` feeds it."""
    a_ms = round((world.start_s - world.warmup_s()) * 1000)
    end_ms = round(world.end_s * 1000)
    clock = ManualClock(a_ms / 1000)
    engine = DetectorEngine(city, detector_config(), clock)
    rep = Replayer(city, engine, clock, tick_ms=60_000)
    day = 0
    for a, b in slices(a_ms, end_ms, 3_600_000):
        rep.feed(world.window(a / 1000, b / 1000))
        if (b - a_ms) // 86_400_000 > day:  # the meter forest is refit off the hot path once a day in service
            day = (b - a_ms) // 86_400_000
            engine.refit()
    rep.finish(end_ms)
    engine.close()
    return rep.result.alerts, rep.result.readings


# ---------------------------------------------------------------------------------------- scoring

@dataclass
class Episode:
    """One alert from pending to resolution: its first firing time and the time it reached each severity."""

    device: str
    rule: str
    first_ms: int
    reached: dict[int, int] = field(default_factory=dict)  # severity -> first at_ms at or above it

    def at(self, sev: int) -> int | None:
        return min((t for s, t in self.reached.items() if s >= sev), default=None)


def episodes(alerts: list) -> list[Episode]:
    out: dict[tuple[str, str, int], Episode] = {}
    for e in alerts:
        if e.state != "firing":
            continue
        ep = out.setdefault((e.device_id, e.rule, e.started_ms), Episode(e.device_id, e.rule, e.at_ms))
        ep.reached.setdefault(int(e.severity), e.at_ms)
    return list(out.values())


@dataclass
class Tally:
    device_days: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    clean_days: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    readings: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latency: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # s from onset, None = missed
    visible: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # s from the first telling reading
    unheard: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # latency when no report in 60 s
    by_interval: dict[str, dict[float, list]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    tp: Counter = field(default_factory=Counter)
    claimed: Counter = field(default_factory=Counter)
    lead_min: list = field(default_factory=list)  # per gauge crossing: minutes of warning before it (None = none)
    false: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # kind -> severity -> n
    false_rules: Counter = field(default_factory=Counter)  # (kind, rule, severity) of the false red/orange
    fault_top: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # fault type -> top sev
    examples: list = field(default_factory=list)


def score(kind: str, world: World, alerts: list, readings: int, t: Tally) -> None:
    ids = world.city.devices.ids
    truth = [(i.type, {str(ids[s]) for s in i.devices}, round(i.start_s * 1000), round(i.end_s * 1000), i)
             for i in world.incidents]
    eps = episodes(alerts)
    span_d = (world.end_s - world.start_s) / 86400
    n_dev = int(np.sum(world.city.devices.kind == _code(kind)))
    t.device_days[kind] += n_dev * span_d
    t.clean_days[kind] += n_dev * span_d - sum(len(devs) * (b - a + BEFORE_MS + AFTER_MS) / 86_400_000
                                               for _, devs, a, b, _ in truth)
    t.readings[kind] += readings

    def incident_of(ep: Episode) -> str | None:
        for typ, devs, a, b, _ in truth:
            if ep.device in devs and a - BEFORE_MS <= ep.first_ms <= b + AFTER_MS:
                return typ
        return None

    fleet = world.fleets[kind]
    interval = {str(ids[s]): float(v) for s, v in zip(fleet.slots, fleet.p["interval"], strict=True)}
    by_dev: dict[str, list[Episode]] = defaultdict(list)
    for ep in eps:
        by_dev[ep.device].append(ep)
    for typ, devs, a, b, inc in truth:
        rules, sev = RULES[typ]
        hits = [(x, d) for d in devs for ep in by_dev[d] if ep.rule in rules
                and (x := ep.at(sev)) is not None and a <= x <= b + AFTER_MS]
        lat = (min(hits)[0] - a) / 1000 if hits else None
        if typ in LIFE_SAFETY and not heard_within(world, inc, 60.0):
            t.unheard[typ].append(lat)  # the radio lost every report of the first minute: nothing to detect
            continue
        t.latency[typ].append(lat)
        first = min(hits)[1] if hits else str(ids[inc.devices[0]])
        t.by_interval[typ][interval[first]].append(lat)
        if typ in VISIBLE and hits:
            seen = first_visible(world, inc, *VISIBLE[typ][:2])
            if seen is not None:
                t.visible[typ].append((min(hits)[0] - seen) / 1000)
        if typ == "flood":
            for dev, cross in (inc.facts.get("warning_crossed_ms") or {}).items():
                if cross is None:
                    continue
                first = [x for ep in by_dev[dev] if ep.rule in rules and (x := ep.at(sev)) is not None
                         and a <= x <= cross + AFTER_MS]
                t.lead_min.append((cross - min(first)) / 60_000 if first else None)
    for typ, (rules, sev) in RULES.items():
        if INCIDENT_KIND_OF[typ] != kind:
            continue
        for ep in eps:
            if ep.rule in rules and ep.at(sev) is not None and incident_of(ep) in (None, typ):
                t.claimed[typ] += 1  # another incident's alert is neither true nor false for this type
                t.tp[typ] += incident_of(ep) == typ
    faults = [(f.type, {str(ids[s]) for s in f.devices}, round(f.start_s * 1000), round(f.end_s * 1000))
              for f in world.faults]
    for ftype, devs, a, b in faults:
        top = max((max(ep.reached) for d in devs for ep in by_dev[d] if a <= ep.first_ms <= b + AFTER_MS
                   and incident_of(ep) is None), default=0)
        t.fault_top[ftype][top] += 1
    for ep in eps:
        top = max(ep.reached)
        if top < ORG or incident_of(ep) is not None:
            continue
        t.false[kind][top] += 1
        t.false_rules[(kind, ep.rule, top)] += 1
        if len(t.examples) < 40:
            t.examples.append((kind, ep.device, ep.rule, str(Severity(top)), ep.first_ms))


def heard_within(world: World, inc, seconds: float) -> bool:
    """Whether any of the incident's devices delivered a report in [onset, onset + seconds)."""
    f = world.fleets[inc.kind]
    for j in f.local(inc.devices):
        iv, ph = float(f.p["interval"][j]), float(f.p["phase"][j])
        k0 = np.ceil((inc.start_s - ph) / iv)
        t = ph + iv * np.arange(k0, k0 + np.ceil(seconds / iv))
        t = t[t < inc.start_s + seconds]
        if schedule.delivered(f, np.full(len(t), j), t).any():
            return True
    return False


def first_visible(world: World, inc, fld: str, pred) -> int | None:
    """Epoch ms of the first report (any of the incident's devices) whose ``fld`` meets ``pred``."""
    f = world.fleets[inc.kind]
    best = None
    for j in f.local(inc.devices):
        iv, ph = float(f.p["interval"][j]), float(f.p["phase"][j])
        k0 = np.ceil((inc.start_s - ph) / iv)
        t = ph + iv * np.arange(k0, k0 + 1800 / iv)
        i = np.full(len(t), j)
        v = MODELS[inc.kind].values(f, i, t)
        inc.modify(f, i, t, v, np.ones(len(t), bool))
        hit = np.flatnonzero(pred(v[fld]))
        if len(hit) and (best is None or t[hit[0]] < best):
            best = t[hit[0]]
    return None if best is None else round(best * 1000)


INCIDENT_KIND_OF = {"cardiac": "wearable", "fall": "wearable", "hypoxemia": "wearable", "fire": "smoke",
                    "flood": "river_gauge", "meter_anomaly": "meter"}


def _interval_stats(iv: float, v: list) -> str:
    g = [x for x in v if x is not None]
    missed = f", {len(v) - len(g)} missed" if len(g) < len(v) else ""
    return f"{iv:.0f} s: {np.median(g):.0f} / {max(g):.0f} (n {len(g)}{missed})" if g else f"{iv:.0f} s: none"


def report(t: Tally, seconds: float) -> list[str]:
    misses = []
    print(f"\n{'incident':<14} {'n':>4} {'recall':>7} {'precision':>9}  {'latency from onset (s) median / max':>36}"
          "  counts as")
    for typ, (rules, sev) in RULES.items():
        vals = t.latency[typ]
        if not vals:
            continue
        got = [v for v in vals if v is not None]
        recall = len(got) / len(vals)
        prec = t.tp[typ] / max(t.claimed[typ], 1)
        lat = f"{np.median(got):>8.0f} / {max(got):.0f}" if got else "-"
        print(f"{typ:<14} {len(vals):>4} {recall:>7.3f} {prec:>9.3f}  {lat:>36}  {'|'.join(sorted(rules))} "
              f">= {Severity(sev)}")
        if typ in LIFE_SAFETY or typ == "hypoxemia":
            print(" " * 16 + "by the alerting device's reporting interval: " + ", ".join(
                _interval_stats(iv, v) for iv, v in sorted(t.by_interval[typ].items())))
        if t.unheard.get(typ):
            u = t.unheard[typ]
            print(" " * 16 + f"+ {len(u)} not counted above: no report delivered in the first minute (radio gap); "
                  f"raised {', '.join('-' if x is None else f'{x:.0f} s' for x in u)} after onset")
        if t.visible.get(typ):
            v = t.visible[typ]
            print(" " * 16 + f"from when {VISIBLE[typ][2]}: median {np.median(v):.0f} / max {max(v):.0f} s")
        if typ in LIFE_SAFETY and (recall < 1 or max(got, default=1e9) > 60):
            misses.append(f"{typ}: recall {recall:.3f}, max latency {max(got, default=float('nan')):.0f} s")
    if t.lead_min:
        got = [v for v in t.lead_min if v is not None]
        print(f"flood, per gauge crossing its warning level ({len(t.lead_min)}): warned before crossing "
              f"{len(got)}/{len(t.lead_min)}; lead (min) median {np.median(got):.0f} / min {min(got):.0f}"
              if got else "flood: no gauge warned")
        if not got or len(got) < len(t.lead_min) or min(got) < 10:
            misses.append("river lead < 10 min or a crossing unwarned")
    days, clean = sum(t.device_days.values()), sum(t.clean_days.values())
    print(f"\n{days:,.0f} device-days after warm-up ({clean:,.0f} outside incident windows): "
          + ", ".join(f"{k} {v:,.0f}" for k, v in t.device_days.items()))
    print(f"{sum(t.readings.values()):,} readings (warm-up included)")
    reds = sum(c[RED] for c in t.false.values())
    oranges = sum(c[ORG] for c in t.false.values())
    for k, d in t.device_days.items():
        c = t.false[k]
        print(f"  {k:<12} false red {c[RED]:>4} ({1e4 * c[RED] / d:.2f} per 10,000 device-days), "
              f"false orange {c[ORG]:>4} ({1e4 * c[ORG] / d:.2f})")
    print(f"false reds overall: {reds} = {1e4 * reds / days:.2f} per 10,000 device-days (target <= 1); "
          f"false oranges {oranges} = {1e4 * oranges / days:.2f}")
    for (_k, rule, sev), n in sorted(t.false_rules.items()):
        print(f"    {rule:<24} {Severity(sev)!s:<6} {n}")
    print("sensor faults, highest severity raised: " + "; ".join(
        f"{f} {dict(sorted((str(Severity(s)) if s else 'none', n) for s, n in c.items()))}"
        for f, c in sorted(t.fault_top.items())))
    if 1e4 * reds / days > 1:
        misses.append(f"false reds {1e4 * reds / days:.2f}/10k device-days")
    if any(c[RED] for c in t.fault_top.values()):
        misses.append("a sensor fault raised red")
    print(f"\n{'all targets met' if not misses else 'MISSED: ' + '; '.join(misses)}  ({seconds:.0f} s; "
          "2-core machine shared with other engineers)")
    return misses


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 towns, not 25 (1/8 of the devices)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kinds", default=",".join(PLANS), help="comma-separated kinds to run")
    ap.add_argument("--examples", action="store_true", help="list false red/orange alerts")
    args = ap.parse_args()
    towns = 3 if args.quick else 25
    tally, t0 = Tally(), time.monotonic()
    for kind in args.kinds.split(","):
        plan = PLANS[kind]
        with tempfile.TemporaryDirectory() as tmp:
            city = load_city(generate_city(Path(tmp) / "city", towns_per_district=towns, grids_per_town=20,
                                           devices_per_grid={kind: plan.per_grid}, seed=args.seed))
        world = build_world(city, kind, plan, towns / 25, args.seed)
        alerts, readings = replay_world(city, world)
        score(kind, world, alerts, readings, tally)
        print(f"{kind}: {len(city.devices):,} devices, {readings:,} readings, {len(world.incidents)} incidents, "
              f"{len(world.faults)} faults ({time.monotonic() - t0:.0f} s)", flush=True)
    misses = report(tally, time.monotonic() - t0)
    if args.examples:
        for ex in tally.examples:
            print("  ", *ex)
    return 0 if not misses else 1


if __name__ == "__main__":
    raise SystemExit(main())
