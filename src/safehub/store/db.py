"""Open a store by URL: validate it, connect, tune SQLite, and bring the schema to the newest migration.

    engine = connect("sqlite:///safehub.db")                    # to write: refused if the store is read-only
    engine = connect("sqlite:///safehub.db", for_reading=True)  # to read: a read-only store opens read-only

A SQLite store that cannot be written (a read-only file, folder or filesystem) is opened read-only for
reading and never migrated; `is_read_only(engine)` tells the readers that cache (run summaries) to
skip storing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from safehub.errors import UsageError

DEFAULT_URL = "sqlite:///safehub.db"
MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. Checking it with one query lets a current database skip importing Alembic
# (about 0.15 s of every command's start-up); tests keep it equal to the migrations' real head.
HEAD_REVISION = "0009"
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
    if url.database and url.database != ":memory:" and not _is_uri(url):
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


def connect(text: str | None = None, *, for_reading: bool = False) -> Engine:
    """Create the engine and migrate to head. Failures are UsageError, with the password hidden.

    A SQLite store that cannot be written is refused (one line naming it and the fix), unless the caller
    only reads (`for_reading`): then it is opened read-only, as it is.
    """
    url = parse_url(database_url(text))
    shown = url.render_as_string(hide_password=True)
    if _is_uri(url) and is_read_only(url):
        return _open_read_only(url, shown)
    store = _sqlite_path(url)
    if store is not None and not _is_writable(store):
        if for_reading:
            return _open_read_only(_read_only_url(store), str(store))
        raise UsageError(f"store {store} is read-only ({_why_read_only(store)}): write to a store in a writable "
                         "folder (copy it there and pass --db sqlite:///COPY.db) or make this one writable")
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


def is_read_only(engine_or_url: Engine | URL) -> bool:
    """Whether the store was opened read-only (so nothing, not even a cache, may be written to it)."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url
    return url.get_backend_name() == "sqlite" and (url.query.get("mode") == "ro" or url.query.get("immutable") == "1")


def read_only_refusal(engine: Engine) -> str:
    """The one line that refuses a write to a store opened read-only, naming it and the fix."""
    database = engine.url.database or ""
    store = unquote(database.removeprefix("file:").partition("?")[0]) if _is_uri(engine.url) else database
    return (f"store {store} is read-only: write to a store in a writable folder (copy it there and pass "
            "--db sqlite:///COPY.db) or make this one writable")


def _is_uri(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and str(url.query.get("uri", "")).lower() in ("true", "1")


def _sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite store named by path (not :memory:, not a file: URI)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or _is_uri(url):
        return None
    return Path(url.database).expanduser().resolve()


def _is_writable(store: Path) -> bool:
    """Writing needs the file and its folder (SQLite keeps its -wal and -shm files beside the store).
    os.access answers for root too: a read-only filesystem or an immutable file is not writable for anyone."""
    if not os.access(store.parent, os.W_OK):
        return False
    return not store.exists() or os.access(store, os.W_OK)


def _why_read_only(store: Path) -> str:
    is_folder = not os.access(store.parent, os.W_OK)
    place = f"folder {store.parent}" if is_folder else f"file {store.name}"
    on_read_only_disk = os.statvfs(store.parent if is_folder else store).f_flag & os.ST_RDONLY
    return f"{place} is on a read-only filesystem" if on_read_only_disk else f"{place} is not writable"


def _read_only_url(store: Path) -> URL:
    """A read-only SQLite URI for `store`. SQLite reads a WAL store by writing its -shm file beside it;
    where the folder is read-only and no -wal file exists, no writer can exist either (it would need to
    create one), so the store is opened immutable: read as it is, without the -shm file."""
    if not store.exists():
        raise UsageError(f"no store at {store}, and folder {store.parent} is read-only: give the --db of an existing "
                         "store")
    is_immutable = not os.access(store.parent, os.W_OK) and not Path(f"{store}-wal").exists()
    flag = {"immutable": "1"} if is_immutable else {"mode": "ro"}
    return URL.create("sqlite", database=f"file:{quote(str(store))}", query={**flag, "uri": "true"})


def _tune_sqlite_reader(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _open_read_only(url: URL, shown: str) -> Engine:
    """A read-only engine, never migrated: a store older than this safehub is one line saying so."""
    try:
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite_reader)
        revision = current_revision(engine)
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise UsageError(f"cannot open read-only store {shown}: {reason}") from None
    if revision != HEAD_REVISION:
        engine.dispose()
        raise UsageError(f"store {shown} is read-only and needs migrating (schema {revision or 'none'}, this safehub "
                         f"reads {HEAD_REVISION}): open it once where it can be written, or read it with the safehub "
                         "that wrote it")
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
