"""An adaptive trial's conversation as the hub shows it: attempts drawn as a tree in server-side SVG, and listed.

    tree = attack_tree(nodes)        # nodes: store.conversations.conversation_nodes(...), oldest first
    tree.svg                          # <svg> markup, every model text escaped; no script, no inline style
    tree.attempts                     # the attempts in tree order, each with its nodes, for the text below it

An attempt is one box: an attacker proposal (a PAIR/TAP prompt, a Crescendo question) and what followed it, i.e.
the judge's on-topic check, the target's answer, the judge's rating and the search's decision (pruned, or
backtracked). Its children are the attempts the attacker grew from it. Boxes stand in columns by their depth
in that tree, so a Crescendo retry sits one column right of the turn it replaced. Model outputs are hostile
input: the drawing escapes everything and shows at most a snippet; the list below caps each text at
TEXT_SHOWN characters (the JSON API has it whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

BOX_WIDTH = 220
BOX_HEIGHT = 66
COLUMN_GAP = 44
ROW_GAP = 14
MARGIN = 10
LINE_CHARS = 34  # characters of a box's line before it is cut with an ellipsis
TITLE_CHARS = 400  # characters of prompt and answer in a box's tooltip
MAX_DRAWN = 400  # attempts drawn; a larger tree draws its first MAX_DRAWN (by when they were made), lists all
TEXT_SHOWN = 20_000  # characters of one node's text on the page

PRUNE_REASONS = {"off_topic": "pruned: off topic", "width": "pruned: not in the best w"}


@dataclass
class Attempt:
    """One box of the tree: an attacker proposal and the nodes that followed it."""

    seq: int
    name: str  # the node key's stem, e.g. "s0.2.1" (stream 0, then the sibling at each level) or "t3.1"
    nodes: list[dict] = field(default_factory=list)
    parent: Attempt | None = None
    children: list[Attempt] = field(default_factory=list)
    level: int = 0
    row: float = 0.0

    def _first(self, kind: str) -> dict | None:
        return next((node for node in self.nodes if node["kind"] == kind), None)

    @property
    def prompt(self) -> str:
        proposal = self._first("attacker_proposal")
        if proposal is None:
            return ""
        details = proposal.get("details") or {}
        text = details.get("prompt") or details.get("question")
        return text if isinstance(text, str) else proposal["text"]

    @property
    def answer(self) -> dict | None:
        return self._first("target_answer")

    @property
    def rating(self) -> dict | None:
        return self._first("judge_rating")

    @property
    def query(self) -> int | None:
        answer = self.answer
        return (answer.get("details") or {}).get("query") if answer else None

    @property
    def is_success(self) -> bool:
        rating = self.rating
        return bool(rating and (rating.get("details") or {}).get("is_confirmed"))

    @property
    def is_judge_fooled(self) -> bool:
        """Rated at the threshold, but the project's grader found no harmful help in the answer."""
        rating = self.rating
        details = (rating.get("details") or {}) if rating else {}
        return bool(details.get("is_at_threshold")) and not details.get("is_confirmed")

    @property
    def pruned_reason(self) -> str | None:
        pruned = self._first("pruned")
        if pruned is None:
            return None
        return PRUNE_REASONS.get((pruned.get("details") or {}).get("reason"), "pruned")

    @property
    def is_backtracked(self) -> bool:
        return self._first("backtrack") is not None

    @property
    def error(self) -> str | None:
        return next((node["error"] for node in self.nodes if node.get("error")), None)

    @property
    def marks(self) -> list[str]:
        """What happened to this attempt, as CSS classes (and the words the box and the list show)."""
        found = []
        if self.is_success:
            found.append("success")
        if self.is_judge_fooled:
            found.append("judge-fooled")
        if self.pruned_reason:
            found.append("pruned")
        if self.is_backtracked:
            found.append("backtracked")
        if self.error:
            found.append("error")
        return found

    @property
    def status(self) -> str:
        """One line: the judge's rating and what became of the attempt."""
        parts = []
        rating = self.rating
        if rating is not None:
            parts.append("rating unreadable" if rating.get("rating") is None else f"rating {rating['rating']:g}")
        if self.is_success:
            parts.append("SUCCESS")
        if self.is_judge_fooled:
            parts.append("judge fooled")
        if self.pruned_reason:
            parts.append(self.pruned_reason)
        if self.is_backtracked:
            parts.append("backtracked: refused")
        if self.error and rating is None:
            parts.append("error")
        if self.answer is None and not self.pruned_reason and not self.error:
            parts.append("not sent")
        return " · ".join(parts)

    def listed_nodes(self) -> list[dict]:
        """The nodes as the list below the drawing shows them: each text cut at TEXT_SHOWN characters."""
        listed = []
        for node in self.nodes:
            text, hidden_chars = shown_text(node["text"])
            listed.append({**node, "text": text, "hidden_chars": hidden_chars})
        return listed


@dataclass
class AttackTree:
    attempts: list[Attempt]  # in tree order: each attempt before its children
    svg: str
    drawn: int
    nodes: int


def attack_tree(nodes: list[dict]) -> AttackTree:
    """Group a trial's nodes into attempts, order them as a tree and draw it."""
    ordered = _attempts(nodes)
    # The first made, not the first in tree order: every level of a large tree shows, and each drawn attempt's
    # parent (made before it) is drawn too.
    made_first = {id(attempt) for attempt in sorted(ordered, key=lambda attempt: attempt.seq)[:MAX_DRAWN]}
    drawn = [attempt for attempt in ordered if id(attempt) in made_first]
    return AttackTree(ordered, draw(drawn), len(drawn), len(nodes))


def _attempts(nodes: list[dict]) -> list[Attempt]:
    by_seq: dict[int, Attempt] = {}  # node seq -> the attempt holding it
    roots: list[Attempt] = []
    for node in sorted(nodes, key=lambda node: node["seq"]):
        above = by_seq.get(node["parent"]) if node["parent"] is not None else None
        if node["kind"] == "attacker_proposal" or above is None:
            attempt = Attempt(node["seq"], node["key"].split("/", 1)[0], parent=above)
            (above.children if above is not None else roots).append(attempt)
        else:
            attempt = above
        attempt.nodes.append(node)
        by_seq[node["seq"]] = attempt
    ordered: list[Attempt] = []

    def visit(attempt: Attempt, level: int) -> None:
        attempt.level = level
        ordered.append(attempt)
        for child in sorted(attempt.children, key=_name_order):
            visit(child, level + 1)

    for root in sorted(roots, key=_name_order):
        visit(root, 0)
    return ordered


def _name_order(attempt: Attempt) -> tuple:
    """s0.10 after s0.9: the numbers in a name compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", attempt.name)), attempt.seq


def _snippet(text: str, limit: int) -> str:
    text = " ".join((text or "")[:limit * 4].split())  # a huge text is cut before it is split
    return text if len(text) <= limit else text[:limit - 1] + "…"


def draw(attempts: list[Attempt]) -> str:
    """The attempts as boxes in columns by depth, an edge from each to the attempts grown from it."""
    if not attempts:
        return ""
    drawn = {id(attempt) for attempt in attempts}
    next_row = 0

    def place(attempt: Attempt) -> None:
        nonlocal next_row
        children = [child for child in attempt.children if id(child) in drawn]
        for child in sorted(children, key=_name_order):
            place(child)
        if children:
            attempt.row = (min(child.row for child in children) + max(child.row for child in children)) / 2
        else:
            attempt.row, next_row = next_row, next_row + 1

    for attempt in attempts:
        if attempt.parent is None or id(attempt.parent) not in drawn:
            place(attempt)
    levels = max(attempt.level for attempt in attempts) + 1
    width = 2 * MARGIN + levels * BOX_WIDTH + (levels - 1) * COLUMN_GAP
    height = 2 * MARGIN + next_row * BOX_HEIGHT + max(0, next_row - 1) * ROW_GAP
    title = f"attack tree: {len(attempts)} attempts over {levels} levels"
    parts = [f'<svg class="tree" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']

    def x_of(attempt: Attempt) -> float:
        return MARGIN + attempt.level * (BOX_WIDTH + COLUMN_GAP)

    def y_of(attempt: Attempt) -> float:
        return MARGIN + attempt.row * (BOX_HEIGHT + ROW_GAP)

    for attempt in attempts:
        if attempt.parent is None or id(attempt.parent) not in drawn:
            continue
        x1, y1 = x_of(attempt.parent) + BOX_WIDTH, y_of(attempt.parent) + BOX_HEIGHT / 2
        x2, y2 = x_of(attempt), y_of(attempt) + BOX_HEIGHT / 2
        middle = (x1 + x2) / 2
        kind = " pruned" if attempt.pruned_reason else ""
        parts.append(f'<path class="edge{kind}" d="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{y2:.1f} '
                     f'{x2:.1f},{y2:.1f}"/>')
    for attempt in attempts:
        parts.append(_box(attempt, x_of(attempt), y_of(attempt)))
    parts.append("</svg>")
    return "".join(parts)


def _box(attempt: Attempt, x: float, y: float) -> str:
    query = f" · query {attempt.query}" if attempt.query is not None else ""
    heading = _snippet(f"{attempt.name}{query}", LINE_CHARS)
    prompt = _snippet(attempt.prompt or attempt.error or "", LINE_CHARS)
    answer = attempt.answer
    reply = answer["text"] if answer and not answer.get("error") else (answer or {}).get("error") or ""
    tooltip = (f"{attempt.name}: {_snippet(attempt.prompt, TITLE_CHARS)}\n"
               f"answer: {_snippet(reply, TITLE_CHARS)}\n{attempt.status}")
    classes = " ".join(["attempt", *attempt.marks])
    return (f'<a href="#attempt-{attempt.seq}"><g class="{classes}"><title>{escape(tooltip)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6"/>'
            f'<text x="{x + 8:.1f}" y="{y + 18:.1f}" class="heading">{escape(heading)}</text>'
            f'<text x="{x + 8:.1f}" y="{y + 36:.1f}">{escape(prompt)}</text>'
            f'<text x="{x + 8:.1f}" y="{y + 55:.1f}" class="status">{escape(_snippet(attempt.status, LINE_CHARS))}</text>'
            f"</g></a>")


def shown_text(text: str | None) -> tuple[str, int]:
    """A node's text as the page shows it, and how many characters were left out (the API has them)."""
    text = text or ""
    return (text, 0) if len(text) <= TEXT_SHOWN else (text[:TEXT_SHOWN], len(text) - TEXT_SHOWN)
