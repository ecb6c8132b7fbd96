"""What a failed write to the store means, and the one line a person can act on.

    try:
        write_trials(engine, run_id, records)
    except DBAPIError as exc:
        fault = write_fault(engine, exc)
        fault.is_transient   # a lock or a dropped connection: worth retrying for a while
        str(fault)           # "store sqlite:///runs.db refused a write: the disk is full (...); free space ..."

A lock held by another process and a dropped database connection pass: the writer retries them with
backoff (engine.writer). A full disk, a read-only store or anything else does not pass by waiting.
"""

from __future__ import annotations

import errno

from sqlalchemy.engine import Engine

from safehub.errors import UsageError

# cause -> (what happened, what to do); shown in one line with the store's URL, its password hidden.
CAUSES = {
    "disk_full": ("the disk is full", "free space on the disk that holds the store"),
    "locked": ("another process holds the store's write lock",
               "stop the process that holds it (another safehub run, a `sqlite3` shell, a backup)"),
    "read_only": ("the store is read-only", "make the store and its folder writable"),
    "connection_lost": ("the connection to the database server was lost",
                        "check that the database server is up and reachable"),
    "unknown": ("the database refused the write", "fix the cause shown"),
}
TRANSIENT_CAUSES = frozenset({"locked", "connection_lost"})
_SQLITE_MESSAGES = (("database or disk is full", "disk_full"), ("database is locked", "locked"),
                    ("database table is locked", "locked"), ("readonly database", "read_only"),
                    ("unable to open database file", "read_only"))
_POSTGRES_STATES = {"53100": "disk_full", "25006": "read_only", "55P03": "locked", "40P01": "locked",
                    "40001": "locked", "57P01": "connection_lost", "57P02": "connection_lost",
                    "57P03": "connection_lost", "53300": "connection_lost"}
_OS_ERRORS = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EROFS: "read_only",
              errno.EACCES: "read_only", errno.EPERM: "read_only"}


class StoreWriteError(UsageError):
    """The store refused a write. Shown like a `UsageError` (one line on stderr, exit 2): the fix is the
    user's to make (free space, stop the lock holder, make the store writable), then `--resume`."""

    def __init__(self, store: str, cause: str, detail: str):
        self.store = store
        self.cause = cause
        self.detail = detail
        self.resume_hint = ""  # set by the engine once it knows which runs to resume
        self.kept_hint = ""  # set by the engine: where the answers the store refused were kept, if any
        super().__init__(store, cause, detail)

    @property
    def is_transient(self) -> bool:
        return self.cause in TRANSIENT_CAUSES

    def __str__(self) -> str:
        what, fix = CAUSES[self.cause]
        # The database's own words only where the cause alone does not say enough.
        detail = f" ({self.detail})" if self.detail and self.cause in ("connection_lost", "unknown") else ""
        resume = f", then finish with: {self.resume_hint}" if self.resume_hint else ""
        kept = f"; {self.kept_hint}" if self.kept_hint else ""
        return (f"store {self.store} refused a write: {what}{detail}; the trials stored so far are kept{kept}; "
                f"{fix}{resume}")


def shown_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def classify(exc: BaseException) -> str:
    """The cause of a failed write: one of CAUSES."""
    original = getattr(exc, "orig", None) or exc
    if getattr(exc, "connection_invalidated", False):
        return "connection_lost"
    state = getattr(original, "sqlstate", None)
    if state in _POSTGRES_STATES:
        return _POSTGRES_STATES[state]
    if isinstance(original, OSError) and original.errno in _OS_ERRORS:
        return _OS_ERRORS[original.errno]
    message = str(original).lower()
    for fragment, cause in _SQLITE_MESSAGES:
        if fragment in message:
            return cause
    if type(original).__module__.startswith("psycopg") and (state is None or state.startswith("08")):
        return "connection_lost"  # the server went away: psycopg gives no SQLSTATE for a closed socket
    return "unknown"


def write_fault(engine: Engine, exc: BaseException) -> StoreWriteError:
    original = getattr(exc, "orig", None) or exc
    detail = " ".join(str(original).split())[:300]
    return StoreWriteError(shown_url(engine), classify(exc), detail)
