"""Stored grader measurements (`safehub graders measure`) on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from safehub.scorers.card import grader_cards
from safehub.stats import agreement
from safehub.store.db import connect
from safehub.store.measurements import add_measurements, newest_measurement
from tests.store.test_store import pg_database, store_url  # noqa: F401  (fixtures: both backends)


def test_grader_measurements_round_trip_with_undefined_figures(store_url):  # noqa: F811 (the imported fixture)
    """A measurement whose kappa is undefined (every label the same) is stored as null, on either backend."""
    engine = connect(store_url)
    figure = agreement([True, True, True], [True, True, True])  # kappa NaN, specificity NaN
    [stored] = add_measurements(engine, grader="judge", grader_version="strongreject-1", judge_spec="openai:gpt-4o-mini",
                                labelled_set="tiny.jsonl", labelled_set_sha256="a" * 64,
                                figures={"harmful_help": figure}, details={"source": "test"})
    newest = newest_measurement(engine, "judge", "strongreject-1", "harmful_help", "openai:gpt-4o-mini")
    assert newest["id"] == stored["id"] and newest["confusion"] == [[3, 0], [0, 0]]
    assert newest["kappa"] is None and newest["specificity"] is None and newest["sensitivity"] == 1.0
    assert newest["provenance"] == {"name": "tiny.jsonl", "sha256": "a" * 64, "source": "test"}
    assert any(card["grader"] == "judge:openai:gpt-4o-mini" for card in grader_cards(engine))
