"""Engines, sessions and migrations for the work-order database.

One URL selects the backend: ``sqlite:///path.db`` (embedded default) or
``postgresql+psycopg://user@host/db`` (production). SQLite is tuned for many
threads in one process: WAL (readers never block the writer), a busy timeout
(writers queue instead of failing) and foreign keys on. The schema is created and
upgraded only by the Alembic migrations shipped in ``alerts/migrations``.

>>> import tempfile, os
>>> url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "t.db")
>>> upgrade(url); current(url) == head()
True
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, busy timeout, foreign keys."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # writers take the write lock at BEGIN so that they queue on busy_timeout instead
        # of failing with "database is locked" when upgrading a read to a write; readers
        # (sessions from ``reader_factory``) begin deferred and never wait for a writer
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("gridwatch_read_only") else "BEGIN IMMEDIATE")


def reader_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reading only: on SQLite they never take (or wait for) the write lock."""
    return sessionmaker(engine.execution_options(gridwatch_read_only=True), expire_on_commit=False,
                        autoflush=False)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (serialisers read them).

    Autoflush is off: code flushes where a query must see its own writes, so the many
    small inserts of one alert (timeline, deadlines, outbox) go out in a few batches.
    """
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (idempotent)."""
    import logging

    from alembic import command

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    command.upgrade(_alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision shipped with this package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head() or ""
