"""The store's tables (SQLAlchemy Core). Alembic migrations in `migrations/` create and evolve them.

evaluation 1-n run; run n-1 model; run 1-n trial; trial n-1 sample; trial 1-1 response; trial 1-n score;
a conversation trial 1-n trial_nodes (by the trial's key: its nodes are written before the trial row).
A trial row exists once per (run, sample, attack, epoch): the unique constraint is what makes
resume and crash recovery safe.
"""

from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        Boolean,
                        Column,
                        DateTime,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        MetaData,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"})

evaluations = Table(
    "evaluations", metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("config", JSON, nullable=False),  # the settings as given (never keys)
)

models = Table(
    "models", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("spec", String(500), nullable=False, unique=True),  # display form: credentials redacted
    Column("provider", String(64), nullable=False),
    Column("name", String(300), nullable=False),
    Column("base_url", String(500)),
)

runs = Table(
    "runs", metadata,
    Column("id", String(32), primary_key=True),
    Column("evaluation_id", String(32), ForeignKey("evaluations.id"), nullable=False, index=True),
    Column("model_id", Integer, ForeignKey("models.id"), nullable=False, index=True),
    Column("model_spec", String(500), nullable=False),
    Column("suites", JSON, nullable=False),  # [{name, version, category, samples}]
    Column("settings", JSON, nullable=False),  # limit, epochs, concurrency, generation settings, judge
    Column("status", String(20), nullable=False),  # running | completed | interrupted | failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("n_planned", Integer, nullable=False),
    Column("n_trials", Integer, nullable=False, default=0),
    Column("n_errors", Integer, nullable=False, default=0),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cost_usd", Float),
    Column("duration_s", Float, nullable=False, default=0.0),  # summed over sessions, so resume adds up
    # Bumped whenever the run's verdicts change (finish, override, regrade): the summary cache key.
    Column("scores_version", Integer, nullable=False, default=0, server_default="0"),
    # The process that owns a running run and when it last showed it was alive: a run whose owner died
    # reads as interrupted (queries.run_liveness). Set on start and on every resume.
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("owner_pid", Integer),
    Column("owner_host", String(255)),
    Column("failure", Text),  # why a failed run failed: the store refused a write, or every trial errored
)

samples = Table(
    "samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("suite", String(200), nullable=False),
    Column("suite_version", String(50), nullable=False),
    Column("sample_id", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("category", String(100), nullable=False),
    Column("subcategory", String(200)),
    Column("scorer", String(100), nullable=False),
    Column("content", JSON, nullable=False),  # the whole sample as validated
    UniqueConstraint("suite", "sample_id", "content_hash", name="uq_samples_identity"),
    Index("ix_samples_category", "category", "subcategory"),
)

trials = Table(
    "trials", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("sample_pk", Integer, ForeignKey("samples.id"), nullable=False),
    Column("attack", String(100), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("messages", JSON, nullable=False),  # as sent, after the attack
    Column("is_error", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("run_id", "sample_pk", "attack", "epoch", name="uq_trials_identity"),
    Index("ix_trials_sample", "sample_pk"),
    Index("ix_trials_run_id", "run_id", "id"),  # a run's trials in id order: keyset pages, streaming export
)

# Full-text search over responses.text lives outside this metadata (migration 0004): an FTS5 table
# `responses_fts` kept in sync by triggers on SQLite; on PostgreSQL a generated tsvector column
# `responses.text_search` with a GIN index (the database fills it; safehub never writes it).
responses = Table(
    "responses", metadata,
    Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("finish_reason", String(40)),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("first_token_logprobs", JSON),
    Column("latency_ms", Float, nullable=False),  # the model calls alone, every attempt
    Column("queue_ms", Float),  # waiting to be sent: a concurrency slot, a rate-limit pause, retry backoff
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("error_kind", String(40)),
    Column("is_cached", Boolean, nullable=False),
)

scores = Table(
    "scores", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trial_id", Integer, ForeignKey("trials.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("grader", String(100), nullable=False),
    Column("grader_version", String(50), nullable=False),
    Column("metric", String(100), nullable=False),
    Column("label", String(100), nullable=False),
    Column("value", Float),
    Column("explanation", Text, nullable=False, default=""),
    Column("details", JSON),
    Column("is_override", Boolean, nullable=False, default=False),
    Column("created_by", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The steps of a conversation trial (migration 0008), written as they happen: attacker proposals, target answers,
# judge ratings, pruned branches, backtracked turns. `key` names a node's place in its conversation, the same on a
# resume (trials.base.Node); `parent` is the parent node's `seq`.
trial_nodes = Table(
    "trial_nodes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("sample_pk", Integer, ForeignKey("samples.id"), nullable=False),
    Column("attack", String(100), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("key", String(200), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("parent", Integer),
    Column("depth", Integer, nullable=False),
    Column("kind", String(40), nullable=False),  # attacker_proposal | on_topic | target_answer | judge_rating | ...
    Column("role", String(20), nullable=False),  # attacker | target | judge | search
    Column("model", String(500)),  # display spec: credentials redacted
    Column("text", Text, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("rating", Float),
    Column("error", Text),
    Column("is_cached", Boolean, nullable=False),
    Column("details", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("run_id", "sample_pk", "attack", "epoch", "key", name="uq_trial_nodes_identity"),
    Index("ix_trial_nodes_trial", "run_id", "sample_pk", "attack", "epoch", "seq"),
)

response_cache = Table(
    "response_cache", metadata,
    Column("key", String(64), primary_key=True),  # sha256 of (model spec, messages, settings, epoch)
    Column("text", Text, nullable=False),
    Column("finish_reason", String(40)),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("first_token_logprobs", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("tool_calls", JSON),  # [{id, name, arguments, raw_arguments?}] of an answer that called tools
)

guard_decisions = Table(
    "guard_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("client", String(100)),  # the client key's name, never the key
    Column("stage", String(20), nullable=False),  # input | output
    Column("rule", String(100)),
    Column("score", Float),
    Column("action", String(20), nullable=False),  # block | flag | pass
    Column("upstream", String(500)),
    Column("latency_ms", Float),
    Column("details", JSON),
)

# Written by `safehub judge calibrate` before migration 0005; grader_measurements has replaced it.
judge_calibrations = Table(
    "judge_calibrations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("judge_spec", String(500), nullable=False, index=True),
    Column("rubric_version", String(50), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("labeled_set", String(100), nullable=False),  # which examples, e.g. refusal-heldout@<artifact version>
    Column("true_positives", Integer, nullable=False),  # judge unsafe, truth unsafe (full compliance)
    Column("false_positives", Integer, nullable=False),
    Column("true_negatives", Integer, nullable=False),
    Column("false_negatives", Integer, nullable=False),
    Column("judge_errors", Integer, nullable=False),
    Column("sensitivity", Float),
    Column("specificity", Float),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

run_summaries = Table(
    "run_summaries", metadata,
    Column("run_id", String(32), ForeignKey("runs.id"), primary_key=True),
    Column("scores_version", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)

# A grader's agreement with a labelled set, one row per question (`safehub graders measure`, see scorers/card.py).
# Binary questions (positive = the unsafe verdict: refused, gave harmful help) fill tp/fn/fp/tn; three_class
# leaves them empty and keeps its 3x3 matrix in `confusion`. `details` holds the whole agreement dict (intervals).
grader_measurements = Table(
    "grader_measurements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("grader", String(100), nullable=False),  # refusal, refusal_patterns, judge, llama_guard, ...
    Column("grader_version", String(100), nullable=False),
    Column("judge_spec", String(500)),  # the judge model's spec (credentials redacted) for a model grader
    Column("labelled_set", String(200), nullable=False),  # the labels' name, e.g. the file's name
    Column("labelled_set_sha256", String(64), nullable=False),  # of the labelled rows as read
    Column("question", String(50), nullable=False),  # three_class | refused_or_not | over_refusal | harmful_help
    Column("n", Integer, nullable=False),
    Column("tp", Integer),
    Column("fn", Integer),
    Column("fp", Integer),
    Column("tn", Integer),
    Column("accuracy", Float),
    Column("kappa", Float),
    Column("sensitivity", Float),
    Column("specificity", Float),
    Column("confusion", JSON, nullable=False),
    Column("details", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_grader_measurements_grader", "grader", "grader_version", "question"),
)

# A guard screen measured on an operator's labelled traffic (`safehub guard measure`, see guard/measure.py), one row
# per rule: positive = the line should be blocked. tp/fn/fp/tn at `threshold`; recall = tp / (tp + fn),
# false_positive_rate = fp / (fp + tn). `details` holds the intervals, the guard config's name and screen errors.
guard_measurements = Table(
    "guard_measurements", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(100), nullable=False),  # the guard.yaml rule name, e.g. harmful_request
    Column("stage", String(20), nullable=False),  # input | output
    Column("screen_version", String(100), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("action", String(20), nullable=False),  # block | flag, as configured when measured
    Column("labelled_set", String(200), nullable=False),  # the labels file's name
    Column("labelled_set_sha256", String(64), nullable=False),  # of the file's bytes
    Column("n", Integer, nullable=False),
    Column("tp", Integer, nullable=False),
    Column("fn", Integer, nullable=False),
    Column("fp", Integer, nullable=False),
    Column("tn", Integer, nullable=False),
    Column("recall", Float),  # None without lines that should be blocked
    Column("false_positive_rate", Float),  # None without lines that should pass
    Column("details", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_guard_measurements_rule", "rule", "id"),
)
