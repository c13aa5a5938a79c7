"""elderly-cardiac end to end through a real Mosquitto: red order, simulated worker on site, replayed."""

import json
import threading

import httpx
import pytest

from core.settings import Settings
from gridwatch.cli import main
from gridwatch.commands.demo import DemoStack
from simulators.scenario import load_scenario
from simulators.session import SimulationSession
from tests.support.servers import free_port

ADMIN = "e2e-admin-token-0123456789"


@pytest.mark.integration
@pytest.mark.slow
def test_elderly_cardiac_red_order_and_worker_on_site(mosquitto, tmp_path):
    port = free_port()
    settings = Settings.load(overrides={"data_dir": tmp_path, "mqtt": mosquitto.url, "http": f"127.0.0.1:{port}",
                                        "admin_token": ADMIN}, env={})
    stack = DemoStack(settings)
    stack.start()
    try:
        s = load_scenario("elderly-cardiac")
        s = s.model_copy(update={"duration": 300.0, "speed": 20.0,
                                 "incidents": [s.incidents[0].model_copy(update={"at": 60.0})]})
        session = SimulationSession.create(s, settings, api_url=f"http://127.0.0.1:{port}", city=stack.service.city)
        session.run(threading.Event())
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {ADMIN}"})
        orders = api.get("/api/v1/work-orders", params={"device_id": "wb-000001", "severity": "red"}).json()["items"]
        assert orders, "no red order for wb-000001"
        order = api.get(f"/api/v1/work-orders/{orders[0]['id']}").json()
        assert order["accepted_at"] and order["on_site_at"]
        assert any(e["type"] in ("on_site", "on-site") for e in order["timeline"])
        steps = [w for w in session.workers.timeline if w["order_id"] == order["id"]]
        assert [w["step"] for w in steps][:3] == ["accepted", "en_route", "on_site"]
        assert steps[0]["worker"] == order["assignee"]
        truth = session.world.ground_truth()
        assert truth["incidents"][0]["devices"] == ["wb-000001"]
        bad = api.get("/api/v1/work-orders", params={"device_id": "wb-000040", "severity": "red"}).json()["items"]
        assert not bad  # the band taken off is not a red order
    finally:
        stack.stop()
    # replaying the stored window reproduces the live red alert
    assert main(["replay", "--data-dir", str(tmp_path), "--truth", str(session.truth_path), "--out",
                 str(tmp_path / "replay"), "--no-progress"]) == 0
    rep = json.loads((tmp_path / "replay" / "report.json").read_text())
    live_red = min(a["at_ms"] for a in order["alerts"] if a["severity"] == "red")
    assert rep["incidents"][0]["first_red_ms"] == live_red
    assert rep["incidents"][0]["first_alert_reason"] == order["reason"]
