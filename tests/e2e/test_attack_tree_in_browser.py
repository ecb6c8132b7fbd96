"""An adaptive trial's tree in Chromium, served (under the hub's CSP) and exported (from file://): drawn and styled
with no script, each box a link to its steps, hostile model text inert; the jailbreaks side by side likewise."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from safehub.hub.app import create_app
from tests.conftest import safehub
from tests.e2e.browsing import BrowserWatch, inspect, open_context
from tests.hub.test_adaptive_pages import store  # noqa: F401  (the adaptive store: static, TAP and Crescendo runs)

SUCCESS_FILL = "rgb(218, 251, 225)"  # .tree .success rect in style.css
FOOLED_FILL = "rgb(255, 248, 197)"  # .tree .judge-fooled rect
PRUNED_DASH = "5px, 3px"  # .tree .pruned rect


@pytest.fixture(scope="module")
def served(store):  # noqa: F811
    """The hub over the adaptive store on a free loopback port, in this process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store[0]), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="adaptive-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the hub did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("adaptive-export") / "site"
    result = safehub("export", "--out", str(out), "--db", store[0])
    assert result.returncode == 0, result.stderr
    return out


def trial_ids(served_url: str, page, run_id: str) -> dict[str, int]:
    listed = page.request.get(f"{served_url}/api/runs/{run_id}/trials").json()["trials"]
    return {trial["sample_id"]: trial["trial_id"] for trial in listed}


def rect_style(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "g => { const s = getComputedStyle(g.querySelector('rect'));"
                                           " return {fill: s.fill, dash: s.strokeDasharray}; }")


def check_tree_page(page, url: str, expected_boxes: int) -> None:
    page.goto(url)
    found = inspect(page)
    assert not found["problems"], (url, found["problems"])
    tree = page.locator("svg.tree")
    box = tree.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 60  # drawn, not an empty element
    assert page.locator("svg.tree g.attempt").count() == expected_boxes


@pytest.mark.parametrize("where", ["served", "exported"])
def test_tree_is_drawn_styled_and_navigable_without_script(browser, served, exported, store, where):  # noqa: F811
    _, runs = store
    watch = BrowserWatch(local_files=exported if where == "exported" else None)
    context = open_context(browser, watch)
    page = context.new_page()
    ids = {name: trial_ids(served, page, runs[name]["run_id"]) for name in ("tap", "crescendo")}

    def url_of(trial_id: int) -> str:
        return f"{served}/trials/{trial_id}" if where == "served" else (exported / f"trials/{trial_id}.html").as_uri()

    check_tree_page(page, url_of(ids["tap"]["h0"]), 6)
    assert page.locator("script").count() == 0
    assert rect_style(page, "svg.tree g.success")["fill"] == SUCCESS_FILL
    assert rect_style(page, "svg.tree g.pruned")["dash"] == PRUNED_DASH
    # The hostile answer is text: no element came from it, and its words show in the steps.
    assert page.locator("main pre", has_text='<script>alert("pwned")</script>').count() == 1
    # A box is a plain link to its steps below the drawing.
    page.locator("svg.tree g.success").click()
    section = page.locator(":target")
    assert section.get_attribute("class") == "attempt-steps success" and "SUCCESS" in section.locator("h3").inner_text()

    check_tree_page(page, url_of(ids["tap"]["h1"]), 3)
    assert {rect_style(page, f"svg.tree a:nth-of-type({n}) g")["fill"] for n in (1, 2, 3)} == {FOOLED_FILL}

    check_tree_page(page, url_of(ids["crescendo"]["h0"]), 4)
    assert page.locator("svg.tree g.backtracked").count() == 1

    side = f"{served}/categories/jailbreaks" if where == "served" else (exported / "categories/jailbreaks.html").as_uri()
    page.goto(side)
    assert not inspect(page)["problems"]
    assert page.locator("table.side-by-side td.adaptive").count() == 2
    context.close()
    watch.assert_clean(f"{where} attack tree")
