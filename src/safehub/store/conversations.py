"""One conversation trial's nodes, read for the hub's trial page (store.nodes writes them and reads whole runs).

    conversation_nodes(engine, run_id, sample_pk, attack, epoch)   # [node dict, ...] in seq order; [] for none
"""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from safehub.store.schema import trial_nodes

NODE_COLUMNS = ("key", "seq", "parent", "depth", "kind", "role", "model", "text", "input_tokens", "output_tokens",
                "latency_ms", "rating", "error", "is_cached", "details")


def conversation_nodes(engine: Engine, run_id: str, sample_pk: int, attack: str, epoch: int) -> list[dict]:
    """The stored nodes of one trial (found by its key, as the index ix_trial_nodes_trial reads them), oldest first."""
    query = (select(*(trial_nodes.c[name] for name in NODE_COLUMNS))
             .where(trial_nodes.c.run_id == run_id, trial_nodes.c.sample_pk == sample_pk,
                    trial_nodes.c.attack == attack, trial_nodes.c.epoch == epoch)
             .order_by(trial_nodes.c.seq))
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    except DBAPIError:
        if inspect(engine).has_table(trial_nodes.name):
            raise
        return []  # a read-only store from before migration 0008 has no nodes to show
    return [{**row._asdict(), "details": row.details or {}} for row in rows]
