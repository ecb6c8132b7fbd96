"""The nodes of conversation trials: written in the engine's batches, read back for a resume and for pages.

    write_nodes(engine, run_id, [((sample_pk, attack, epoch), node), ...])   # a node already stored is skipped
    stored_nodes(engine, run_id)     # {trial key: {node key: Node}}: what a resume replays
    trial_nodes(engine, run_id)      # {trial key: [node dict, ...]} in seq order: `show`, the hub
    usage_by_role(engine, run_id)    # tokens, calls and estimated cost per role (attacker, target, judge)
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from safehub.models.presets import estimated_cost_usd
from safehub.models.spec import ModelSpec
from safehub.store.schema import trial_nodes
from safehub.store.writes import _insert_ignoring_duplicates, _transaction, now
from safehub.trials.base import Node

_NODE_FIELDS = ("key", "seq", "parent", "depth", "kind", "role", "model", "text", "input_tokens", "output_tokens",
                "latency_ms", "rating", "error", "is_cached", "details")
_IDENTITY = ["run_id", "sample_pk", "attack", "epoch", "key"]


def write_nodes(engine: Engine, run_id: str, nodes: list[tuple[tuple[int, str, int], Node]], *,
                lock_wait_ms: int | None = None) -> int:
    """Store a batch of nodes in one transaction; a node already stored under its key is left as it is."""
    if not nodes:
        return 0
    created_at = now()
    rows = []
    for (sample_pk, attack, epoch), node in nodes:
        row = {name: getattr(node, name) for name in _NODE_FIELDS}
        row["details"] = node.details or None
        rows.append({"run_id": run_id, "sample_pk": sample_pk, "attack": attack, "epoch": epoch,
                     "created_at": created_at, **row})
    with _transaction(engine, lock_wait_ms) as connection:
        statement = _insert_ignoring_duplicates(connection, trial_nodes, _IDENTITY)
        for start in range(0, len(rows), 500):
            connection.execute(statement, rows[start:start + 500])
    return len(rows)


def _node(row) -> Node:
    values = {name: getattr(row, name) for name in _NODE_FIELDS}
    values["details"] = values["details"] or {}
    return Node(**values)


def stored_nodes(engine: Engine, run_id: str) -> dict[tuple[int, str, int], dict[str, Node]]:
    """Every stored node of a run, by trial key and node key."""
    found: dict[tuple[int, str, int], dict[str, Node]] = {}
    query = select(trial_nodes).where(trial_nodes.c.run_id == run_id).order_by(trial_nodes.c.seq)
    with engine.connect() as connection:
        for row in connection.execute(query):
            found.setdefault((row.sample_pk, row.attack, row.epoch), {})[row.key] = _node(row)
    return found


def trial_nodes_of(engine: Engine, run_id: str) -> dict[tuple[int, str, int], list[dict]]:
    """A run's nodes as plain dicts, per trial key, in the order they were made."""
    return {key: [asdict(node) for node in sorted(nodes.values(), key=lambda n: n.seq)]
            for key, nodes in stored_nodes(engine, run_id).items()}


def usage_by_role(engine: Engine, run_id: str) -> list[dict]:
    """Per role and model: calls, tokens (cached answers count no tokens) and the list-price cost estimate."""
    fresh = trial_nodes.c.is_cached.is_(False)
    query = (select(trial_nodes.c.role, trial_nodes.c.model, func.count().label("calls"),
                    func.coalesce(func.sum(trial_nodes.c.input_tokens), 0).label("input_tokens"),
                    func.coalesce(func.sum(trial_nodes.c.output_tokens), 0).label("output_tokens"))
             .where(trial_nodes.c.run_id == run_id, trial_nodes.c.model.is_not(None), fresh)
             .group_by(trial_nodes.c.role, trial_nodes.c.model).order_by(trial_nodes.c.role, trial_nodes.c.model))
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    except DBAPIError:  # a read-only store from before migration 0008 has no nodes to count
        return []
    usage = []
    for row in rows:
        spec = ModelSpec.parse(row.model)
        usage.append({"role": row.role, "model": row.model, "calls": int(row.calls),
                      "input_tokens": int(row.input_tokens), "output_tokens": int(row.output_tokens),
                      "cost_usd": estimated_cost_usd(spec.provider, spec.model, int(row.input_tokens),
                                                     int(row.output_tokens))})
    return usage
