"""What the guard page shows: the guard's decisions from its audit in the store, filtered by query parameters.

    filters = parse_filters(rule="persona_jailbreak", last="7d")      # BadQuery (HTTP 400) on bad input
    data = guard_view(engine, DecisionRollup(engine), filters)        # what /guard renders and /api/guard returns

The page also carries the guard card (`data["card"]`, guard.card): every registered screen at its default threshold,
with the figures of its shipped card file and every measurement `safehub guard measure` stored here. The hub does
not know which guard.yaml an operator runs, so it shows the defaults and says so; `safehub guard card --config` shows
a config's own thresholds.

Windows are whole UTC hours (the rollup's unit): `since` rounds down to its hour, `until` up.
Message text appears only if the guard was told to log it (`audit.log_text`), only in the served
hub (never in the static export, which is meant to be published), and always escaped by the template.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.engine import Engine

from safehub.errors import UsageError
from safehub.guard.card import SHIPPED_CARDS, guard_card, shipped_rules
from safehub.store.guard import (
    BUCKET_SIZES,
    HOUR_FORMAT,
    LATENCY_BIN_RATIO,
    DecisionRollup,
    decision_span,
    flagged_decisions,
    known_rules,
)

TEXT_CHARS = 300  # of a logged message shown beside a decision
SAMPLES = 20
LAST_WINDOWS = ("24h", "7d", "30d", "90d")  # offered by the page's form; any Nh or Nd is accepted
_LAST = re.compile(r"([1-9][0-9]{0,5})([hd])")
_MAX_LAST_HOURS = 24 * 3650


class BadQuery(UsageError):
    """A query parameter the hub cannot use; answered with HTTP 400 and this one line."""


@dataclass(frozen=True)
class GuardFilters:
    rule: str | None = None
    since: datetime | None = None  # UTC, on the hour; the first hour shown
    until: datetime | None = None  # UTC, on the hour; the first hour not shown
    last: str | None = None  # as given, e.g. "7d" (then `since` holds where it starts)
    bucket: str | None = None  # hour | day | week; None chooses from the span of the data

    def shown(self) -> dict:
        """The filters as the form and the JSON show them."""
        def iso(value: datetime | None) -> str | None:
            return value.strftime("%Y-%m-%dT%H:00:00Z") if value else None
        return {"rule": self.rule, "since": iso(self.since), "until": iso(None if self.last else self.until),
                "last": self.last, "bucket": self.bucket}


def _blank(value: str | None) -> str | None:
    return (value or "").strip() or None


def _hour_of(name: str, text: str, *, rounds_up: bool) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name}={text[:40]!r} is not a date or time: use 2026-11-23 or 2026-11-23T10:00 (UTC)") from None
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return hour + timedelta(hours=1) if rounds_up and hour != moment else hour


def parse_filters(*, rule: str | None = None, since: str | None = None, until: str | None = None,
                  last: str | None = None, bucket: str | None = None, now: datetime | None = None) -> GuardFilters:
    """The page's query parameters, checked; an empty parameter (an untouched form field) means "any"."""
    rule, since, until, last, bucket = (_blank(value) for value in (rule, since, until, last, bucket))
    if rule is not None and (len(rule) > 100 or not rule.isprintable()):
        raise BadQuery("rule must be a rule name (printable, at most 100 characters)")
    if bucket is not None and bucket not in BUCKET_SIZES:
        raise BadQuery(f"bucket={bucket[:20]!r}: use hour, day or week (or leave it out to choose from the data)")
    if last is not None:
        if since is not None or until is not None:
            raise BadQuery("last counts back from now: give either last or since/until, not both")
        match = _LAST.fullmatch(last)
        hours = int(match[1]) * (24 if match[2] == "d" else 1) if match else 0
        if not 0 < hours <= _MAX_LAST_HOURS:
            raise BadQuery(f"last={last[:20]!r}: use a number of hours or days up to ten years, e.g. 24h or 30d")
        now = now or datetime.now(timezone.utc)
        start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
        return GuardFilters(rule=rule, since=start, last=last, bucket=bucket)
    first = _hour_of("since", since, rounds_up=False) if since else None
    end = _hour_of("until", until, rounds_up=True) if until else None
    if first is not None and end is not None and first >= end:
        raise BadQuery(f"since ({since}) must come before until ({until})")
    return GuardFilters(rule=rule, since=first, until=end, bucket=bucket)


def guard_view(engine: Engine, rollup: DecisionRollup, filters: GuardFilters, *, include_text: bool = True,
               cards_dir: Path = SHIPPED_CARDS) -> dict:
    """The page's data: rates over time, per rule, per upstream, failovers and errors, the newest blocks and flags,
    and the guard card (every screen's measured recall and false-positive rate, whatever the filters)."""
    rollup.refresh()
    rules = known_rules(rollup)
    if filters.rule is not None and filters.rule not in rules:
        raise BadQuery(f"rule={filters.rule!r}: no guard decision names it; known rules: {', '.join(rules) or 'none yet'}")
    def hour(value: datetime | None) -> str | None:
        return value.strftime(HOUR_FORMAT) if value else None

    try:
        summary = rollup.summary(since_hour=hour(filters.since), until_hour=hour(filters.until), rule=filters.rule,
                                 bucket=filters.bucket)
    except UsageError as exc:
        raise BadQuery(str(exc)) from None
    samples = []
    if summary is not None:
        samples = [_sample(row, include_text) for row in flagged_decisions(
            engine, limit=SAMPLES, rule=filters.rule, since=filters.since, until=filters.until)]
    return {"filters": filters.shown(), "rules_known": rules, "last_windows": list(LAST_WINDOWS),
            "bucket_sizes": list(BUCKET_SIZES), "has_decisions": rollup.absorbed > 0, "summary": summary,
            "span": decision_span(engine, since=filters.since, until=filters.until) if summary else None,
            "samples": samples, "is_text_shown": include_text,
            "latency_bin_percent": round((LATENCY_BIN_RATIO - 1) * 100),
            "card": guard_card(shipped_rules(), engine, cards_dir)}


def _sample(row: dict, include_text: bool) -> dict:
    """One stored decision as the page lists it: never a key (the audit holds none), text only when asked for."""
    details = row.get("details") if isinstance(row.get("details"), dict) else {}
    text = _logged_text(row["stage"], details)
    return {"id": row["id"], "created_at": row["created_at"], "stage": row["stage"], "rule": row["rule"],
            "action": row["action"], "score": row["score"], "client": row["client"], "upstream": row["upstream"],
            "status": details.get("status"), "attempts": details.get("attempts"),
            "flagged": [str(rule) for rule in details.get("flagged") or []],
            "is_text_logged": text is not None,
            "text": _excerpt(text) if include_text and text is not None else None}


def _logged_text(stage: str, details: dict) -> str | None:
    """The answer an output decision screened, or the newest user message an input decision screened."""
    if stage == "output" and isinstance(details.get("text"), str):
        return details["text"]
    messages = details.get("messages")
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content parts: keep the text ones
                content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
            return str(content) if content is not None else None
    return None


def _excerpt(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS].rstrip() + "…"


def bucket_label(iso: str, size: str) -> str:
    """A bucket's start as the chart and the table label it: "11-23 10:00" for an hour, "2026-11-23" for a day or week."""
    return f"{iso[5:10]} {iso[11:16]}" if size == "hour" else iso[:10]


def format_ms(value: float | None) -> str:
    """Latency to three significant figures: 0.412, 41.2, 412, 4,120."""
    if value is None:
        return "–"
    digits = max(0, 2 - math.floor(math.log10(value))) if value > 0 else 0
    return f"{value:,.{digits}f}"
