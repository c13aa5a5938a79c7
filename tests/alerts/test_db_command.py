"""``gridwatch db upgrade|current`` on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from alerts.db import head
from gridwatch.cli import main


def test_db_upgrade_then_current(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert main(["db", "current", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert f"revision {head()}; newest {head()}" in out


def test_db_current_says_when_a_database_is_behind(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    sa.create_engine(url).connect().close()
    assert main(["db", "current", "--db", url]) == 1
    assert "revision (empty)" in capsys.readouterr().out
