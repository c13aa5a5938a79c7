"""docker-compose.yml, its files and the example settings, checked without a Docker engine.

There is no Docker here, so this checks what can be checked: the YAML parses, every
file it mounts or builds from exists, every secret comes from the environment, every
``GRIDWATCH_*`` variable is a real setting, and Debian's real Mosquitto starts with the
production mosquitto.conf (paths moved to a temporary directory) and the generated
password and ACL files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from core.settings import Settings
from gridwatch.cli import main
from tests.support.servers import ManagedServer, free_port, require_binary

ROOT = Path(__file__).parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
SECRET = re.compile(r"PASSWORD|TOKEN|SECRET")


def test_services_health_checks_and_start_order():
    services = COMPOSE["services"]
    assert set(services) == {"mosquitto", "influxdb", "gridwatch"}
    assert services["influxdb"]["image"].startswith("influxdb:2.7")
    for name, svc in services.items():
        assert svc["healthcheck"]["test"], name
    assert services["gridwatch"]["depends_on"] == {"mosquitto": {"condition": "service_healthy"},
                                                   "influxdb": {"condition": "service_healthy"}}
    init = services["influxdb"]["environment"]
    assert {"DOCKER_INFLUXDB_INIT_MODE", "DOCKER_INFLUXDB_INIT_ORG", "DOCKER_INFLUXDB_INIT_BUCKET",
            "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"} <= set(init)


def test_referenced_files_exist():
    gw = COMPOSE["services"]["gridwatch"]["build"]
    dockerfile = ROOT / gw["context"] / gw["dockerfile"]
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:  # --from copies out of an earlier stage
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), src
    for volume in COMPOSE["services"]["mosquitto"]["volumes"]:
        src = volume.split(":")[0]
        if src.startswith("./") and "auth" not in src:  # auth/ is generated, git-ignored
            assert (ROOT / src).exists(), src
    assert "deploy/mosquitto/auth/" in (ROOT / ".gitignore").read_text()
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_secrets_only_from_the_environment_and_settings_exist():
    used: set[str] = set()
    for svc in COMPOSE["services"].values():
        for key, value in svc.get("environment", {}).items():
            value = str(value)
            used |= set(re.findall(r"\$\{(\w+)", value))
            if SECRET.search(key):
                assert value.startswith("${"), f"{key} must come from the environment"
    assert used <= set(ENV_EXAMPLE), used - set(ENV_EXAMPLE)
    env = {k: re.sub(r"\$\{(\w+)[^}]*\}", lambda m: ENV_EXAMPLE[m.group(1)], str(v))
           for k, v in COMPOSE["services"]["gridwatch"]["environment"].items()}
    settings = Settings.load(env=env)  # unknown GRIDWATCH_* variables would raise
    assert settings.influx_api == "v2" and settings.mqtt == "mqtt://mosquitto:1883"


def test_example_settings_cover_every_key_and_load():
    text = (ROOT / "gridwatch.example.toml").read_text()
    for name in Settings.model_fields:
        assert re.search(rf"^#? ?{name}( =|:)", text, re.M), f"{name} missing from gridwatch.example.toml"
    assert Settings.load(config_file=ROOT / "gridwatch.example.toml", env={}) == Settings.load(env={})


@pytest.mark.integration
def test_production_mosquitto_conf_runs_on_real_mosquitto(tmp_path, small_city_dir):
    auth = tmp_path / "auth"
    assert main(["mosquitto-acl", "--city", str(small_city_dir), "--out", str(auth)]) == 0
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    for setting in ("max_queued_messages", "max_queued_bytes", "allow_anonymous false", "persistence true"):
        assert re.search(rf"^{setting}", conf, re.M), setting
    port = free_port()
    conf = (conf.replace("/mosquitto/config/auth", str(auth)).replace("/mosquitto/data/", f"{tmp_path}/")
            .replace("listener 1883", f"listener {port} 127.0.0.1"))
    (tmp_path / "mosquitto.conf").write_text("user root\n" + conf)
    server = ManagedServer("mosquitto", [require_binary("mosquitto"), "-c", str(tmp_path / "mosquitto.conf")],
                           port, tmp_path)
    server.start()
    server.stop()
