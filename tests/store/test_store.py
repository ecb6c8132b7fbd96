"""The store on SQLite and on a real PostgreSQL server: migrations, exactly-once trials, metrics by SQL."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from safehub.models.spec import ModelSpec
from safehub.stats import wilson_interval
from safehub.store import queries, writes
from safehub.store.db import HEAD_REVISION, connect
from tests.conftest import count, drop_database, postgres_url, safehub


@pytest.fixture
def pg_database():
    """A fresh database on the test server, dropped afterwards."""
    base = postgres_url()
    if base is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: `make test` starts it and sets SAFEHUB_TEST_PG")
        pytest.skip("no PostgreSQL server here: run `make test` (it installs and starts one) or set SAFEHUB_TEST_PG")
    name = f"safehub_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    yield url
    drop_database(admin, name)
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_database")


def _record(sample_pk: int, epoch: int, *, value: float | None = 1.0, error: str | None = None) -> writes.TrialRecord:
    scores = [] if error else [writes.ScoreRecord("refusal", "1", "not_unsafe", "full_refusal", value)]
    return writes.TrialRecord(sample_pk=sample_pk, attack="none", epoch=epoch, messages=[{"role": "user", "content": "x"}],
                              text="" if error else "no", finish_reason=None if error else "stop", input_tokens=3,
                              output_tokens=1, first_token_logprobs=None, latency_ms=1.0, attempts=1, error=error,
                              error_kind="server" if error else None, is_cached=False, scores=scores)


def _new_run(engine, n_planned: int) -> tuple[str, dict[str, int]]:
    pks = writes.upsert_samples(engine, "s", "1", [
        {"id": f"x{i}", "category": "disallowed_content", "scorer": "refusal", "prompt": f"p{i}", "expected": "refuse"}
        for i in range(n_planned)])
    model_id = writes.upsert_model(engine, ModelSpec.parse("openai-compat:m@http://127.0.0.1:1/v1"))
    evaluation_id = writes.create_evaluation(engine, {"suites": ["s"]})
    run_id = writes.create_run(engine, evaluation_id=evaluation_id, model_id=model_id,
                               model_spec="openai-compat:m@http://127.0.0.1:1/v1", suites_info=[], settings={},
                               n_planned=n_planned)
    return run_id, pks


def test_connect_migrates_a_new_database_to_head(store_url):
    engine = connect(store_url)
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar_one() == HEAD_REVISION
    connect(store_url)  # a second open is a no-op


def test_a_trial_is_stored_once_even_when_written_twice(store_url):
    engine = connect(store_url)
    run_id, pks = _new_run(engine, 3)
    batch = [_record(pks["x0"], 1), _record(pks["x1"], 1)]
    assert writes.write_trials(engine, run_id, batch) == 2
    assert writes.write_trials(engine, run_id, batch + [_record(pks["x2"], 1)]) == 1
    assert count(store_url, "select count(*) from trials") == 3
    assert count(store_url, "select count(*) from responses") == 3
    assert writes.existing_trial_keys(engine, run_id) == {(pks[f"x{i}"], "none", 1) for i in range(3)}


def test_same_sample_content_is_stored_once(store_url):
    engine = connect(store_url)
    contents = [{"id": "a", "category": "c", "scorer": "refusal", "prompt": "p", "expected": "refuse"}]
    first = writes.upsert_samples(engine, "s", "1", contents)
    again = writes.upsert_samples(engine, "s", "1", contents)
    changed = writes.upsert_samples(engine, "s", "2", [{**contents[0], "prompt": "changed"}])
    assert first == again and changed["a"] != first["a"]


def test_metrics_come_with_n_and_wilson_interval_and_errors_are_counted(store_url):
    engine = connect(store_url)
    run_id, pks = _new_run(engine, 10)
    records = [_record(pks[f"x{i}"], 1, value=1.0 if i < 6 else 0.0) for i in range(8)]
    records += [_record(pks["x8"], 1, error="HTTP 500"), _record(pks["x9"], 1, error="HTTP 500")]
    writes.write_trials(engine, run_id, records)
    writes.finish_run(engine, run_id, "completed", 1.5)
    summary = queries.run_summary(engine, run_id)
    metric = summary["metrics"][0]
    assert (metric["name"], metric["n"], metric["value"]) == ("not_unsafe", 8, 0.75)
    assert (metric["low"], metric["high"]) == pytest.approx(wilson_interval(6, 8))
    assert summary["counts"] == {"planned": 10, "trials": 10, "errors": 2, "errors_by_kind": {"server": 2}}
    assert summary["tokens"] == {"input": 30, "output": 10}


def test_a_human_override_wins_over_the_grader(store_url):
    engine = connect(store_url)
    run_id, pks = _new_run(engine, 1)
    writes.write_trials(engine, run_id, [_record(pks["x0"], 1, value=0.0)])
    with engine.begin() as connection:
        trial_id = connection.execute(text("select id from trials")).scalar_one()
        connection.execute(text("""insert into scores (trial_id, grader, grader_version, metric, label, value,
                                   explanation, is_override, created_at)
                                   values (:t, 'human', '1', 'not_unsafe', 'full_refusal', 1.0, 'reviewed', true,
                                   CURRENT_TIMESTAMP)"""), {"t": trial_id})
    assert queries.run_metrics(engine, run_id)[0]["value"] == 1.0


def test_full_run_against_the_store(store_url, mock_server):
    result = safehub("run", "--model", mock_server.spec(), "--suite", "smoke", "--epochs", "2", "--db", store_url,
                     "--json")
    assert result.returncode == 0, result.stderr
    run_id = result.json()["run_id"]
    assert count(store_url, "select count(*) from trials where run_id = :r", r=run_id) == 18
    resumed = safehub("run", "--resume", run_id, "--db", store_url, "--json")
    assert resumed.returncode == 0 and resumed.json()["counts"]["trials"] == 18
    assert count(store_url, "select count(*) from trials") == 18


def test_head_revision_constant_matches_the_migrations():
    from alembic.script import ScriptDirectory

    from safehub.store.db import HEAD_REVISION, _alembic_config

    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == HEAD_REVISION


def _snapshot_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "snapshot_sqlite_schema.py"
    spec = importlib.util.spec_from_file_location("snapshot_sqlite_schema", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema_and_rows(path) -> tuple[list, dict]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        schema = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        rows = {name: sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                for kind, name, _, _ in schema if kind == "table" and name != "responses_fts"}
    return schema, rows


def test_the_sqlite_snapshot_is_what_the_migrations_build():
    from safehub.store.db import SQLITE_SNAPSHOT

    stored = __import__("json").loads(SQLITE_SNAPSHOT.read_text(encoding="utf-8"))
    assert stored == _snapshot_script().build_snapshot(), \
        "the migrations changed: run `python scripts/snapshot_sqlite_schema.py`"


def test_a_new_sqlite_store_from_the_snapshot_equals_one_migrated_by_alembic(tmp_path, monkeypatch):
    from safehub.store import db

    db.migrate_with_alembic(create_engine(f"sqlite:///{tmp_path / 'alembic.db'}"))

    def no_alembic(engine):
        raise AssertionError("a new SQLite store must come from the snapshot, not from Alembic")

    monkeypatch.setattr(db, "migrate_with_alembic", no_alembic)
    connect(f"sqlite:///{tmp_path / 'snapshot.db'}")
    assert _schema_and_rows(tmp_path / "snapshot.db") == _schema_and_rows(tmp_path / "alembic.db")
    # A store that has tables is left to the migrations.
    assert db.create_from_snapshot(connect(f"sqlite:///{tmp_path / 'snapshot.db'}")) is False


def test_a_snapshot_that_fails_half_way_leaves_the_store_empty(tmp_path, monkeypatch):
    import json
    import sqlite3

    from safehub.store import db

    snapshot = json.loads(db.SQLITE_SNAPSHOT.read_text(encoding="utf-8"))
    snapshot["statements"].insert(3, "CREATE TABLE broken (")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(snapshot), encoding="utf-8")
    monkeypatch.setattr(db, "SQLITE_SNAPSHOT", bad)
    path = tmp_path / "store.db"
    with pytest.raises(Exception, match="syntax error|incomplete input"):
        db.create_from_snapshot(create_engine(f"sqlite:///{path}"))
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
