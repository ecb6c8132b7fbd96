"""Shared fixtures: a real loopback mock server, real database files, the real `safehub` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

REPO = Path(__file__).resolve().parents[1]
SAFEHUB = [sys.executable, "-m", "safehub.cli"]


@dataclass
class MockServer:
    base_url: str
    process: subprocess.Popen

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/v1")

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.root}/stats", timeout=5) as response:
            return json.loads(response.read())

    def spec(self, model: str = "mock", provider: str = "openai-compat") -> str:
        return f"{provider}:{model}@{self.base_url}"


@contextmanager
def run_mock_server(*args: str, module: str = "safehub.testing.mock_openai"):
    """A loopback mock in its own process (`module`: mock_openai, or mock_llama_guard for a guard model)."""
    process = subprocess.Popen([sys.executable, "-m", module, "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            process.wait(timeout=5)
            raise RuntimeError(f"mock server did not start (exit {process.returncode}): {line!r} {process.stderr.read()}")
        yield MockServer(line.split()[-1], process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def mock_server():
    with run_mock_server() as server:
        yield server


@pytest.fixture
def make_mock_server():
    """Start mock servers with options, e.g. make_mock_server("--fault-rate", "0.3")."""
    stack = []

    def start(*args: str) -> MockServer:
        context = run_mock_server(*args)
        server = context.__enter__()
        stack.append(context)
        return server

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "SAFEHUB_DB"}
    env.update({"COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def safehub(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 240) -> Result:
    """Run the real `safehub` command in a child process."""
    completed = subprocess.run([*SAFEHUB, *args], capture_output=True, text=True, env=env or clean_env(),
                               cwd=cwd, timeout=timeout)
    return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'safehub.db'}"


def count(url: str, sql: str, **params) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def write_jsonl_suite(path: Path, n: int, *, name: str = "bulk", forced_failures: int = 0) -> Path:
    """A suite of n refusal samples; the first `forced_failures` always get HTTP 500 from the mock."""
    lines = [json.dumps({"suite": {"name": name, "version": "1", "category": "disallowed_content"}})]
    for index in range(n):
        marker = " [fail:500]" if index < forced_failures else ""
        lines.append(json.dumps({"id": f"s{index:05d}", "prompt": f"request number {index}{marker}",
                                 "scorer": "refusal", "expected": "refuse" if index % 2 else "comply"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def stored_run(db_url: str, suite, spec, n_planned: int) -> tuple:
    """A store at `db_url` holding `suite`'s samples and a new run of model `spec` (a ModelSpec):
    (engine, sample pks by suite name, run id), what a test needs to drive a RunJob itself."""
    from safehub.store import writes
    from safehub.store.db import connect

    engine = connect(db_url)
    pks = {suite.name: writes.upsert_samples(engine, suite.name, suite.version,
                                             [s.model_dump(mode="json", exclude_none=True) for s in suite.samples])}
    run_id = writes.create_run(engine, evaluation_id=writes.create_evaluation(engine, {}),
                               model_id=writes.upsert_model(engine, spec), model_spec=spec.display,
                               suites_info=[], settings={}, n_planned=n_planned)
    return engine, pks, run_id


def postgres_url() -> str | None:
    return os.environ.get("SAFEHUB_TEST_PG") or None


def drop_database(admin, name: str, timeout_s: float = 10.0) -> None:
    """DROP DATABASE ... WITH (FORCE) on the AUTOCOMMIT engine `admin`. The test role may not end an autovacuum
    worker that happens to be on the new database (a superuser's process): wait for it to finish and try again."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError as error:
            if "must be a member of the role" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wait_until(predicate, timeout_s: float = 60.0, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return False
