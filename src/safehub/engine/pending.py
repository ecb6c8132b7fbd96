"""Answers the store refused, kept on the side until `--resume` stores them: a paid-for answer is never lost.

    path = keep(run_id, records)          # the writer's unstored records, when the store refused them for good
    kept = load(run_id)                   # {trial key: line}: served by the resume before any model call
    discard(run_id)                       # once the resume has stored them

When the store refuses a write (a full disk, a read-only store, a lock held past the wait), the batch being
written and every answer that came back after it would otherwise be thrown away, and the resume would pay for
them again. They go to `$SAFEHUB_CACHE/pending/RUN_ID.jsonl` (else `~/.cache/safehub/pending/`), one trial per
line, mode 0600: the same messages and answers the store would hold, never a key. A resume on the same machine
stores them as they are (graded as they would have been) and deletes the file. Lines are appended, so a
second refusal during a resume adds to the file; the first line for a trial wins.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from safehub.models.base import Completion
from safehub.models.weights import cache_dir
from safehub.store.writes import ScoreRecord, TrialRecord

_STORED_FIELDS = ("sample_pk", "attack", "epoch", "messages", "text", "finish_reason", "input_tokens",
                  "output_tokens", "first_token_logprobs", "latency_ms", "queue_ms", "attempts", "error",
                  "error_kind", "cache_key")


def pending_dir() -> Path:
    return cache_dir() / "pending"


def pending_path(run_id: str) -> Path:
    return pending_dir() / f"{run_id}.jsonl"


def keep(run_id: str, records: list[TrialRecord]) -> Path:
    """Append `records` to the run's pending file and flush them to disk; raises OSError when that fails too."""
    path = pending_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for record in records:
        line = {name: getattr(record, name) for name in _STORED_FIELDS}
        line["scores"] = [asdict(score) for score in record.scores]
        # A record the writer graded before the store refused it carries its verdict; one that came back
        # afterwards is graded by the resume, as it would have been.
        line["is_graded"] = record.sample is None and record.error is None
        lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("".join(lines))
        handle.flush()
        os.fsync(handle.fileno())
    return path


def load(run_id: str) -> dict[tuple[int, str, int], dict]:
    """The run's kept answers by trial key; a line cut short by a crash is skipped."""
    path = pending_path(run_id)
    kept: dict[tuple[int, str, int], dict] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return kept
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            continue  # only the last line can be partial: its trial is asked again
        kept.setdefault((line["sample_pk"], line["attack"], line["epoch"]), line)
    return kept


def discard(run_id: str) -> None:
    pending_path(run_id).unlink(missing_ok=True)


def record_from(line: dict, sample: object) -> TrialRecord:
    """A kept line back as the record the writer stores; `sample` is the planned trial's sample (for grading)."""
    fields = {name: line[name] for name in _STORED_FIELDS}
    record = TrialRecord(**fields, is_cached=False, scores=[ScoreRecord(**score) for score in line["scores"]])
    if not line["is_graded"] and line["error"] is None:
        record.sample = sample
        record.completion = Completion(
            text=line["text"], finish_reason=line["finish_reason"], input_tokens=line["input_tokens"],
            output_tokens=line["output_tokens"], first_token_logprobs=line["first_token_logprobs"],
            latency_ms=line["latency_ms"], queue_ms=line["queue_ms"] or 0.0, attempts=line["attempts"])
    return record
