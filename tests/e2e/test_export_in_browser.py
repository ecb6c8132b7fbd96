"""The static export opened from file:// in Chromium: every page, working navigation, hostile replies kept inert."""

from __future__ import annotations

from tests.e2e.browsing import crawl, file_path, inspect
from tests.e2e.conftest import HOSTILE, LONG_TOKEN, MODELS, QUICK_TRIALS, SMOKE_TRIALS


def test_every_exported_page_opens_from_file_and_links_only_to_existing_files(export_page, export_dir, store):
    page, watch = export_page
    root = export_dir.resolve()

    pages = crawl(page, (root / "index.html").as_uri(),
                  lambda url: url.startswith("file:") and url.endswith(".html") and file_path(url).is_relative_to(root))

    relative = {file_path(url).relative_to(root).as_posix() for url in pages}
    assert {"index.html", "categories/jailbreaks.html", f"runs/{store.run_ids['helpful-70b']}.html",
            f"runs/{store.run_ids['helpful-70b']}/trials-1.html"} <= relative
    assert {f"runs/{run_id}.html" for run_id in [*store.run_ids.values(), store.older_run_id]} <= relative
    transcripts = [url for url in pages if "/trials-" in url]
    shown = 0
    for url in transcripts:
        page.goto(url)
        shown += page.locator("main section[id^=trial-]").count()
    assert shown == len(MODELS) * QUICK_TRIALS + SMOKE_TRIALS  # every trial of every run, once
    assert not watch.problems()


def test_navigation_from_index_to_a_category_a_run_its_transcripts_and_back(export_page, export_dir, store):
    page, _ = export_page
    page.goto((export_dir / "index.html").as_uri())

    def follow(selector: str) -> str:
        with page.expect_navigation():
            page.click(selector)
        assert page.url.startswith("file://") and not inspect(page)["problems"], page.url
        return page.locator("h1").inner_text()

    assert follow("main thead a:text-is('jailbreaks')") == "jailbreaks"
    page.go_back()
    assert page.url.endswith("/index.html")
    run_id = store.run_ids["helpful-70b"]
    assert follow(f"main a:text-is('{run_id}')") == "scripted:helpful-70b"
    assert follow("main a:text-is('transcripts')") == f"Transcripts of run {run_id}"
    assert page.locator("main section[id^=trial-]").count() == QUICK_TRIALS
    assert follow(f"h1 a:text-is('{run_id}')") == "scripted:helpful-70b"  # back up to the run
    page.go_back()
    page.go_back()
    assert page.url.endswith(f"/runs/{run_id}.html")
    assert follow("header nav a:text-is('overview')") == "Models × categories"
    assert page.url == (export_dir / "index.html").as_uri()


def test_hostile_replies_stay_text_in_the_exported_transcripts(export_page, export_dir, store):
    page, watch = export_page
    page.goto((export_dir / "runs" / store.run_ids["helpful-70b"] / "trials-1.html").as_uri())

    replies = page.locator("main pre").all_inner_texts()
    for name, markup in HOSTILE.items():
        assert any(markup in reply for reply in replies), name
    long_reply = page.locator("main pre", has_text=LONG_TOKEN[:100])
    assert long_reply.count() >= 1 and long_reply.first.inner_text() == LONG_TOKEN
    pre_scroll, pre_width, main_width = long_reply.first.evaluate(
        "pre => [pre.scrollWidth, pre.clientWidth, document.querySelector('main').clientWidth]")
    assert pre_scroll <= pre_width <= main_width
    assert not inspect(page)["problems"]
    assert not watch.problems()
