"""The guard page in Chromium, served and exported: charts with whiskers, the rule filter, hostile logged text inert."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.e2e.browsing import inspect, table_rows
from tests.e2e.conftest import GUARD_LABELS, GUARD_REQUESTS, HOSTILE


def test_guard_page_charts_rates_and_shows_logged_text_as_text(hub_page, hub_url):
    page, watch = hub_page
    page.goto(f"{hub_url}/")
    with page.expect_navigation():
        page.click("header nav a:text-is('guard')")

    assert page.locator("h1").inner_text() == "Guard"
    charts = page.locator("main svg.chart.timeline")
    assert charts.count() == 2  # input and output screens
    assert charts.first.get_attribute("role") == "img" and "95% Wilson intervals" in charts.first.get_attribute("aria-label")
    assert charts.first.locator("g.block line.whisker").count() > 0
    requests = next(row for row in table_rows(page, "HTTP status the client got") if row["HTTP status the client got"] == "200")
    assert requests["requests"] == str(GUARD_REQUESTS)
    texts = [row["text"] for row in table_rows(page, "time (UTC)")]
    assert any(HOSTILE["script"] in text for text in texts), texts  # shown, as text
    assert not inspect(page)["problems"]

    page.select_option("form.filters [name=rule]", "persona_jailbreak")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")

    assert parse_qs(urlsplit(page.url).query)["rule"] == ["persona_jailbreak"]
    rules = {row["rule"] for row in table_rows(page, "mean score [95% interval]")}
    assert rules == {"persona_jailbreak"}
    assert {row["rule"] for row in table_rows(page, "time (UTC)")} == {"persona_jailbreak"}
    assert not watch.problems()


def test_exported_guard_page_opens_from_file_without_any_logged_text(export_page, export_dir):
    page, watch = export_page
    page.goto((export_dir / "index.html").as_uri())
    with page.expect_navigation():
        page.click("header nav a:text-is('guard')")

    assert page.url.endswith("/guard.html") and page.locator("h1").inner_text() == "Guard"
    assert page.locator("main svg.chart.timeline").count() == 2
    body = page.locator("main").inner_text()
    assert all(markup not in body for markup in HOSTILE.values())
    assert page.locator("main form").count() == 0
    assert not inspect(page)["problems"]
    assert not watch.problems()


def test_guard_card_lists_each_screen_and_the_stored_measurement_as_text(hub_page, hub_url, export_page, export_dir):
    for page, watch, address in ((*hub_page, f"{hub_url}/guard"), (*export_page, (export_dir / "guard.html").as_uri())):
        page.goto(address)
        card = page.locator("main section.guard-card")
        assert "at its default threshold" in card.locator("p.note").first.inner_text()
        assert card.locator("h3").first.is_visible()
        measured = table_rows(page, "labelled traffic")
        assert len(measured) == 1 and measured[0]["labelled traffic"].startswith(GUARD_LABELS)
        recall = measured[0]["recall [95% interval]"]
        assert recall.endswith("n=1") and "[" in recall  # one request should be blocked: n and its interval
        assert measured[0]["false positives [95% interval]"].endswith("n=1")
        assert page.locator("main section.guard-card img").count() == 0  # the file name stayed text
        assert not inspect(page)["problems"]
        assert not watch.problems()
