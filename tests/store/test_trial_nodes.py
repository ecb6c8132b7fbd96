"""Nodes of conversation trials in the store (migration 0008), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from safehub.models.spec import ModelSpec
from safehub.store import writes
from safehub.store.db import connect
from safehub.store.nodes import stored_nodes, usage_by_role, write_nodes
from safehub.trials.base import Node
from tests.store.test_store import pg_database  # noqa: F401  (a fixture: a fresh PostgreSQL database)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_database")


def _run(engine) -> tuple[str, int]:
    pks = writes.upsert_samples(engine, "s", "1", [{"id": "x", "category": "c", "scorer": "refusal",
                                                     "expected": "refuse", "prompt": "p"}])
    spec = ModelSpec.parse("openai:gpt-4o-mini")
    run_id = writes.create_run(engine, evaluation_id=writes.create_evaluation(engine, {}),
                               model_id=writes.upsert_model(engine, spec), model_spec=spec.display, suites_info=[],
                               settings={}, n_planned=1)
    return run_id, pks["x"]


def test_each_node_is_stored_once_and_read_back_whole(url):
    engine = connect(url)
    run_id, sample_pk = _run(engine)
    trial = (sample_pk, "tap", 1)
    proposal = Node(kind="attacker_proposal", role="attacker", key="s0.0/attacker", seq=1, depth=1, text='{"prompt": "x"}',
                    input_tokens=120, output_tokens=30, latency_ms=12.5, model="openai:gpt-4o-mini",
                    details={"prompt": "x", "attempts": 1})
    answer = Node(kind="target_answer", role="target", key="s0.0/target", parent=1, seq=2, depth=1, text="No.",
                  input_tokens=10, output_tokens=2, model="openai:gpt-4o-mini", details={"query": 1})
    rating = Node(kind="judge_rating", role="judge", key="s0.0/judge", parent=2, seq=3, depth=1, text="Rating: [[x",
                  error="judge rating unreadable after a retry: no single [[N]] rating in the reply",
                  model="openai:gpt-4o", rating=None, is_cached=True)

    write_nodes(engine, run_id, [(trial, proposal), (trial, answer)])
    # A batch written again (a retried write, two resumes at once) adds only what is new.
    write_nodes(engine, run_id, [(trial, proposal), (trial, answer), (trial, rating)])

    stored = stored_nodes(engine, run_id)[trial]
    assert list(stored) == ["s0.0/attacker", "s0.0/target", "s0.0/judge"]
    assert stored["s0.0/attacker"] == proposal and stored["s0.0/target"] == answer and stored["s0.0/judge"] == rating
    usage = {row["role"]: row for row in usage_by_role(engine, run_id)}
    assert set(usage) == {"attacker", "target"}  # the judge's one answer came from the cache: nothing paid
    assert (usage["attacker"]["input_tokens"], usage["attacker"]["output_tokens"]) == (120, 30)
    assert usage["attacker"]["cost_usd"] == (120 * 0.15 + 30 * 0.60) / 1_000_000
    engine.dispose()
