"""Issue 15, row 3 in Chromium: a page on another site can neither record an override nor read the loopback hub.

Chromium resolves evil.example to 127.0.0.1 (--host-resolver-rules), as a DNS-rebinding attacker arranges it:
the attacker's page is served from evil.example on a port of its own, and the hub itself is reached as
evil.example on the hub's port.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import CHROMIUM, MODELS

EVIL = "evil.example"


@pytest.fixture(scope="module")
def rebinding_browser(browser):
    """Debian's Chromium, with evil.example pointing at this machine; no traffic of its own, no HTTPS upgrades."""
    chromium = browser.browser_type.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=["--no-sandbox", "--disable-background-networking", f"--host-resolver-rules=MAP {EVIL} 127.0.0.1",
              "--disable-features=HttpsUpgrades"])
    yield chromium
    chromium.close()


@pytest.fixture
def evil_site():
    """The attacker's web server on loopback; it serves `evil_site.html` at every path."""
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = self.server.html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.html = ""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def overrides_of(page, hub_url: str, trial_id: int) -> list[dict]:
    scores = page.request.get(f"{hub_url}/api/trials/{trial_id}").json()["scores"]
    return [score for score in scores if score["is_override"]]


def test_a_form_on_another_site_cannot_record_an_override(rebinding_browser, evil_site, hub_url, store):
    context = rebinding_browser.new_context()
    page = context.new_page()
    run_id = store.run_ids["cautious-7b"]
    listed = page.request.get(f"{hub_url}/api/runs/{run_id}/trials", params={"category": "disallowed_content"}).json()
    trial_id = listed["trials"][0]["trial_id"]
    metrics_before = page.request.get(f"{hub_url}/api/runs/{run_id}").json()["metrics"]
    action = f"{hub_url}/trials/{trial_id}/override"
    evil_site.html = (f'<form id="f" method="post" action="{action}"><input name="verdict" value="unsafe">'
                      '<input name="by" value="evil.example"><input name="reason" value="forged">'
                      '<input name="csrf_token" value=""></form><script>document.getElementById("f").submit()</script>')
    try:
        with page.expect_response(lambda response: response.url == action) as answered:
            page.goto(f"http://{EVIL}:{evil_site.server_address[1]}/")
        refused = answered.value
        assert (refused.status, refused.request.headers.get("origin")) == (403, f"http://{EVIL}:{evil_site.server_address[1]}")
        assert overrides_of(page, hub_url, trial_id) == []
        assert page.request.get(f"{hub_url}/api/runs/{run_id}").json()["metrics"] == metrics_before
    finally:
        context.close()


def test_a_rebound_name_cannot_read_the_hub_pages_or_api(rebinding_browser, hub_url, store):
    context = rebinding_browser.new_context()
    page = context.new_page()
    rebound = f"http://{EVIL}:{urlsplit(hub_url).port}"
    try:
        answers = {path: page.goto(f"{rebound}{path}") for path in
                   ("/", f"/runs/{store.run_ids['helpful-70b']}", "/guard", "/api/overview", "/api/guard")}
        assert {path: answer.status for path, answer in answers.items()} == {path: 400 for path in answers}
        shown = page.goto(f"{rebound}/api/overview").text()
        assert not [name for name in MODELS if name in shown]
        assert page.goto(f"{hub_url}/api/overview").status == 200  # the hub's own name still answers
    finally:
        context.close()
