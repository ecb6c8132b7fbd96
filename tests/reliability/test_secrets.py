"""A base URL's credentials reach the server as basic auth and nothing else: not the output, the store,
the guard's log or a page. Row 5 and item 2 of issue 15."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from safehub.errors import UsageError
from safehub.models.spec import ModelSpec
from tests.conftest import SAFEHUB, clean_env, safehub

PASSWORD = "pw-DO-NOT-LEAK-5e1b7c"
QUERY_KEY = "qk-DO-NOT-LEAK-93ad0f"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def with_credentials(base_url: str, user: str = "alice") -> str:
    return base_url.replace("http://", f"http://{user}:{PASSWORD}@", 1)


def secrets_in(text: str) -> list[str]:
    """The secrets (and their basic-auth encodings) that appear in `text`."""
    secrets = [PASSWORD, QUERY_KEY, basic("alice", PASSWORD).split()[1], basic("bob", PASSWORD).split()[1]]
    return [secret for secret in secrets if secret in text]


def store_text(db: Path) -> str:
    """Every row of every table, as SQL text, plus the raw bytes of the database files."""
    connection = sqlite3.connect(db)
    try:
        dump = "\n".join(connection.iterdump())
    finally:
        connection.close()
    raw = "\n".join(path.read_bytes().decode("latin-1") for path in db.parent.glob(f"{db.name}*"))
    return dump + raw


def folder_text(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())


def test_credentialed_base_url_runs_with_basic_auth_and_the_password_is_shown_nowhere(tmp_path, make_mock_server):
    server = make_mock_server()
    db = tmp_path / "safehub.db"
    url = f"sqlite:///{db}"
    model = f"openai-compat:m@{with_credentials(server.base_url)}"
    judge = f"openai-compat:j@{with_credentials(server.base_url, user='bob')}"
    run = safehub("run", "--model", model, "--judge", judge, "--suite", "smoke", "--db", url, "--json")
    assert run.returncode == 0, run.stderr
    summary = run.json()
    assert summary["counts"]["errors"] == 0, summary["counts"]
    shown = f"openai-compat:m@http://***@{server.base_url.removeprefix('http://')}"
    assert summary["model"] == shown
    auth_headers = server.stats()["auth_headers"]
    assert auth_headers[basic("alice", PASSWORD)] == summary["counts"]["trials"]
    assert set(auth_headers) == {basic("alice", PASSWORD), basic("bob", PASSWORD)}  # the judge was asked, as bob
    outputs = [run.stdout, run.stderr]
    for args in (("show", summary["run_id"], "--json"), ("show", summary["run_id"]), ("runs",),
                 ("report", summary["run_id"]), ("export", "--out", str(tmp_path / "site"))):
        result = safehub(*args, "--db", url)
        assert result.returncode == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    assert shown in "\n".join(outputs)  # which server ran, without its credentials
    assert secrets_in("\n".join(outputs)) == []
    assert secrets_in(store_text(db)) == []
    site = folder_text(tmp_path / "site")
    assert shown in site and secrets_in(site) == []


@pytest.mark.parametrize("base_url", [f"http://alice:{PASSWORD}@127.0.0.1:1/v1",
                                      f"http://127.0.0.1:1/v1?api_key={QUERY_KEY}"])
def test_unreachable_base_url_is_one_line_without_its_secrets(tmp_path, base_url):
    result = safehub("run", "--model", f"openai-compat:m@{base_url}", "--suite", "smoke", "--db",
                     f"sqlite:///{tmp_path / 'safehub.db'}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach "), result.stderr
    assert secrets_in(result.stdout + result.stderr) == []
    assert not (tmp_path / "safehub.db").exists()


@pytest.mark.parametrize("base_url", [f"ftp://alice:{PASSWORD}@127.0.0.1:9/v1",
                                      f"http://alice:{PASSWORD}/x@127.0.0.1:9/v1",
                                      f"http://alice:{PASSWORD}@127.0.0.1:port/v1",
                                      f"http://al/{PASSWORD}@127.0.0.1:9/v1"])
def test_malformed_credentialed_base_url_is_refused_without_echoing_the_password(base_url):
    with pytest.raises(UsageError, match="base URL") as refused:
        ModelSpec.parse(f"openai-compat:m@{base_url}")
    assert secrets_in(str(refused.value)) == []


def test_url_credentials_beside_an_api_key_are_refused_in_one_line(tmp_path):
    model = f"openai-compat:m@http://alice:{PASSWORD}@127.0.0.1:9/v1"
    result = safehub("run", "--model", model, "--suite", "smoke", "--db", f"sqlite:///{tmp_path / 'safehub.db'}",
                     env=clean_env(OPENAI_COMPAT_API_KEY="sk-beside"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "OPENAI_COMPAT_API_KEY" in lines[0] and "user:password" in lines[0], result.stderr
    assert secrets_in(result.stderr) == []
    assert not (tmp_path / "safehub.db").exists()


def test_guard_sends_upstream_credentials_as_basic_auth_and_never_logs_them(tmp_path, make_mock_server):
    server = make_mock_server()
    unreachable = f"http://alice:{PASSWORD}@127.0.0.1:1/v1?api_key={QUERY_KEY}"
    (tmp_path / "guard.yaml").write_text(
        "models: [m]\nrules: {}\nbreaker: {failures: 1}\nupstreams:\n"
        f"  - spec: openai-compat:m@{unreachable}\n  - spec: openai-compat:m@{with_credentials(server.base_url)}\n")
    db = tmp_path / "audit.db"
    process = subprocess.Popen([*SAFEHUB, "guard", "serve", "--config", "guard.yaml", "--port", "0", "--db",
                                f"sqlite:///{db}"], cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        announce = process.stderr.readline()
        assert announce.startswith("safehub guard on http://127.0.0.1:"), announce
        base_url = announce.split()[3]
        for _ in range(2):  # the first fails over from the unreachable upstream, the second skips it (open circuit)
            response = httpx.post(f"{base_url}/chat/completions", timeout=10,
                                  json={"model": "m", "messages": [{"role": "user", "content": "hello"}]})
            assert response.status_code == 200, response.text
        health = httpx.get(f"{base_url.removesuffix('/v1')}/healthz", timeout=10).text
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    log = announce + stdout + stderr
    assert server.stats()["auth_headers"] == {basic("alice", PASSWORD): 2}
    assert "upstream openai-compat:m@http://***@127.0.0.1:1/v1?api_key=***: cannot reach" in log, log
    assert secrets_in(log + health) == []
    assert secrets_in(store_text(db)) == []
    export = safehub("export", "--out", str(tmp_path / "site"), "--db", f"sqlite:///{db}")
    assert export.returncode == 0, export.stderr
    site = folder_text(tmp_path / "site")
    assert "openai-compat:m@http://***@127.0.0.1" in site and secrets_in(site + export.stdout + export.stderr) == []
