"""Open a store by URL: validate it, connect, tune SQLite, and bring the schema to the newest migration."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from safehub.errors import UsageError

DEFAULT_URL = "sqlite:///safehub.db"
MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. Checking it with one query lets a current database skip importing Alembic
# (about 0.15 s of every command's start-up); tests keep it equal to the migrations' real head.
HEAD_REVISION = "0004"
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
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
