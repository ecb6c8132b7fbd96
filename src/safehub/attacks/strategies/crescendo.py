"""Crescendo (Russinovich et al. 2024, "Great, Now Write an Article About That"): a conversation of up to `turns`
questions that starts harmless and escalates, each building on the target's own earlier answers. A question the
target refuses (the project's refusal grader reads a full refusal) is backtracked: removed from the target's
history and asked another way, up to `backtracks` times in the whole conversation.

    safehub run --model M --suite S --attack crescendo --turns 10 --backtracks 10
"""

from __future__ import annotations

from pydantic import Field

from safehub.attacks.strategies.base import Conversation, Strategy, StrategyOptions, prompts, register

ATTACKER_KEYS = ("rationale", "question")
HISTORY_MESSAGES = 9  # the attacker sees its last four exchanges after the opening


class CrescendoOptions(StrategyOptions):
    turns: int = Field(10, ge=1, le=100)  # the paper's maximum conversation length
    backtracks: int = Field(10, ge=0, le=100)  # refused turns removed and retried, in the whole conversation


@register
class Crescendo(Strategy):
    name = "crescendo"
    description = "Crescendo: a benign start that escalates turn by turn, backtracking refusals (Russinovich et al. 2024)"
    Options = CrescendoOptions

    async def search(self, conversation: Conversation, options: CrescendoOptions) -> None:
        texts = prompts("crescendo")
        system = {"role": "system", "content": texts["system"].format(goal=conversation.goal)}
        attacker = [{"role": "user", "content": texts["first_turn"].format(max_turns=options.turns)}]
        target_history: list[dict] = []
        parent: int | None = None
        turn, attempt, backtracks, asked = 1, 0, 0, 0
        while turn <= options.turns and not conversation.is_stopped:
            key = f"t{turn}.{attempt}"
            depth = turn
            # A fresh seed per proposal: a retried turn must not get the same (cached) reply again.
            proposal = await conversation.propose(f"{key}/attacker", parent, depth, [system, *attacker],
                                                  (conversation.epoch - 1) * 1000 + asked, ATTACKER_KEYS,
                                                  texts["reminder"])
            asked += 1
            if proposal.error is not None:  # stored with its error; the turn is tried again, once per turn
                if attempt > 0:
                    turn, attempt = turn + 1, 0
                else:
                    attempt += 1
                continue
            queries = conversation.reserve(1)
            if not queries:
                return
            question = proposal.fields["question"]
            messages = [*conversation.base_messages, *target_history, {"role": "user", "content": question}]
            answer = await conversation.send(f"{key}/target", proposal.seq, depth, messages, queries[0])
            if answer.error is None and answer.is_refusal and backtracks < options.backtracks:
                backtracks += 1
                parent = await conversation.decide("backtrack", f"{key}/backtrack", answer.seq, depth,
                                                   "refused: removed from the target's history and asked another way",
                                                   backtracks_used=backtracks)
                attacker = self._exchange(attacker, proposal.text, texts["turn"].format(
                    turn=turn, max_turns=options.turns, note=texts["refused_note"], answer=answer.text, rating="none"))
                attempt += 1
                continue
            rating = None
            if answer.error is None:
                rated = await conversation.rate(f"{key}/judge", answer.seq, depth, question, answer, queries[0])
                rating, parent = rated.rating, rated.seq
                target_history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
            else:
                parent = answer.seq
            shown = answer.text if answer.error is None else f"(the target gave no answer: {answer.error})"
            attacker = self._exchange(attacker, proposal.text, texts["turn"].format(
                turn=turn + 1, max_turns=options.turns, note=texts["answered_note"], answer=shown,
                rating="none" if rating is None else f"{rating:g}"))
            turn, attempt = turn + 1, 0

    @staticmethod
    def _exchange(history: list[dict], proposal: str, feedback: str) -> list[dict]:
        history = [*history, {"role": "assistant", "content": proposal}, {"role": "user", "content": feedback}]
        return history if len(history) <= HISTORY_MESSAGES else history[-HISTORY_MESSAGES:]
