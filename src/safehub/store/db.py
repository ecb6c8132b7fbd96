"""Open a store by URL: validate it, connect, tune SQLite, and bring the schema to the newest migration."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from safehub.errors import UsageError

DEFAULT_URL = "sqlite:///safehub.db"
MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. Checking it with one query lets a current database skip importing Alembic
# (about 0.15 s of every command's start-up); tests keep it equal to the migrations' real head.
HEAD_REVISION = "0006"
# A new SQLite store gets the head schema from this snapshot of what the migrations build (one
# transaction, a few ms) instead of importing Alembic and replaying them (0.2 s of a first run).
# Written by `python scripts/snapshot_sqlite_schema.py`; tests/store keeps it equal to the migrations.
SQLITE_SNAPSHOT = MIGRATIONS / "sqlite_head.json"
_URL_HELP = "use sqlite:///path/to/safehub.db or postgresql://user:password@host:5432/dbname"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("SAFEHUB_DB") or DEFAULT_URL


def parse_url(text: str) -> URL:
    """Validate a database URL without touching anything; raise UsageError naming the fix."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise UsageError(f"bad database URL {_safe(text)!r}: {_URL_HELP}") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if url.drivername != "postgresql+psycopg":
            raise UsageError(f"database URL driver {url.drivername!r} is not supported: use postgresql:// (psycopg 3)")
        if not url.database:
            raise UsageError(f"database URL {url.render_as_string(hide_password=True)!r} names no database: {_URL_HELP}")
        return url
    if backend != "sqlite" or url.drivername not in ("sqlite", "sqlite+pysqlite"):
        raise UsageError(f"database URL {url.render_as_string(hide_password=True)!r}: unsupported backend; {_URL_HELP}")
    if url.database and url.database != ":memory:":
        parent = Path(url.database).expanduser().resolve().parent
        if not parent.is_dir():
            raise UsageError(f"database URL {text!r}: folder {parent} does not exist; create it or pick another path")
    return url


def _safe(text: str) -> str:
    """A URL-ish string with anything between '//' and '@' hidden."""
    if "@" in text and "//" in text:
        head, _, rest = text.partition("//")
        return f"{head}//***@{rest.rpartition('@')[2]}"
    return text


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the hub) never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def connect(text: str | None = None) -> Engine:
    """Create the engine and migrate to head. Failures are UsageError, with the password hidden."""
    url = parse_url(database_url(text))
    shown = url.render_as_string(hide_password=True)
    try:
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _tune_sqlite)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=5, connect_args={"connect_timeout": 10})
        migrate(engine)
    except NoSuchModuleError:
        raise UsageError(f"database URL {shown!r}: no driver installed for it; {_URL_HELP}") from None
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise UsageError(f"cannot open database {shown!r}: {reason}") from None
    return engine


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("select version_num from alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op, without importing Alembic, when it is there)."""
    if current_revision(engine) == HEAD_REVISION:
        return
    if engine.dialect.name == "sqlite" and create_from_snapshot(engine):
        return
    migrate_with_alembic(engine)


def migrate_with_alembic(engine: Engine) -> None:
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def create_from_snapshot(engine: Engine) -> bool:
    """Build the head schema in an empty SQLite store from SQLITE_SNAPSHOT, all or nothing.

    False (nothing done) when the store already has tables — it needs real migrations — or the
    snapshot is not of the head revision. Two processes creating one new store: the second waits
    for the first's write lock, then finds the tables and leaves them alone.
    """
    snapshot = json.loads(SQLITE_SNAPSHOT.read_text(encoding="utf-8"))
    if snapshot["revision"] != HEAD_REVISION:
        return False
    raw = engine.raw_connection()
    try:
        connection: sqlite3.Connection = raw.driver_connection
        isolation_level, connection.isolation_level = connection.isolation_level, None  # explicit transaction below
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                if connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]:
                    connection.execute("ROLLBACK")
                    return False
                for statement in snapshot["statements"]:
                    connection.execute(statement)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        finally:
            connection.isolation_level = isolation_level
    finally:
        raw.close()
    return True


def snapshot_statements(engine: Engine) -> list[str]:
    """The statements that rebuild `engine`'s SQLite schema and revision: every object in creation
    order, less what SQLite makes by itself (automatic indexes, the shadow tables of full-text indexes)."""
    with engine.connect() as connection:
        shadow = {row[1] for row in connection.exec_driver_sql("PRAGMA table_list") if row[2] == "shadow"}
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").all()
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    statements = [sql for name, sql in rows if name not in shadow]
    # A full-text index's shadow tables hold its structure, which the migrations leave rebuilt.
    rebuilds = [f"INSERT INTO {name}({name}) VALUES ('rebuild')" for name, sql in rows
                if sql.upper().startswith("CREATE VIRTUAL TABLE") and "USING FTS5" in sql.upper()]
    return statements + rebuilds + [f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')"]
