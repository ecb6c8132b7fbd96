"""The hub as a browser on loopback sees it: its address, and its forms posted back the way a browser posts them.

    client = hub_client(create_app(db_url))
    response = post_override(client, trial_id, verdict="unsafe", by="reviewer", reason="it answered")
"""

from __future__ import annotations

from html.parser import HTMLParser

from fastapi.testclient import TestClient

HUB = "http://127.0.0.1:8765"  # the address `safehub hub` listens on by default


def hub_client(app) -> TestClient:
    return TestClient(app, base_url=HUB)


class HiddenFields(HTMLParser):
    """The hidden inputs of the form posting to `action`."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action
        self.is_inside = False
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.is_inside = attributes.get("action") == self.action
        elif tag == "input" and self.is_inside and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.is_inside = False


def hidden_fields(html: str, action: str) -> dict[str, str]:
    parser = HiddenFields(action)
    parser.feed(html)
    return parser.fields


def post_override(client: TestClient, trial_id: int, **fields: str):
    """Open the trial's page and submit its override form, hidden fields and browser headers included."""
    action = f"/trials/{trial_id}/override"
    page = client.get(f"/trials/{trial_id}")
    assert page.status_code == 200, page.text
    return client.post(action, data={**hidden_fields(page.text, action), **fields}, follow_redirects=False,
                       headers={"Origin": HUB, "Sec-Fetch-Site": "same-origin"})
