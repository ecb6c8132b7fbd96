"""Transcript search on SQLite (FTS5) and PostgreSQL (tsvector): what users type finds what they expect,
nothing they type breaks it, the index follows every write and is back-filled on upgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from safehub.models.spec import ModelSpec
from safehub.store import queries, writes
from safehub.store.db import connect
from safehub.store.search import SearchTerm, TrialQuery, count_matches, find_trials, parse_search
from tests.store.test_store import pg_database, store_url  # noqa: F401  (fixtures: SQLite and PostgreSQL)

ANSWERS = {
    "a0": "I cannot help with building explosives.",
    "a1": "Sure, here is the recipe you asked for.",
    "a2": "The quick brown fox jumps over the lazy dog.",
    "a3": "Refusing politely: that would be unsafe.",
    "a4": "I'm sorry, but I can't help with that.",
    "harm-weapons-01": "Paris is the capital of France.",
}
HOSTILE = ['"', '"unbalanced phrase', 'a AND', "OR", "NOT help", "NEAR(help with", "*", "**help", "text:help",
           "'", "\\", "%", "_", "a'b", "(((", ")", ":*", "&|!<->", "help\x00with", "-help", "^help", "{x}",
           "'help':* & !", "\u0301", "🙂 help", "a" * 3000, "help " * 200, '""', '" "', "help*with*"]


def _store(url: str, answers: dict[str, str] = ANSWERS, *, finish: bool = True):
    engine = connect(url)
    contents = [{"id": sample_id, "category": "jailbreaks" if sample_id.startswith("a") else "hallucination",
                 "subcategory": "roleplay" if sample_id in ("a0", "a1") else None, "scorer": "refusal",
                 "prompt": f"question {sample_id}", "expected": "refuse"} for sample_id in answers]
    pks = writes.upsert_samples(engine, "s", "1", contents)
    spec = ModelSpec.parse("openai-compat:m@http://127.0.0.1:1/v1")
    run_id = writes.create_run(engine, evaluation_id=writes.create_evaluation(engine, {}),
                               model_id=writes.upsert_model(engine, spec), model_spec=spec.display, suites_info=[],
                               settings={}, n_planned=len(answers))
    records = []
    for index, (sample_id, answer) in enumerate(answers.items()):
        label = "full_refusal" if index % 2 == 0 else "full_compliance"
        records.append(writes.TrialRecord(
            sample_pk=pks[sample_id], attack="dan" if index % 3 == 0 else "none", epoch=1,
            messages=[{"role": "user", "content": f"question {sample_id}"}], text=answer, finish_reason="stop",
            input_tokens=3, output_tokens=5, first_token_logprobs=None, latency_ms=1.0, attempts=1, error=None,
            error_kind=None, is_cached=False,
            scores=[writes.ScoreRecord("refusal", "1", "not_unsafe", label, float(index % 2 == 0))]))
    writes.write_trials(engine, run_id, records)
    if finish:
        writes.finish_run(engine, run_id, "completed", 1.0)
    return engine, run_id


def _found(engine, run_id: str | None = None, **filters) -> set[str]:
    page = find_trials(engine, TrialQuery(run_id=run_id, **filters), limit=100)
    return {trial["sample_id"] for trial in page.trials}


def test_typed_searches_become_words_phrases_and_prefixes():
    assert parse_search('refus* "can\'t help" OR x') == [
        SearchTerm("refus", is_prefix=True), SearchTerm("can't help"), SearchTerm("OR"), SearchTerm("x")]
    assert parse_search('"unbalanced phrase') == [SearchTerm("unbalanced phrase")]
    assert parse_search('*** "" ( ) :') == []
    assert parse_search("harm-weap*") == [SearchTerm("harm weap", is_prefix=True)]


def test_search_finds_words_phrases_prefixes_and_sample_ids(store_url):  # noqa: F811
    engine, run_id = _store(store_url)
    assert _found(engine, run_id, text="help") == {"a0", "a4"}
    assert _found(engine, run_id, text="HELP explosives") == {"a0"}  # every word, any case
    assert _found(engine, run_id, text='"help with building"') == {"a0"}
    assert _found(engine, run_id, text='"building with help"') == set()  # a phrase keeps its order
    assert _found(engine, run_id, text="refus*") == {"a3"}
    assert _found(engine, run_id, text="can't") == {"a4"}
    assert _found(engine, run_id, text="weapons") == {"harm-weapons-01"}  # the sample id matches too
    assert _found(engine, run_id, text="harm-weap") == {"harm-weapons-01"}
    assert _found(engine, None, text="fox") == {"a2"}  # every run


@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_search_input_never_errors(store_url, typed):  # noqa: F811
    engine, run_id = _store(store_url)
    query = TrialQuery(run_id=run_id, text=typed, category=typed if len(typed) < 10 else None)
    find_trials(engine, query)
    count_matches(engine, query)
    find_trials(engine, TrialQuery(text=typed), after=1)


def test_the_index_follows_new_changed_and_deleted_responses(store_url):  # noqa: F811
    engine, run_id = _store(store_url, {"a0": "nothing to see"}, finish=False)
    assert _found(engine, run_id, text="zebra") == set()
    with engine.begin() as connection:
        trial_id = connection.execute(text("SELECT id FROM trials")).scalar_one()
        connection.execute(text("UPDATE responses SET text = 'a zebra crossing' WHERE trial_id = :t"), {"t": trial_id})
    assert _found(engine, run_id, text="zebra") == {"a0"}
    assert _found(engine, run_id, text="nothing") == set()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM scores"))
        connection.execute(text("DELETE FROM responses"))
        connection.execute(text("DELETE FROM trials"))
    assert _found(engine, run_id, text="zebra") == set()


def test_upgrading_a_0003_store_back_fills_the_index(store_url):  # noqa: F811
    from alembic import command

    import safehub.store.db as db

    # Answers stored, then the store taken back to 0003: responses without an index, as an older safehub
    # left them. (Today's writes need today's columns, so they cannot be made into a 0003 store directly.)
    engine, run_id = _store(store_url, finish=False)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    engine.dispose()
    migrated = connect(store_url)  # upgrades through 0004, filling the index from the stored responses
    assert db.current_revision(migrated) == db.HEAD_REVISION
    assert _found(migrated, run_id, text="explosives") == {"a0"}
    assert _found(migrated, run_id, text="refus*") == {"a3"}


def test_count_stops_at_the_cap(store_url):  # noqa: F811
    engine, run_id = _store(store_url, {f"s{i:02d}": f"answer number {i}" for i in range(30)})
    assert count_matches(engine, TrialQuery(run_id=run_id, text="answer"), cap=10) == (10, True)
    assert count_matches(engine, TrialQuery(run_id=run_id, text="answer"), cap=100) == (30, False)
    assert count_matches(engine, TrialQuery(run_id=run_id, text="answer"), cap=30) == (30, False)
    assert count_matches(engine, TrialQuery(run_id=run_id, text="number 7")) == (1, False)


def test_pages_follow_trial_ids_forwards_and_backwards(store_url):  # noqa: F811
    engine, run_id = _store(store_url, {f"s{i:02d}": f"answer number {i}" for i in range(25)})
    query = TrialQuery(run_id=run_id, text="answer")
    first = find_trials(engine, query, limit=10)
    second = find_trials(engine, query, after=first.trials[-1]["trial_id"], limit=10)
    third = find_trials(engine, query, after=second.trials[-1]["trial_id"], limit=10)
    back = find_trials(engine, query, before=third.trials[0]["trial_id"], limit=10)
    assert [len(p.trials) for p in (first, second, third)] == [10, 10, 5]
    assert (first.has_prev, first.has_next, third.has_next) == (False, True, False)
    assert [t["trial_id"] for t in back.trials] == [t["trial_id"] for t in second.trials] and back.has_prev
    assert [t["sample_id"] for t in find_trials(engine, query, offset=20, limit=10).trials] == [
        f"s{i:02d}" for i in range(20, 25)]


def test_each_filter_narrows_the_trials(store_url):  # noqa: F811
    engine, run_id = _store(store_url)
    assert _found(engine, run_id, category="hallucination") == {"harm-weapons-01"}
    assert _found(engine, run_id, subcategory="roleplay") == {"a0", "a1"}
    assert _found(engine, run_id, attack="dan") == {"a0", "a3"}
    assert _found(engine, run_id, label="full_compliance") == {"a1", "a3", "harm-weapons-01"}
    assert _found(engine, run_id, label="full_compliance", text="refus*") == {"a3"}
    assert _found(engine, run_id, category="nothing-like-it") == set()
    trial_id = find_trials(engine, TrialQuery(run_id=run_id, text="fox")).trials[0]["trial_id"]
    writes.add_override(engine, trial_id, is_safe=False, by="reviewer", reason="checked")
    assert _found(engine, run_id, label="human_unsafe") == {"a2"}  # the override is the current verdict
    assert _found(engine, run_id, label="full_refusal") == {"a0", "a4"}
    assert find_trials(engine, TrialQuery(run_id=run_id, text="fox")).trials[0]["labels"] == ["human_unsafe"]


def test_finishing_a_run_stores_its_summary_with_its_filter_values(store_url):  # noqa: F811
    engine, run_id = _store(store_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT scores_version, summary FROM run_summaries WHERE run_id = :r"),
                                    {"r": run_id}).one()
    assert stored.scores_version == queries.get_run(engine, run_id)["scores_version"]
    summary = stored.summary if isinstance(stored.summary, dict) else __import__("json").loads(stored.summary)
    assert summary["facets"] == {"categories": ["hallucination", "jailbreaks"], "subcategories": ["roleplay"],
                                 "attacks": ["dan", "none"], "labels": ["full_compliance", "full_refusal"]}
    trial_id = find_trials(engine, TrialQuery(run_id=run_id, text="fox")).trials[0]["trial_id"]
    writes.add_override(engine, trial_id, is_safe=True, by="reviewer", reason="fine")  # stores it again at once
    with engine.connect() as connection:
        version = connection.execute(text("SELECT scores_version FROM run_summaries WHERE run_id = :r"),
                                     {"r": run_id}).scalar_one()
    assert version == queries.get_run(engine, run_id)["scores_version"]
    assert "human_safe" in queries.cached_run_summary(engine, run_id)["facets"]["labels"]
