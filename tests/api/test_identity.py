"""Tokens: issued by admins and the CLI, stored only as hashes, revocable, never logged."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from gridwatch.cli import main
from tests.api.conftest import auth


def test_an_admin_issues_a_worker_token_that_sees_only_that_workers_orders(harness, client):
    r = client.post("/api/v1/tokens", headers=auth(harness, "admin"),
                    json={"role": "worker", "worker_id": "w-003", "name": "Sun Li", "label": "phone"})
    assert r.status_code == 201
    token = r.json()["token"]
    theirs = harness.red_order("sm-0003")
    assert theirs["assignee"] == "w-003"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"role": "worker", "name": "Sun Li", "worker_id": "w-003", "dept_id": None, "town_id": None}
    items = client.get("/api/v1/work-orders", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    assert items and {o["assignee"] for o in items} == {"w-003"}


def test_tokens_are_stored_as_hashes_listed_without_secrets_and_revocable(harness, client):
    admin = auth(harness, "admin")
    issued = client.post("/api/v1/tokens", headers=admin, json={"role": "dispatcher", "town_id": "t-02"}).json()
    token = issued["token"]
    with harness.engine.connect() as conn:
        stored = [row[0] for row in conn.execute(sa.text("SELECT token_hash FROM api_tokens"))]
    assert token not in stored and all(len(h) == 64 for h in stored)
    listed = client.get("/api/v1/tokens", headers=admin)
    assert token not in listed.text and any(t["id"] == issued["id"] for t in listed.json())
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{issued['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert client.delete("/api/v1/tokens/987654", headers=admin).status_code == 404


def test_only_admins_issue_tokens_and_scopes_must_exist(harness, client):
    body = {"role": "admin", "name": "Mallory"}
    for role in ("dispatcher", "worker", "department"):
        assert client.post("/api/v1/tokens", headers=auth(harness, role), json=body).status_code == 403
        assert client.delete("/api/v1/tokens/1", headers=auth(harness, role)).status_code == 403
    admin = auth(harness, "issued_admin")
    assert client.post("/api/v1/tokens", headers=admin, json={"role": "worker"}).status_code == 422
    unknown = {"role": "worker", "worker_id": "w-999"}
    assert client.post("/api/v1/tokens", headers=admin, json=unknown).status_code == 404
    assert client.post("/api/v1/tokens", headers=admin, json={"role": "admin", "town_id": "t-01"}).status_code == 422
    assert client.post("/api/v1/tokens", headers=admin, json={"role": "department", "dept_id": "fire-119"}
                       ).status_code == 201


def test_no_secret_reaches_a_log_line(harness, client, caplog):
    caplog.set_level(logging.DEBUG)
    admin = auth(harness, "admin")
    token = client.post("/api/v1/tokens", headers=admin, json={"role": "worker", "worker_id": "w-001"}).json()["token"]
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"})  # a near miss
    client.get("/api/v1/work-orders", headers=admin)
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (token, harness.tokens["admin"], harness.tokens["worker"]):
        assert secret not in text


def test_the_cli_issues_lists_and_revokes(tmp_path, capsys):
    flags = ["--data-dir", str(tmp_path)]
    assert main(["token", "issue", "--role", "worker", "--worker-id", "w-001", "--name", "Liu Min", *flags]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("gw_")
    assert main(["token", "issue", "--role", "dispatcher", "--name", "No Town", *flags]) == 2
    assert "needs --town-id" in capsys.readouterr().out
    assert main(["token", "list", *flags]) == 0
    listing = capsys.readouterr().out
    assert "Liu Min" in listing and "active" in listing and token not in listing
    assert main(["token", "revoke", "1", *flags]) == 0
    assert main(["token", "list", *flags]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["token", "revoke", "42", *flags]) == 1


def test_a_token_shows_when_it_was_last_used(harness, client):
    admin = auth(harness, "admin")
    issued = client.post("/api/v1/tokens", headers=admin, json={"role": "worker", "worker_id": "w-002"}).json()

    def last_used() -> str | None:
        return next(t for t in client.get("/api/v1/tokens", headers=admin).json() if t["id"] == issued["id"])[
            "last_used_at"]

    assert last_used() is None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"}).status_code == 200
    assert last_used() is not None
