"""PAIR (Chao et al. 2023): `streams` independent attacker conversations, each refining its prompt for up to
`iterations` rounds from the target's answer and the judge's rating; TAP's tree with one branch and no pruning.

    safehub run --model M --suite S --attack pair --streams 20 --iterations 3
"""

from __future__ import annotations

from pydantic import Field

from safehub.attacks.strategies.base import Conversation, Strategy, StrategyOptions, register
from safehub.attacks.strategies.tree import TreeShape, tree_search


class PairOptions(StrategyOptions):
    streams: int = Field(20, ge=1, le=1000)  # N in the paper
    iterations: int = Field(3, ge=1, le=100)  # K in the paper


@register
class Pair(Strategy):
    name = "pair"
    description = "PAIR: parallel streams of attacker refinements (Chao et al. 2023)"
    Options = PairOptions

    async def search(self, conversation: Conversation, options: PairOptions) -> None:
        await tree_search(conversation, TreeShape(roots=options.streams, branching=1, width=None,
                                                  depth=options.iterations, prune_off_topic=False))
