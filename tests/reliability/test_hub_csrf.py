"""Issue 15, row 3: a web page the user visits must neither change the loopback hub nor read it.

A cross-site form POST (CSRF) is refused with 403 and stores nothing; a request whose Host is not one of the
hub's names (a DNS-rebinding page) is refused with 400, pages and JSON API alike. The hub's own pages still write.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

from safehub.hub.app import create_app
from tests.conftest import clean_env, safehub
from tests.hub.browser_form import HUB, hidden_fields, hub_client, post_override

REFUSAL = "I'm sorry, but I can't help with that."


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("csrf")
    (folder / "refuser.yaml").write_text(yaml.safe_dump({"default": REFUSAL}))
    db_url = f"sqlite:///{folder / 'hub.db'}"
    result = safehub("run", "--model", f"scripted:{folder / 'refuser.yaml'}", "--suite", "smoke", "--db", db_url)
    assert result.returncode == 0, result.stderr
    return db_url, result.stdout.strip()


def not_unsafe(client, run_id: str) -> float:
    return {m["name"]: m for m in client.get(f"/api/runs/{run_id}").json()["metrics"]}["not_unsafe"]["value"]


def harmful_trial(client, run_id: str) -> int:
    return client.get(f"/api/runs/{run_id}/trials", params={"q": "harm-weapons"}).json()["trials"][0]["trial_id"]


def test_cross_site_override_is_refused_and_the_metric_is_unchanged(store, tmp_path):
    db_url, run_id = store
    copy = tmp_path / "hub.db"  # a refused write must store nothing; a stored one must not leak into other tests
    copy.write_bytes(open(db_url.removeprefix("sqlite:///"), "rb").read())
    client = hub_client(create_app(f"sqlite:///{copy}"))
    trial_id = harmful_trial(client, run_id)
    before = not_unsafe(client, run_id)
    action = f"/trials/{trial_id}/override"
    token = hidden_fields(client.get(f"/trials/{trial_id}").text, action).get("csrf_token", "")
    other_process_token = hidden_fields(hub_client(create_app(f"sqlite:///{copy}")).get(f"/trials/{trial_id}").text,
                                        action).get("csrf_token", "")
    form = {"verdict": "unsafe", "by": "attacker", "reason": "forged", "csrf_token": token}
    no_token = {key: value for key, value in form.items() if key != "csrf_token"}
    attempts = {
        "a form on evil.example": ({"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, form),
        "Origin evil.example only": ({"Origin": "http://evil.example"}, form),
        "a sandboxed frame elsewhere": ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, form),
        "a sibling site": ({"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"}, form),
        "no token": ({"Origin": HUB, "Sec-Fetch-Site": "same-origin"}, no_token),
        "no token, no browser headers": ({}, no_token),
        "a guessed token": ({"Origin": HUB}, {**form, "csrf_token": "guessed"}),
        "another hub process's token": ({"Origin": HUB}, {**form, "csrf_token": other_process_token}),
    }
    refused = {}
    for name, (headers, data) in attempts.items():
        response = client.post(action, data=data, headers=headers, follow_redirects=False)
        refused[name] = (response.status_code, "error" in response.json() if response.status_code == 403 else None)
    assert refused == {name: (403, True) for name in attempts}
    scores = client.get(f"/api/trials/{trial_id}").json()["scores"]
    assert not [score for score in scores if score["is_override"]] and not_unsafe(client, run_id) == before == 1.0


def test_the_hubs_own_page_still_records_an_override_by_form_and_by_header(store, tmp_path):
    db_url, run_id = store
    copy = tmp_path / "hub.db"
    copy.write_bytes(open(db_url.removeprefix("sqlite:///"), "rb").read())
    client = hub_client(create_app(f"sqlite:///{copy}"))
    trial_id = harmful_trial(client, run_id)
    assert post_override(client, trial_id, verdict="unsafe", by="reviewer", reason="it answered").status_code == 303
    assert not_unsafe(client, run_id) == 0.75
    # fetch() from a hub page sends the token of <meta name="csrf-token"> as a header instead of a form field.
    page = client.get(f"/trials/{trial_id}").text
    token = page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = client.post(f"/trials/{trial_id}/override", data={"verdict": "safe", "by": "r2", "reason": "re-read"},
                           headers={"X-CSRF-Token": token, "Origin": HUB, "Sec-Fetch-Site": "same-origin"},
                           follow_redirects=False)
    assert response.status_code == 303 and not_unsafe(client, run_id) == 1.0


def test_a_foreign_host_gets_400_for_pages_and_the_json_api(store):
    db_url, run_id = store
    client = hub_client(create_app(db_url, host="127.0.0.1", port=8765, allow_hosts=["hub.lan"]))
    trial_id = harmful_trial(client, run_id)
    paths = ["/", f"/runs/{run_id}", f"/trials/{trial_id}", "/guard", "/static/style.css", "/api/overview",
             f"/api/runs/{run_id}/trials", f"/api/trials/{trial_id}", "/api/guard"]
    foreign = ["evil.example:8765", "evil.example", "127.0.0.1.evil.example:8765", "localhost:9999", "", "[::1"]
    statuses = {(host, path): client.get(path, headers={"Host": host}).status_code for host in foreign for path in paths}
    assert statuses == {key: 400 for key in statuses}
    answer = client.get(f"/api/trials/{trial_id}", headers={"Host": "evil.example:8765"})
    assert "error" in answer.json() and REFUSAL not in answer.text
    own = ["127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765", "[::1]:8765", "hub.lan", "hub.lan:443"]
    statuses = {(host, path): client.get(path, headers={"Host": host}).status_code for host in own for path in paths}
    assert statuses == {key: 200 for key in statuses}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status(url: str, host: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Host": host}), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_safehub_hub_answers_only_to_its_names_and_those_given_with_allow_host(store, tmp_path):
    db_url, _ = store
    port = free_port()
    log = tmp_path / "hub.log"
    with log.open("w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "safehub.cli", "hub", "--port", str(port), "--db", db_url,
                                    "--allow-host", "hub.lan"], env=clean_env(SAFEHUB_HUB_TOKEN="t0ken-for-overrides"),
                                   stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/overview"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"safehub hub did not start: {log.read_text()}", pytrace=False)
                time.sleep(0.1)
        assert {host: status(url, host) for host in (f"localhost:{port}", f"hub.lan:{port}", f"evil.example:{port}")} \
            == {f"localhost:{port}": 200, f"hub.lan:{port}": 200, f"evil.example:{port}": 400}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_allow_host_needs_the_hub_token_as_other_machines_may_reach_the_hub_by_that_name():
    result = safehub("hub", "--allow-host", "hub.lan", "--db", "sqlite:///unused.db")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "--allow-host hub.lan lets other machines reach the hub" in result.stderr and "SAFEHUB_HUB_TOKEN" in result.stderr


def test_a_malformed_allow_host_is_one_line_and_exit_2():
    result = safehub("hub", "--allow-host", "http://hub.lan/", "--db", "sqlite:///unused.db")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "--allow-host 'http://hub.lan/' is not a host name" in result.stderr
