"""``gridwatch db upgrade|current``: schema migrations of the work-order database."""

from __future__ import annotations

import argparse

HELP = "database migrations: upgrade to the newest schema, or show the current revision"
DESCRIPTION = """\
Work orders, workers, people and tokens live in one SQL database (--db URL, default
SQLite in --data-dir). `gridwatch run` upgrades it on start; use this command to do it
ahead of time (e.g. before a rolling deploy) or to check where a database stands.

  gridwatch db upgrade --db postgresql+psycopg://gridwatch@db/gridwatch
  gridwatch db current
"""


def configure(parser: argparse.ArgumentParser) -> None:
    from gridwatch.options import add_settings_flags

    parser.add_argument("action", choices=("upgrade", "current"), help="upgrade: migrate to head; current: show")
    add_settings_flags(parser, ("data_dir", "db", "log_level"))


def execute(args: argparse.Namespace) -> int:
    from alerts.db import current, head, upgrade
    from gridwatch.options import settings_from_args

    settings = settings_from_args(args, ("data_dir", "db", "log_level"))
    url = settings.db_url
    if args.action == "upgrade":
        upgrade(url)
    rev = current(url)
    print(f"{_redact(url)}: revision {rev or '(empty)'}; newest {head()}")
    return 0 if args.action == "upgrade" or rev == head() else 1


def _redact(url: str) -> str:
    """Hide a password in a URL before printing it.

    >>> _redact("postgresql://u:secret@h/db")
    'postgresql://u:***@h/db'
    """
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
