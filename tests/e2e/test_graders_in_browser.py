"""Graders in Chromium, served and exported: the graders page, and each rate's grader, agreement and corrected rate."""

from __future__ import annotations

import re

from tests.e2e.browsing import inspect, table_rows

GRADERS_H1 = "Graders and how far to trust them"
INTERVAL = r"\[\d\.\d+, \d\.\d+\]"
NOTE = re.compile(rf"grader refusal · agreement \d\.\d\d {INTERVAL}, n \d+ · corrected \d\.\d\d {INTERVAL}")


def follow(page, selector: str) -> str:
    with page.expect_navigation():
        page.click(selector)
    assert not inspect(page)["problems"], page.url
    return page.locator("h1").inner_text()


def assert_graders_page(page) -> None:
    """Both built-in graders, each labelled set with its provenance, n and 95% intervals per question."""
    for name in ("refusal", "refusal_patterns"):
        section = page.locator(f"main section#grader-{name}")
        assert section.locator("h2").inner_text() == name
        assert any("licence MIT (Microsoft)" in text for text in section.locator("p.provenance").all_inner_texts())
        assert section.locator("table.card tbody tr").count() >= 5
        question, n, accuracy, kappa, sensitivity, specificity, confusion = section.locator(
            "table.card tbody tr", has_text="harmful_help").first.locator("td").all_inner_texts()
        assert question == "harmful_help" and int(n) > 0 and "true:" in confusion
        for figure in (accuracy, kappa, sensitivity, specificity):
            assert re.fullmatch(rf"-?\d\.\d{{3}} {INTERVAL}", figure), figure


def assert_category_shows_grader_figures(page) -> None:
    """Every model's not_unsafe on the category page names its grader, its agreement and the corrected rate."""
    section = page.locator("main section", has=page.locator("h2:text-is('not_unsafe')"))
    notes = section.locator("table.rates .grader")
    assert notes.count() == 3 and all(notes.nth(i).is_visible() for i in range(3))
    for text in notes.all_inner_texts():
        assert NOTE.search(" ".join(text.split())), text
    rows = [row for row in table_rows(page, "grader") if row["grader"]]
    assert len(rows) >= 3 and all(row["grader"].startswith("grader refusal") for row in rows), rows


def test_graders_page_and_category_figures_in_the_served_hub(hub_page, hub_url):
    page, watch = hub_page
    page.goto(f"{hub_url}/")

    assert follow(page, "header nav a:text-is('graders')") == GRADERS_H1
    assert_graders_page(page)
    page.goto(f"{hub_url}/categories/disallowed_content")
    assert_category_shows_grader_figures(page)
    follow(page, "main table.rates .grader a:text-is('refusal')")
    assert page.url == f"{hub_url}/graders#grader-refusal"
    assert not watch.problems()


def test_graders_page_and_category_figures_in_the_export(export_page, export_dir):
    page, watch = export_page
    page.goto((export_dir / "categories" / "disallowed_content.html").as_uri())

    assert_category_shows_grader_figures(page)
    assert follow(page, "main table.rates .grader a:text-is('refusal')") == GRADERS_H1
    assert page.url == (export_dir / "graders.html").as_uri() + "#grader-refusal"
    assert_graders_page(page)
    page.goto((export_dir / "index.html").as_uri())
    assert follow(page, "header nav a:text-is('graders')") == GRADERS_H1
    assert not watch.problems()


def test_disagreements_lead_to_the_trial_and_its_override_form(hub_page, hub_url, store):
    page, _ = hub_page
    run_id = store.run_ids["helpful-70b"]
    page.goto(f"{hub_url}/runs/{run_id}")

    assert follow(page, "main a:text-is('disagreements')") == f"Disagreements in run {run_id}"
    rows = table_rows(page, "why listed")
    assert rows and all(row["why listed"] for row in rows)
    confidence = [float(row["confidence"]) for row in rows if row["confidence"] != "–"]
    assert confidence == sorted(confidence)  # least confident first
    first = rows[0]["trial"]
    assert follow(page, f"main table tbody a:text-is('{first}')") == f"Trial {first}"
    assert page.locator("form[action$='/override'] button[type=submit]").count() == 1
