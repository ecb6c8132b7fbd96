"""transcript search

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A full-text index over responses.text, filled from the stored responses on upgrade, and an index on
trials(run_id, id) so a run's transcripts are read in id order (keyset pages, streaming export).

SQLite: an FTS5 table with external content (the text is not stored twice) kept in sync by triggers
on responses, so every writer (the engine, imports, benchmarks) keeps it current. Note for later
migrations: a batch ALTER of `responses` on SQLite copies the table and drops these triggers; recreate them.
PostgreSQL: a stored generated column `text_search`, the tsvector of the text's first SEARCHABLE_CHARS
characters (a tsvector is limited to 1 MB), with a GIN index. A column rather than an expression index:
the planner keeps statistics on it (so a rare word goes to the index) and testing a row needs no parsing.
Both use no stemming and no stop words, so a search means the same on either backend.
Every statement tolerates a half-applied earlier attempt (pysqlite commits DDL as it goes).
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEARCHABLE_CHARS = 100_000  # longer responses are searchable by their beginning only (PostgreSQL)

SQLITE_UP = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS responses_fts USING fts5(text, content='responses', content_rowid='trial_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS responses_fts_insert AFTER INSERT ON responses BEGIN "
    "INSERT INTO responses_fts(rowid, text) VALUES (new.trial_id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS responses_fts_delete AFTER DELETE ON responses BEGIN "
    "INSERT INTO responses_fts(responses_fts, rowid, text) VALUES ('delete', old.trial_id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS responses_fts_update AFTER UPDATE OF text ON responses BEGIN "
    "INSERT INTO responses_fts(responses_fts, rowid, text) VALUES ('delete', old.trial_id, old.text); "
    "INSERT INTO responses_fts(rowid, text) VALUES (new.trial_id, new.text); END",
    "INSERT INTO responses_fts(responses_fts) VALUES ('rebuild')",  # the back-fill
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS responses_fts_update", "DROP TRIGGER IF EXISTS responses_fts_delete",
               "DROP TRIGGER IF EXISTS responses_fts_insert", "DROP TABLE IF EXISTS responses_fts"]


def upgrade() -> None:
    op.create_index("ix_trials_run_id", "trials", ["run_id", "id"], unique=False, if_not_exists=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE responses ADD COLUMN IF NOT EXISTS text_search tsvector GENERATED ALWAYS AS "
                   f"(to_tsvector('simple'::regconfig, left(text, {SEARCHABLE_CHARS}))) STORED")
        op.execute("CREATE INDEX IF NOT EXISTS ix_responses_text_search ON responses USING gin (text_search)")
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_responses_text_search")
        op.execute("ALTER TABLE responses DROP COLUMN IF EXISTS text_search")
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    op.drop_index("ix_trials_run_id", table_name="trials")
