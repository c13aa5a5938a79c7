"""Scenario files are validated strictly, and incidents/faults show in the readings as stated."""

import numpy as np
import pytest

from simulators.scenario import ScenarioError, builtin_names, load_scenario, parse_scenario
from simulators.world import World

START = 1_732_233_600.0


def _err(data: dict) -> str:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(data, "s.toml")
    return str(e.value)


@pytest.mark.parametrize(("data", "words"), [
    ({"name": "x", "duration": "5m", "sped": 3}, "sped: Extra inputs are not permitted"),
    ({"name": "x", "duration": "5 parsecs"}, "duration: Value error, '5 parsecs' is not a duration"),
    ({"name": "x", "duration": 60, "incidents": [{"type": "heartattack", "at": 1}]}, "incidents.0.type"),
    ({"name": "x", "duration": 60, "workers": {"no_answer_probability": 2}}, "workers.no_answer_probability"),
    ({"name": "x", "duration": 0}, "needs a [continuous] table"),
    ({"name": "x", "duration": 60, "city": {"builtin": True, "dir": "c"}}, "city: Value error, give only one"),
    ({"duration": 60}, "name: Field required"),
])
def test_validation_errors_name_the_key(data, words):
    msg = _err(data)
    assert msg.startswith("s.toml: ") and words in msg


def test_builtin_scenarios_and_the_annotated_example_are_valid(tmp_path):
    assert {"elderly-cardiac", "demo", "storm-day"} <= set(builtin_names())
    for name in builtin_names():
        load_scenario(name)
    from pathlib import Path

    import simulators
    load_scenario(Path(simulators.__file__).parent / "scenarios" / "annotated.toml")
    with pytest.raises(ScenarioError, match="no built-in scenario 'nope'"):
        load_scenario("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "b"\nduration = "1m"\n[[incidents]]\ntype = "fire"\nat = "1m"\ncolour = "red"\n')
    with pytest.raises(ScenarioError, match=r"bad.toml: incidents.0.colour"):
        load_scenario(bad)


def test_unknown_or_wrong_kind_device_is_named(small_city):
    s = load_scenario("elderly-cardiac").model_copy(update={"faults": []})
    wrong = s.model_copy(update={"incidents": [s.incidents[0].model_copy(update={"device": "sm-0001"})]})
    with pytest.raises(ScenarioError, match="incidents.inc-1.device: 'sm-0001' is a smoke, not a wearable"):
        World(small_city, wrong, START)
    missing = s.model_copy(update={"incidents": [s.incidents[0].model_copy(update={"device": "wb-9"})]})
    with pytest.raises(ScenarioError, match="unknown device 'wb-9'"):
        World(small_city, missing, START)


def test_cardiac_incident_drops_the_wearers_heart_rate_and_truth_says_red(small_city):
    s = load_scenario("elderly-cardiac")
    s = s.model_copy(update={"incidents": [s.incidents[0].model_copy(update={"device": "wb-0001"})],
                             "faults": [s.faults[0].model_copy(update={"device": "wb-0002"})]})
    w = World(small_city, s, START)
    (b,) = [b for b in w.window(START, START + 900) if b.kind == "wearable"]
    truth = w.ground_truth()
    (inc,) = truth["incidents"]
    assert inc["type"] == "cardiac" and inc["devices"] == ["wb-0001"] and inc["expected_severity"] == "red"
    assert inc["onset_ms"] == (START + 180) * 1000 and "medical-120" in inc["departments"]
    me = b.device == small_city.devices.slot("wb-0001")
    t = b.ts[me] / 1000 - START
    hr = b.values["heart_rate"][me]
    assert hr[t < 175].min() > 50 and hr[(t > 300) & (t < 900)].max() < 42
    assert truth["faults"][0]["type"] == "fault:band_off" and truth["faults"][0]["must_not"] == "red"
    off = (b.device == small_city.devices.slot("wb-0002")) & (b.ts / 1000 > START + 125) & (b.ts / 1000 < START + 415)
    assert np.all(b.values["heart_rate"][off] == 0) and np.all(np.isnan(b.values["spo2"][off]))


def test_fire_is_seen_by_several_sensors_and_flood_rises_downstream(tmp_path):
    from core.city import load_city
    from simulators.citygen import generate_city

    city = load_city(generate_city(tmp_path / "c", grids_per_town=6, seed=2))
    s = load_scenario("storm-day").model_copy(update={"faults": []})
    w = World(city, s, START)
    truth = {i["type"]: i for i in w.ground_truth()["incidents"]}
    fire = truth["fire"]
    assert len(fire["devices"]) == 3
    batches = {b.kind: b for b in w.window(START + 12.5 * 3600, START + 12.5 * 3600 + 600)}
    sm = batches["smoke"]
    for dev in fire["devices"]:
        vals = sm.values["smoke"][sm.device == city.devices.slot(dev)]
        assert vals.max() > 10  # obscuration far above any alarm threshold
    flood = truth["flood"]
    crossed = [flood["warning_crossed_ms"][d] for d in flood["devices"]]
    assert crossed[0] is not None and crossed[0] > flood["onset_ms"]
    assert flood["expected_severity"] in ("orange", "red")


def test_continuous_scenario_keeps_adding_incidents(small_city):
    w = World(small_city, load_scenario("demo"), START)
    w.window(START, START + 1000)
    first = len(w.ground_truth()["incidents"])
    w.window(START + 1000, START + 2000)
    assert 4 <= first < len(w.ground_truth()["incidents"])


def test_a_fall_without_recovery_stays_red_until_the_incident_ends(small_city):
    """The band keeps ``fall=1`` until the wearer cancels; nobody cancels here, so the
    fall detector's red alert must not resolve as "the wearer is up" mid-incident."""
    from core.clock import ManualClock
    from detectors.engine import DetectorEngine

    s = load_scenario("elderly-cardiac")
    fall = s.incidents[0].model_copy(update={"type": "fall", "device": "wb-0001", "duration": 600.0})
    s = s.model_copy(update={"incidents": [fall], "faults": []})
    w = World(small_city, s, START)
    onset = w.ground_truth()["incidents"][0]["onset_ms"] / 1000
    engine = DetectorEngine(small_city, clock=ManualClock(START))
    events = []
    for a in np.arange(START - 1800, onset + 540, 60.0):
        for b in w.window(a, a + 60):
            events += [e for e in engine.process(b) if e.rule == "wearable.fall"]
    assert [(e.state, str(e.severity)) for e in events] == [("firing", "red")]
    assert events[0].at_ms / 1000 - onset <= 65
