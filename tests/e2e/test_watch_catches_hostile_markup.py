"""The checks can fail: the same hostile replies, rendered unescaped, trip the watch and the page inspection.

Without this, a watch that silently saw nothing (say, dialogs never reported on file://) would pass every test.
"""

from __future__ import annotations

import pytest

from tests.e2e.browsing import BrowserWatch, inspect, open_context
from tests.e2e.conftest import HOSTILE_REPLY, LONG_TOKEN, OUTSIDE_HOST

UNESCAPED_PAGE = ('<!doctype html><html><head><title>unescaped</title></head><body><main><h1>Trial</h1>'
                  f'<pre>{HOSTILE_REPLY}</pre><table><tr><td>{LONG_TOKEN[:400]}</td></tr></table></main></body></html>')


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_unescaped_hostile_reply_is_caught(browser, hub_url, tmp_path, scheme):
    watch = BrowserWatch(local_files=tmp_path if scheme == "file" else None)
    context = open_context(browser, watch)
    page = context.new_page()
    if scheme == "file":
        (tmp_path / "trial.html").write_text(UNESCAPED_PAGE)
        page.goto((tmp_path / "trial.html").as_uri())
    else:
        # A page of the hub's origin without its CSP: escaping is the only defence being tested.
        page.route(f"{hub_url}/unescaped", lambda route: route.fulfill(content_type="text/html", body=UNESCAPED_PAGE))
        page.goto(f"{hub_url}/unescaped")
    page.wait_for_timeout(300)
    problems = inspect(page)["problems"]
    context.close()

    assert any("xss-script" in dialog for dialog in watch.dialogs) and any("xss-img" in dialog for dialog in watch.dialogs)
    assert any(OUTSIDE_HOST in problem for problem in watch.problems())  # the iframe or the style's background
    assert {"a live <script> element", "a live <iframe> element", "<img> with onerror",
            "a javascript: URL in <a href>"} <= set(problems), problems
    assert any(problem.startswith("content ") and "sticks out" in problem for problem in problems), problems
