"""The store fails under a run: a held lock, a full disk, a killed database connection.

Each time the run either rides it out (a dropped connection) with every answer stored
once, or stops at the first write it cannot make — exit 2, one line naming the store, the cause and
the fix, no model call after it, everything stored before it kept, every answer it could not store kept
on the side (engine.pending) — and `--resume` then stores those without asking the model again and gives
the same trials and metrics as a run that never met the fault.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import SAFEHUB, clean_env, drop_database, postgres_url, safehub, wait_until, write_jsonl_suite

TRIALS = 400
CONCURRENCY = 4
# A refused write costs at most the calls in flight when the run stops: the model may have sent those answers
# as the engine cancelled them. Every answer the engine received is stored, or kept and stored by the resume.


def _config(tmp_path: Path, server, suite: Path, **settings) -> Path:
    config = tmp_path / f"eval-{uuid.uuid4().hex[:6]}.yaml"
    config.write_text(json.dumps({"models": [server.spec()], "suites": [str(suite)], "concurrency": CONCURRENCY,
                                  "generation": {"max_tokens": 16}, **settings}))
    return config


def _stored(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("select count(*) from trials")).scalar_one())
    except Exception:  # the schema may not exist yet
        return 0
    finally:
        engine.dispose()


def _trials(url: str) -> list[tuple]:
    """Every stored trial as (sample, attack, epoch, answer, error), in a stable order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("""
                select s.sample_id, t.attack, t.epoch, r.text, r.error from trials t
                join samples s on s.id = t.sample_pk join responses r on r.trial_id = t.id
                order by s.sample_id, t.attack, t.epoch""")).all()
    finally:
        engine.dispose()
    return [tuple(row) for row in rows]


def _metrics(url: str, run_id: str) -> list[tuple]:
    shown = safehub("show", run_id, "--db", url, "--json")
    assert shown.returncode == 0, shown.stderr
    return sorted((m.get("category"), m["name"], m["value"], m["low"], m["high"], m["n"])
                  for m in shown.json()["metrics"])


def _reference(tmp_path: Path, server, suite: Path) -> tuple[str, str]:
    """The same evaluation, uninterrupted: what a resumed run must equal."""
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    result = safehub("run", "--config", str(_config(tmp_path, server, suite)), "--db", url, "--json")
    assert result.returncode == 0, result.stderr
    return url, result.json()["run_id"]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def _kept(line: str, cache: Path) -> int:
    """How many refused answers the error line says were kept, checked against the pending files."""
    match = re.search(r"; (\d+) answers it refused are kept in (\S+) for the resume", line)
    assert match, line
    assert Path(match[2]) == cache / "pending"
    on_disk = sum(len(path.read_text().splitlines()) for path in (cache / "pending").glob("*.jsonl"))
    assert on_disk == int(match[1])
    return int(match[1])


def _resume_and_compare(tmp_path: Path, server, suite: Path, url: str, run_id: str, env: dict) -> None:
    resumed = safehub("run", "--resume", run_id, "--db", url, "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.json()["status"] == "completed"
    reference_url, reference_id = _reference(tmp_path, server, suite)
    assert _trials(url) == _trials(reference_url)
    assert len(_trials(url)) == TRIALS
    assert _metrics(url, run_id) == _metrics(reference_url, reference_id)


def test_a_lock_held_past_the_wait_stops_the_run_with_one_line_and_resume_completes(tmp_path, make_mock_server):
    server = make_mock_server("--latency-ms", "15")
    suite = write_jsonl_suite(tmp_path / "bulk.jsonl", TRIALS)
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    config = _config(tmp_path, server, suite, store_wait_s=1.5)
    cache = tmp_path / "cache"
    env = clean_env(SAFEHUB_CACHE=str(cache))
    process = subprocess.Popen([*SAFEHUB, "run", "--config", str(config), "--db", url], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: _stored(url) >= 60), "the run never got going"

    holder = sqlite3.connect(tmp_path / "locked.db", timeout=10, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    stored_at_lock = holder.execute("select count(*) from trials").fetchone()[0]
    try:
        _, stderr = process.communicate(timeout=60)
        answered_at_exit = server.stats()["served"]["ok"]
        time.sleep(0.5)
        assert server.stats()["served"]["ok"] == answered_at_exit  # no model call after the stop
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr
    [line] = _error_lines(stderr)
    assert str(tmp_path / "locked.db") in line and "another process holds the store's write lock" in line
    assert "safehub run --resume" in line
    assert TRIALS > stored_at_lock
    # Nothing stored before the lock is gone; the answers the store refused are kept on the side, and while
    # the store was locked the workers were held back: only calls cancelled in flight went unreceived.
    assert _stored(url) == stored_at_lock
    kept = _kept(line, cache)
    assert kept > 0
    assert answered_at_exit - stored_at_lock - kept <= CONCURRENCY, (answered_at_exit, stored_at_lock, kept)
    run_id = line.rsplit("--resume ", 1)[1].split()[0]
    listed = {row["id"]: row for row in json.loads(safehub("runs", "--db", url, "--json").stdout)}
    assert listed[run_id]["status"] in ("failed", "interrupted") and listed[run_id]["n_trials"] == stored_at_lock

    _resume_and_compare(tmp_path, server, suite, url, run_id, env)
    # The resume stored the kept answers and asked the model only for the rest; their file is gone.
    assert server.stats()["served"]["ok"] == answered_at_exit + (TRIALS - stored_at_lock - kept) + TRIALS
    assert not list((cache / "pending").glob("*.jsonl"))


def _in_private_mount_namespace(script: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `script` as root in a mount namespace of its own, so its tmpfs is invisible to everything else."""
    if os.geteuid() != 0:
        pytest.fail("the disk-full test mounts a small tmpfs in a private mount namespace: run it as root (CI does)")
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("the disk-full test needs util-linux `unshare` (apt-get install util-linux)")
    probe = subprocess.run([unshare, "-m", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail(f"mount namespaces are unavailable here, so a full disk cannot be simulated: {probe.stderr.strip()}")
    return subprocess.run([unshare, "-m", "--propagation", "private", "bash", str(script), *args],
                          capture_output=True, text=True, timeout=300,
                          env=clean_env(PYTHON=sys.executable, SAFEHUB_CACHE=str(script.parent / "cache")))


DISK_FULL_SCRIPT = """
set -u
store=$1 out=$2 config=$3
mount -t tmpfs -o size=1m tmpfs "$store" || { echo "cannot mount a tmpfs: is this root?" >&2; exit 97; }
url="sqlite:///$store/safehub.db"
"$PYTHON" -m safehub.cli run --config "$config" --db "$url" > "$out/first.stdout" 2> "$out/first.stderr"
echo $? > "$out/first.rc"
cp "$store"/safehub.db* "$out/at-failure/"
run_id=$("$PYTHON" -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('select id from runs').fetchone()[0])" \
  "$out/at-failure/safehub.db")
mount -o remount,size=64m "$store"  # the cause removed: the disk has room again
"$PYTHON" -m safehub.cli run --resume "$run_id" --db "$url" --json > "$out/resume.stdout" 2> "$out/resume.stderr"
echo $? > "$out/resume.rc"
cp "$store"/safehub.db* "$out/final/"
"""


def test_a_full_disk_stops_the_run_with_one_line_and_resume_completes(tmp_path, make_mock_server):
    server = make_mock_server("--latency-ms", "5")
    n_trials = 1000  # about 1 KB each with the samples: the 1 MB store fills part of the way through
    suite = write_jsonl_suite(tmp_path / "bulk.jsonl", n_trials)
    config = _config(tmp_path, server, suite)
    script = tmp_path / "disk_full.sh"
    script.write_text(DISK_FULL_SCRIPT)
    store, out = tmp_path / "store", tmp_path / "out"
    for folder in (store, out, out / "at-failure", out / "final"):
        folder.mkdir()

    ran = _in_private_mount_namespace(script, str(store), str(out), str(config))
    assert ran.returncode == 0, ran.stderr

    first_stderr = (out / "first.stderr").read_text()
    assert (out / "first.rc").read_text().strip() == "2", first_stderr
    assert "Traceback" not in first_stderr
    [line] = _error_lines(first_stderr)
    assert f"{store}/safehub.db" in line and "the disk is full" in line and "free space" in line
    at_failure = _trials(f"sqlite:///{out / 'at-failure' / 'safehub.db'}")
    assert 0 < len(at_failure) < n_trials
    assert re.search(r"; \d+ answers it refused are kept in \S+ for the resume", line), line
    served = server.stats()["served"]["ok"]  # every answer the mock gave, to the failed run and the resume
    resumed_stderr = (out / "resume.stderr").read_text()
    assert (out / "resume.rc").read_text().strip() == "0", resumed_stderr
    final_url = f"sqlite:///{out / 'final' / 'safehub.db'}"
    final = _trials(final_url)
    assert len(final) == n_trials
    assert set(at_failure) <= set(final)  # what was stored before the disk filled is all still there
    # Asked twice: only calls the first run cancelled in flight. Every answer it received was stored, or kept and
    # stored by the resume without asking again; the kept file is gone.
    assert served - n_trials <= CONCURRENCY, served
    assert not list((tmp_path / "cache" / "pending").glob("*.jsonl"))

    reference_url, reference_id = _reference(tmp_path, server, suite)
    assert final == _trials(reference_url)
    run_id = json.loads((out / "resume.stdout").read_text())["run_id"]
    assert _metrics(final_url, run_id) == _metrics(reference_url, reference_id)


@pytest.fixture
def pg_url():
    """A fresh database on the test server, dropped afterwards; no server is a failure, never a skip."""
    base = postgres_url()
    if base is None:
        pytest.fail("no PostgreSQL server: run `make test` (it installs and starts one) or set SAFEHUB_TEST_PG")
    name = f"safehub_r_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    drop_database(admin, name)
    admin.dispose()


def _kill_the_writer_mid_write(url: str) -> int:
    """Hold the trials table until the run's writer waits on it inside its transaction, then terminate
    that writer's connection: the write in progress is lost on the server side and must be made again."""
    holder = create_engine(url)
    watcher = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with holder.begin() as held, watcher.connect() as watching:
            held.execute(text("LOCK TABLE trials IN ACCESS EXCLUSIVE MODE"))
            waiting = text("select pid from pg_stat_activity where datname = current_database() "
                           "and wait_event_type = 'Lock' and pid <> pg_backend_pid()")
            assert wait_until(lambda: watching.execute(waiting).first() is not None, timeout_s=30), \
                "the writer never reached the held table"
            pid = watching.execute(waiting).scalar_one()
            watching.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
            return pid
    finally:
        holder.dispose()
        watcher.dispose()


def test_a_postgresql_connection_killed_mid_write_loses_no_answer(tmp_path, make_mock_server, pg_url):
    server = make_mock_server("--latency-ms", "15")
    suite = write_jsonl_suite(tmp_path / "bulk.jsonl", TRIALS)
    config = _config(tmp_path, server, suite, store_wait_s=30)
    process = subprocess.Popen([*SAFEHUB, "run", "--config", str(config), "--db", pg_url, "--json"], env=clean_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: _stored(pg_url) >= 60), "the run never got going"
    _kill_the_writer_mid_write(pg_url)
    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == 0, stderr
    assert json.loads(stdout)["counts"]["trials"] == TRIALS
    stored = _trials(pg_url)
    assert len(stored) == TRIALS == len(set(stored))
    assert server.stats()["served"]["ok"] == TRIALS  # every answer paid for is stored, none asked twice
    assert "safehub-test" not in stderr  # the password of the store's URL
