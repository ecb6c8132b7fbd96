"""Each conversation trial's node sink: numbers its nodes, hands them to the writer, and holds the nodes an
earlier session stored so the driver replays them instead of asking a model again (trials.base.NodeSink).

    sink = TrialNodes(writer, run_id, trial.key, stored_nodes(engine, run_id).get(trial.key, {}))
"""

from __future__ import annotations

from safehub.engine.writer import TrialWriter
from safehub.trials.base import Node


class TrialNodes:
    def __init__(self, writer: TrialWriter, run_id: str, trial_key: tuple[int, str, int], stored: dict[str, Node]):
        self.writer = writer
        self.run_id = run_id
        self.trial_key = trial_key
        self._stored = stored
        self._next_seq = max((node.seq for node in stored.values()), default=0) + 1

    def stored(self, key: str) -> Node | None:
        return self._stored.get(key)

    async def add(self, node: Node) -> Node:
        node.seq = self._next_seq
        self._next_seq += 1
        await self.writer.add_node(self.run_id, self.trial_key, node)
        return node
