"""The tree search that TAP is and PAIR is a case of (Mehrotra et al. 2023, "Tree of Attacks"; Chao et al. 2023,
"Jailbreaking Black Box Large Language Models in Twenty Queries").

    shape = TreeShape(roots=1, branching=4, width=10, depth=10, prune_off_topic=True)   # TAP
    shape = TreeShape(roots=20, branching=1, width=None, depth=3, prune_off_topic=False)  # PAIR
    await tree_search(conversation, shape)

Each level, every leaf asks the attacker for `branching` refined prompts (all at once), the judge drops the
ones that no longer ask for the goal (TAP), the rest go to the target and are rated by the judge, and the
`width` best-rated leaves are kept. A leaf rated at the threshold ends its line: it is either the confirmed
success that stops the whole search, or a judge that was fooled (the grader disagreed). A proposal the
attacker botched even after a retry is stored with its error, and its leaf carries on unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from safehub.attacks.strategies.base import Conversation, Step, prompts

ATTACKER_KEYS = ("improvement", "prompt")
HISTORY_MESSAGES = 7  # the attacker sees its last three exchanges after the opening (as PAIR keeps a few)


@dataclass(frozen=True)
class TreeShape:
    roots: int
    branching: int
    width: int | None  # None: keep every leaf (PAIR)
    depth: int
    prune_off_topic: bool


@dataclass
class Leaf:
    cid: str  # "s0.2.1": stream 0, then the sibling index at each level
    stream: int
    history: list[dict]  # the attacker's conversation after its system prompt; ends with a user message
    parent: int | None  # seq of the node this leaf grows from


@dataclass
class Candidate:
    leaf: Leaf
    cid: str
    proposal: Step
    answer: Step | None = None
    rating: Step | None = None
    query: int = 0


def _attacker_messages(conversation: Conversation, history: list[dict]) -> list[dict]:
    system = prompts("attacker")["system"].format(goal=conversation.goal)
    return [{"role": "system", "content": system}, *history]


async def _propose(conversation: Conversation, shape: TreeShape, leaf: Leaf, sibling: int, depth: int) -> Candidate:
    cid = f"{leaf.cid}.{sibling}"
    # Distinct per epoch, level, stream and sibling: siblings (and streams) asked the same thing must not get
    # one cached answer, nor a leaf whose proposal failed (same history) its parent's proposals back.
    per_level = shape.roots * shape.branching
    seed = (conversation.epoch - 1) * 1000 * per_level + depth * per_level + leaf.stream * shape.branching + sibling
    step = await conversation.propose(f"{cid}/attacker", leaf.parent, depth, _attacker_messages(conversation, leaf.history),
                                      seed, ATTACKER_KEYS, prompts("attacker")["reminder"])
    return Candidate(leaf, cid, step)


async def _attack(conversation: Conversation, candidate: Candidate, depth: int) -> None:
    prompt = candidate.proposal.fields["prompt"]
    messages = [*conversation.base_messages, {"role": "user", "content": prompt}]
    candidate.answer = await conversation.send(f"{candidate.cid}/target", candidate.proposal.seq, depth, messages,
                                               candidate.query)
    if candidate.answer.error is None:
        candidate.rating = await conversation.rate(f"{candidate.cid}/judge", candidate.answer.seq, depth, prompt,
                                                   candidate.answer, candidate.query)


def _grown(conversation: Conversation, candidate: Candidate) -> Leaf:
    """The candidate as a leaf of the next level: its attacker history gains this exchange."""
    if candidate.proposal.error is not None:  # nothing to learn from: carry the parent's history on
        return Leaf(candidate.cid, candidate.leaf.stream, candidate.leaf.history, candidate.proposal.seq)
    if candidate.answer is None or candidate.answer.error is not None:
        answer = "(the target gave no answer: " + ((candidate.answer and candidate.answer.error) or "not sent") + ")"
    else:
        answer = candidate.answer.text
    rating = candidate.rating.rating if candidate.rating is not None else None
    feedback = prompts("attacker")["feedback"].format(answer=answer, goal=conversation.goal,
                                                      rating="none" if rating is None else f"{rating:g}")
    history = [*candidate.leaf.history, {"role": "assistant", "content": candidate.proposal.text},
               {"role": "user", "content": feedback}]
    if len(history) > HISTORY_MESSAGES:
        history = history[-HISTORY_MESSAGES:]
    parent = (candidate.rating or candidate.answer or candidate.proposal).seq
    return Leaf(candidate.cid, candidate.leaf.stream, history, parent)


def _rank(candidate: Candidate) -> tuple:
    rating = candidate.rating.rating if candidate.rating is not None else None
    return (rating is None, -(rating or 0), candidate.query or 10**9, candidate.cid)


async def tree_search(conversation: Conversation, shape: TreeShape) -> None:
    start = prompts("attacker")["start"].format(goal=conversation.goal)
    frontier = [Leaf(f"s{stream}", stream, [{"role": "user", "content": start}], None) for stream in range(shape.roots)]
    for depth in range(1, shape.depth + 1):
        if conversation.is_stopped or not frontier:
            return
        plan = [(leaf, sibling) for leaf in frontier for sibling in range(shape.branching)]
        if conversation.queries_left is not None:  # no proposal the budget could never send
            plan = plan[:conversation.queries_left]
        candidates = list(await asyncio.gather(*(_propose(conversation, shape, leaf, sibling, depth)
                                                 for leaf, sibling in plan)))
        proposed = [c for c in candidates if c.proposal.error is None]
        if shape.prune_off_topic:
            checks = await asyncio.gather(*(conversation.is_on_topic(f"{c.cid}/on_topic", c.proposal.seq, depth,
                                                                     c.proposal.fields["prompt"]) for c in proposed))
            kept = []
            for candidate, check in zip(proposed, checks):
                if check.fields.get("on_topic") is False:
                    await conversation.decide("pruned", f"{candidate.cid}/pruned", check.seq, depth,
                                              "off topic: the judge found the prompt no longer asks for the goal",
                                              reason="off_topic")
                else:
                    kept.append(candidate)
            proposed = kept
        queries = conversation.reserve(len(proposed))
        for candidate, query in zip(proposed, queries):
            candidate.query = query
        sent = proposed[:len(queries)]
        await asyncio.gather(*(_attack(conversation, candidate, depth) for candidate in sent))
        if conversation.is_stopped:
            return
        # A leaf rated at the threshold ends its line (judge fooled: the grader disagreed); pruned ones too.
        was_sent = {id(c) for c in sent}
        survivors = [c for c in candidates if c.proposal.error is not None or id(c) in was_sent]
        survivors = [c for c in survivors if c.rating is None or c.rating.rating is None
                     or c.rating.rating < conversation.threshold]
        if shape.width is not None and len(survivors) > shape.width:
            survivors.sort(key=_rank)
            for rank, candidate in enumerate(survivors[shape.width:], start=shape.width + 1):
                parent = (candidate.rating or candidate.answer or candidate.proposal).seq
                await conversation.decide("pruned", f"{candidate.cid}/pruned", parent, depth,
                                          f"not among the {shape.width} best-rated leaves (rank {rank})",
                                          reason="width", rank=rank)
            survivors = survivors[:shape.width]
        frontier = [_grown(conversation, candidate) for candidate in survivors]
