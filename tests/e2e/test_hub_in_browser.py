"""The served hub in Chromium: every page, the JSON API, transcript filters, a human override, the README screenshot."""

from __future__ import annotations

import os
import re
import struct
from urllib.parse import parse_qs, urlsplit

from tests.e2e.browsing import crawl, inspect, table_rows
from tests.e2e.conftest import ARTIFACTS, HOSTILE, HOSTILE_REPLY, LONG_TOKEN, MODELS, QUICK_TRIALS, SMOKE_TRIALS

# Page kinds by path. A page of a kind not listed here (one added later) is still crawled and checked.
KINDS = {"overview": r"/", "category": r"/categories/[^/]+", "run": r"/runs/[^/]+", "transcripts": r"(/runs/[^/]+)?/trials",
         "trial": r"/trials/\d+", "model": r"/models/\d+", "compare": r"/compare", "self-preservation": r"/self-preservation",
         "guard": r"/guard"}
# Where each kind's JSON twin lives, from the page's path.
API_TWINS = {"overview": "/api/overview", "category": "/api{}", "run": "/api{}", "transcripts": "/api{}", "trial": "/api{}",
             "model": "/api{}", "compare": "/api/compare", "self-preservation": "/api/self-preservation",
             "guard": "/api/guard"}


def kind_of(url: str) -> str | None:
    path = urlsplit(url).path
    return next((kind for kind, pattern in KINDS.items() if re.fullmatch(pattern, path)), None)


def test_overview_screenshot_for_the_readme(hub_page, hub_url):
    """The overview as the README shows it, taken before any test records an override. It goes to the scratch file
    tests/artifacts/hub-overview.latest.png; SAFEHUB_UPDATE_SCREENSHOT=1 replaces the committed hub-overview.png
    (so a test run leaves the working tree clean)."""
    page, _ = hub_page
    page.set_viewport_size({"width": 1440, "height": 400})  # laptop-wide, so every column has its natural width
    page.goto(f"{hub_url}/")
    assert len(table_rows(page, "model")) == len(MODELS)
    assert page.locator("main table thead th a").count() == 6  # a column per category
    ARTIFACTS.mkdir(exist_ok=True)
    name = "hub-overview.png" if os.environ.get("SAFEHUB_UPDATE_SCREENSHOT") == "1" else "hub-overview.latest.png"
    shot = page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    assert shot.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", shot[16:24])  # the IHDR chunk
    assert width == 1440 and height >= 400


def test_every_page_reachable_from_the_overview_loads_cleanly(hub_page, hub_url, store):
    page, watch = hub_page

    pages = crawl(page, f"{hub_url}/", lambda url: url.startswith(f"{hub_url}/")
                  and not urlsplit(url).path.startswith(("/static/", "/api/")))

    kinds = {kind_of(url) for url in pages}
    assert {"overview", "category", "run", "transcripts", "trial"} <= kinds, kinds
    runs = {urlsplit(url).path for url in pages if kind_of(url) == "run"}
    assert {f"/runs/{run_id}" for run_id in [*store.run_ids.values(), store.older_run_id]} <= runs
    categories = {urlsplit(url).path.rsplit("/", 1)[1] for url in pages if kind_of(url) == "category"}
    assert {"disallowed_content", "jailbreaks", "instruction_hierarchy", "hallucination", "self_preservation",
            "prompt_sensitivity"} <= categories
    trials = [url for url in pages if kind_of(url) == "trial"]
    assert len(trials) == len(MODELS) * QUICK_TRIALS + SMOKE_TRIALS  # every transcript, through the pagination
    assert not watch.problems()


def test_pages_carry_a_content_security_policy_without_inline_script(hub_page, hub_url, store):
    page, _ = hub_page
    run_id = store.run_ids["helpful-70b"]
    for path in ("/", f"/runs/{run_id}", f"/runs/{run_id}/trials", "/categories/jailbreaks", "/trials/1", "/no-such-page"):
        response = page.request.get(f"{hub_url}{path}")
        policy = {directive.split()[0]: directive.split()[1:]
                  for directive in response.headers.get("content-security-policy", "").split(";") if directive.strip()}
        assert policy.get("script-src") in (["'self'"], ["'none'"]) and policy.get("object-src") == ["'none'"], (path, policy)
        assert "'unsafe-inline'" not in policy.get("style-src", policy.get("default-src", [])), path


def test_json_api_answers_beside_the_pages(hub_page, hub_url, store):
    page, _ = hub_page
    run_id = store.run_ids["balanced-13b"]
    trial_id = page.request.get(f"{hub_url}/api/runs/{run_id}/trials").json()["trials"][0]["trial_id"]
    paths = {"/api/overview", "/api/runs", f"/api/runs/{run_id}", f"/api/runs/{run_id}/trials", f"/api/trials/{trial_id}"}
    for url in (f"{hub_url}/", f"{hub_url}/runs/{run_id}"):
        page.goto(url)
        for link in inspect(page)["links"]:
            kind = kind_of(link)
            if link.startswith(hub_url) and kind in API_TWINS:
                paths.add(API_TWINS[kind].format(urlsplit(link).path))
    assert len(paths) >= 9, paths
    for path in sorted(paths):
        response = page.request.get(f"{hub_url}{path}")
        assert response.status == 200 and response.headers["content-type"].startswith("application/json"), path
        assert response.json(), path
    listed = {run["id"] for run in page.request.get(f"{hub_url}/api/runs").json()}
    assert {*store.run_ids.values(), store.older_run_id} <= listed


def open_transcripts(page, hub_url: str, run_id: str) -> None:
    page.goto(f"{hub_url}/runs/{run_id}")
    with page.expect_navigation():
        page.click("main a:text-is('transcripts')")


def submit_filters(page, **fields: str) -> None:
    for name, value in fields.items():
        control = page.locator(f"form.filters [name={name}]")
        if control.evaluate("element => element.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")


def test_transcripts_filter_by_category_and_search(hub_page, hub_url, store):
    page, _ = hub_page
    open_transcripts(page, hub_url, store.run_ids["balanced-13b"])
    submit_filters(page, category="disallowed_content")
    in_category = table_rows(page, "response")

    submit_filters(page, category="disallowed_content", q="sorry")

    query = parse_qs(urlsplit(page.url).query)
    assert query["category"] == ["disallowed_content"] and query["q"] == ["sorry"]
    rows = table_rows(page, "response")
    assert rows and len(rows) < len(in_category)
    assert all(row["sample"].startswith("disallowed_content/") and "sorry" in row["response"] for row in rows), rows
    refused = [row for row in in_category if "sorry" in row["response"]]
    assert [row["sample"] for row in rows] == [row["sample"] for row in refused]
    # The form shows the filters in force, so the next search starts from them.
    assert page.input_value("form.filters [name=category]") == "disallowed_content"
    assert page.input_value("form.filters [name=q]") == "sorry"


def test_search_for_hostile_markup_finds_it_as_text(hub_page, hub_url, store):
    page, _ = hub_page
    open_transcripts(page, hub_url, store.run_ids["helpful-70b"])

    submit_filters(page, q="onerror")

    assert page.input_value("form.filters [name=q]") == "onerror"
    rows = table_rows(page, "response")
    assert rows and all(HOSTILE["event_handler"] in row["response"] for row in rows)
    assert not inspect(page)["problems"]


def metric_shown(page, category: str, metric: str) -> tuple[str, int]:
    """The value and n of one metric in a run page's table."""
    rows = [row for row in table_rows(page, "metric") if (row["category"], row["metric"]) == (category, metric)]
    assert len(rows) == 1, (category, metric, rows)
    return rows[0]["value"], int(rows[0]["n"])


def test_override_recorded_in_the_browser_changes_the_run_metric(hub_page, hub_url, store):
    page, _ = hub_page
    run_id = store.run_ids["helpful-70b"]
    page.goto(f"{hub_url}/runs/{run_id}")
    before, n = metric_shown(page, "disallowed_content", "not_unsafe")
    open_transcripts(page, hub_url, run_id)
    submit_filters(page, category="disallowed_content")
    harmful = next(row for row in table_rows(page, "response") if "benign" not in row["sample"])
    with page.expect_navigation():
        page.locator("main table tbody tr").filter(has_text=harmful["sample"]).locator("a").first.click()
    assert page.locator("h1").inner_text() == f"Trial {harmful['trial']}"

    page.select_option("select[name=verdict]", "safe")
    page.fill("input[name=by]", "e2e reviewer")
    page.fill("input[name=reason]", "<script>alert('override')</script> only boilerplate, nothing usable")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    with page.expect_navigation(), page.expect_request(lambda request: request.method == "POST") as posted:
        page.click("form[action$='/override'] button[type=submit]")
    # The hub's own form carries the page's form token, and Chromium names the hub as the form's origin.
    sent = posted.value
    assert token and parse_qs(sent.post_data)["csrf_token"] == [token]
    assert (sent.headers.get("origin"), sent.response().status) == (hub_url, 303)

    overrides = [row for row in table_rows(page, "grader") if "(override)" in row["grader"]]
    assert overrides and overrides[0]["by"] == "e2e reviewer"
    assert overrides[0]["explanation"].startswith("<script>alert('override')</script>")
    with page.expect_navigation():
        page.click(f"main a[href$='/runs/{run_id}']")
    after, n_after = metric_shown(page, "disallowed_content", "not_unsafe")
    # helpful-70b complied with every harmful request; a reviewer has now called one of them safe.
    assert (before, after, n_after) == ("0.000", f"{1 / n:.3f}", n)


def test_hostile_reply_is_shown_verbatim_as_text_on_its_trial_page(hub_page, hub_url, store):
    page, _ = hub_page
    trials = page.request.get(f"{hub_url}/api/runs/{store.run_ids['helpful-70b']}/trials",
                              params={"category": "disallowed_content"}).json()["trials"]
    page.goto(f"{hub_url}/trials/{trials[0]['trial_id']}")

    assert page.locator("main pre").last.inner_text() == HOSTILE_REPLY
    assert not inspect(page)["problems"]


def test_long_unbroken_reply_wraps_inside_the_column(hub_page, hub_url, store):
    page, _ = hub_page
    trials = page.request.get(f"{hub_url}/api/runs/{store.run_ids['helpful-70b']}/trials", params={"attack": "base64"})
    page.goto(f"{hub_url}/trials/{trials.json()['trials'][0]['trial_id']}")

    reply = page.locator("pre", has_text=LONG_TOKEN[:100]).last
    assert reply.inner_text() == LONG_TOKEN
    pre_scroll, pre_width, main_width = reply.evaluate(
        "pre => [pre.scrollWidth, pre.clientWidth, document.querySelector('main').clientWidth]")
    assert pre_scroll <= pre_width <= main_width  # wrapped: neither scrolling sideways nor wider than the column
    assert not inspect(page)["problems"]
