"""TAP (Mehrotra et al. 2023, "Tree of Attacks: Jailbreaking Black-Box LLMs Automatically"): each leaf branches
into `branching` refined prompts, off-topic ones are pruned by the judge before they are sent, and the `width`
best-rated leaves are kept, for up to `depth` levels.

    safehub run --model M --suite S --attack tap --branching 4 --width 10 --depth 10
"""

from __future__ import annotations

from pydantic import Field

from safehub.attacks.strategies.base import Conversation, Strategy, StrategyOptions, register
from safehub.attacks.strategies.tree import TreeShape, tree_search


class TapOptions(StrategyOptions):
    branching: int = Field(4, ge=1, le=50)  # b in the paper
    width: int = Field(10, ge=1, le=1000)  # w in the paper
    depth: int = Field(10, ge=1, le=100)  # d in the paper


@register
class Tap(Strategy):
    name = "tap"
    description = "TAP: tree of attacker refinements, off-topic pruning, keep the best w (Mehrotra et al. 2023)"
    Options = TapOptions

    async def search(self, conversation: Conversation, options: TapOptions) -> None:
        await tree_search(conversation, TreeShape(roots=1, branching=options.branching, width=options.width,
                                                  depth=options.depth, prune_off_topic=True))
