"""Write src/safehub/store/migrations/sqlite_head.json: the SQLite schema the migrations build, as statements.

    python scripts/snapshot_sqlite_schema.py     # after adding a migration (tests/store fails until you do)

A new SQLite store is created from this snapshot in one transaction instead of by importing Alembic
and replaying every migration; PostgreSQL stores always run the migrations.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine

from safehub.store.db import HEAD_REVISION, SQLITE_SNAPSHOT, migrate_with_alembic, snapshot_statements


def build_snapshot() -> dict:
    """Migrate a new SQLite file with Alembic and read back its schema."""
    with tempfile.TemporaryDirectory(prefix="safehub-snapshot-") as directory:
        engine = create_engine(f"sqlite:///{Path(directory) / 'head.db'}")
        try:
            migrate_with_alembic(engine)
            return {"revision": HEAD_REVISION, "statements": snapshot_statements(engine)}
        finally:
            engine.dispose()


def main() -> int:
    SQLITE_SNAPSHOT.write_text(json.dumps(build_snapshot(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SQLITE_SNAPSHOT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
