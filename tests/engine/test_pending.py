"""Answers the store refused are kept on the side (engine.pending) and come back exactly as they went.

The end-to-end promise — a full disk or a held lock, then `--resume`, and no answer asked twice — is in
tests/reliability/test_store_faults.py; here, what the file keeps and what happens when keeping fails too.
"""

from __future__ import annotations

import asyncio
import sqlite3

from safehub.engine import pending
from safehub.engine.writer import TrialWriter
from safehub.models.base import Completion
from safehub.store.db import connect
from safehub.store.faults import StoreWriteError
from safehub.store.writes import ScoreRecord, TrialRecord
from safehub.suites.schema import Sample


def _record(sample_pk: int, *, text: str = "Paris.", error: str | None = None, graded: bool = False) -> TrialRecord:
    sample = Sample(id=f"s{sample_pk}", prompt="Capital of France?", target="Paris", scorer="answer")
    completion = Completion(text=text, input_tokens=7, output_tokens=2, latency_ms=12.5, queue_ms=3.0,
                            error=error, error_kind="server" if error else None)
    record = TrialRecord(sample_pk=sample_pk, attack="none", epoch=1,
                         messages=[{"role": "user", "content": "Capital of France?"}], text=text, finish_reason="stop",
                         input_tokens=7, output_tokens=2, first_token_logprobs={"Paris": -0.01}, latency_ms=12.5,
                         queue_ms=3.0, attempts=1, error=error, error_kind=completion.error_kind, is_cached=False,
                         cache_key=f"key{sample_pk}",
                         scores=[ScoreRecord("judge", "1", "not_unsafe_judge", "refused", 1.0, "paid for")],
                         sample=None if error or graded else sample, completion=None if error or graded else completion)
    if graded:
        record.scores.append(ScoreRecord("includes", "1", "correct", "correct", 1.0))
    return record


def test_kept_answers_come_back_as_they_went(tmp_path, monkeypatch):
    monkeypatch.setenv("SAFEHUB_CACHE", str(tmp_path / "cache"))
    path = pending.keep("run1", [_record(1), _record(2, graded=True), _record(3, text="", error="HTTP 500")])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"sample_pk": 4, "attack"')  # a crash while appending: only the last line can be cut
    assert path.stat().st_mode & 0o777 == 0o600  # answers to harmful requests: the owner's eyes only

    kept = pending.load("run1")
    assert sorted(kept) == [(1, "none", 1), (2, "none", 1), (3, "none", 1)]
    sample = Sample(id="s1", prompt="Capital of France?", target="Paris", scorer="answer")

    ungraded = pending.record_from(kept[(1, "none", 1)], sample)
    assert ungraded.sample is sample and ungraded.completion.text == "Paris."  # graded by the resume's writer
    assert ungraded.completion.first_token_logprobs == {"Paris": -0.01} and ungraded.latency_ms == 12.5
    assert [s.metric for s in ungraded.scores] == ["not_unsafe_judge"]  # the judge's paid-for verdict stays
    assert (ungraded.queue_ms, ungraded.cache_key, ungraded.is_cached) == (3.0, "key1", False)

    graded = pending.record_from(kept[(2, "none", 1)], sample)
    assert graded.sample is None and [s.metric for s in graded.scores] == ["not_unsafe_judge", "correct"]
    failed = pending.record_from(kept[(3, "none", 1)], sample)
    assert failed.sample is None and failed.error == "HTTP 500"

    pending.discard("run1")
    assert pending.load("run1") == {}


def _locked_writer(tmp_path) -> tuple[TrialWriter, sqlite3.Connection]:
    engine = connect(f"sqlite:///{tmp_path / 'store.db'}")
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return TrialWriter(engine, store_wait_s=0.3, interval_s=0.05), holder


async def _add_until_refused(writer: TrialWriter) -> int:
    writer.start()
    added = 0
    try:
        for sample_pk in range(1, 20):
            await writer.add("run1", _record(sample_pk))
            added += 1
            await asyncio.sleep(0.02)
    except StoreWriteError:
        added += 1  # the refused add is kept too
    await writer.close()
    return added


def test_a_refused_batch_and_later_answers_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SAFEHUB_CACHE", str(tmp_path / "cache"))
    writer, holder = _locked_writer(tmp_path)
    try:
        added = asyncio.run(_add_until_refused(writer))
    finally:
        holder.close()
    assert writer.failure is not None and writer.failure.cause == "locked"
    assert writer.kept == {"run1": added} and writer.keep_error is None
    assert len(pending.load("run1")) == added


def test_keeping_that_fails_too_is_reported_not_hidden(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SAFEHUB_CACHE", str(blocked))
    writer, holder = _locked_writer(tmp_path)
    try:
        asyncio.run(_add_until_refused(writer))
    finally:
        holder.close()
    assert writer.kept == {} and isinstance(writer.keep_error, OSError)


def test_a_conversation_whose_nodes_were_refused_is_not_kept_but_run_again(tmp_path, monkeypatch):
    from safehub.trials.base import Node

    monkeypatch.setenv("SAFEHUB_CACHE", str(tmp_path / "cache"))
    writer, holder = _locked_writer(tmp_path)
    conversation = _record(1)
    conversation.attack = "pair"

    async def add_both() -> None:
        writer.start()
        try:
            await writer.add_node("run1", (1, "pair", 1), Node(kind="target_answer", role="target", key="s0.0/target"))
            await writer.add("run1", conversation)
            await writer.add("run1", _record(2))
            await asyncio.sleep(1.0)  # the writer's batch is refused by the held lock
            await writer.add("run1", _record(3))
        except StoreWriteError:
            pass
        await writer.close()

    try:
        asyncio.run(add_both())
    finally:
        holder.close()
    assert writer.failure is not None
    # The one-call answers are kept; the conversation would be stored without its node, so the resume reruns it.
    assert sorted(pending.load("run1")) == [(2, "none", 1), (3, "none", 1)]
