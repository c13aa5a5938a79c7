"""The detector configuration file: strict, annotated, shipped, reloadable."""

from __future__ import annotations

import math

import pytest

from detectors.config import DEFAULT_CONFIG_PATH, DetectorConfig, DetectorConfigError, load_detector_config
from detectors.engine import DetectorEngine


def test_shipped_example_is_the_defaults():
    shipped, built_in = load_detector_config(DEFAULT_CONFIG_PATH).model_dump(), DetectorConfig().model_dump()

    def same(a, b):
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))

    assert same(shipped, built_in)


@pytest.mark.parametrize(("text", "key"), [
    ("[wearable.heart]\ndrop_redd = 0.4\n", "wearable.heart.drop_redd"),
    ("timezone = 'Mars/Olympus'\n", "timezone"),
    ("[smoke.fire]\nfire = { for_s = -1 }\n", "smoke.fire.fire.for_s"),
])
def test_errors_name_the_key(tmp_path, text, key):
    p = tmp_path / "d.toml"
    p.write_text(text)
    with pytest.raises(DetectorConfigError, match=key.replace(".", r"\.")):
        load_detector_config(p)


def test_unknown_detector_name_is_rejected_with_the_choices(small_city, tmp_path):
    p = tmp_path / "d.toml"
    p.write_text('[meter]\ndetectors = ["profile", "prophet"]\n')
    with pytest.raises(DetectorConfigError, match="meter.detectors: unknown detector 'prophet'.*iforest"):
        DetectorEngine(small_city, load_detector_config(p))
