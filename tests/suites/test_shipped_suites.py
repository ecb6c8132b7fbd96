"""The shipped suites: what the issue promises in counts, stable ids, and attacks that apply."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from safehub.attacks import ATTACKS
from safehub.engine.plan import check_suites
from safehub.suites import available_suites, load_suite_file, resolve_suite, resolve_suite_refs
from safehub.suites.loader import DEFAULT_SUITES, SHIPPED_DIR
from tests.conftest import safehub

LOCK = Path(__file__).with_name("suite_lock.json")
SHIPPED = sorted(p.stem for p in SHIPPED_DIR.iterdir() if p.suffix in (".yaml", ".jsonl"))


def _sample_hash(sample) -> str:
    # `agentic` came later: a sample without it hashes as it did before the field existed.
    dumped = sample.model_dump(mode="json", exclude={"agentic"} if sample.agentic is None else None)
    return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()[:16]


def _snapshot() -> dict:
    return {name: {"version": (suite := resolve_suite(name)).version,
                   "samples": {s.id: _sample_hash(s) for s in suite.samples}} for name in SHIPPED}


def test_every_shipped_suite_validates_from_the_cli():
    result = safehub("suites", "validate", *SHIPPED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == len(SHIPPED)


def test_every_shipped_suite_uses_known_scorers_and_attacks():
    check_suites([resolve_suite(name) for name in SHIPPED])


def test_sample_ids_and_texts_change_only_with_the_suite_version():
    current = _snapshot()
    if os.environ.get("SAFEHUB_UPDATE_SUITE_LOCK") == "1":
        LOCK.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    locked = json.loads(LOCK.read_text())
    for name, suite in current.items():
        assert name in locked, f"new suite {name}: record it with SAFEHUB_UPDATE_SUITE_LOCK=1"
        if suite["version"] == locked[name]["version"]:
            assert suite["samples"] == locked[name]["samples"], (
                f"suite {name} changed its samples but kept version {suite['version']}: bump the version, "
                "then record it with SAFEHUB_UPDATE_SUITE_LOCK=1")
        else:
            pytest.fail(f"suite {name} is now version {suite['version']}: record it with SAFEHUB_UPDATE_SUITE_LOCK=1")


def _counts(suite, attribute: str = "subcategory") -> Counter:
    return Counter(getattr(s, attribute) for s in suite.samples)


def test_disallowed_content_counts():
    suite = resolve_suite("disallowed_content")
    harmful = [s for s in suite.samples if s.expected == "refuse"]
    benign = [s for s in suite.samples if s.expected == "comply"]
    assert len(harmful) >= 150 and len(benign) >= 150
    assert len({s.subcategory for s in harmful}) >= 10


def test_jailbreaks_wrap_at_least_50_harmful_requests_in_12_attacks():
    suite = resolve_suite("jailbreaks")
    harmful_ids = {s.id for s in resolve_suite("disallowed_content").samples if s.expected == "refuse"}
    assert len(suite.samples) >= 50 and {s.id for s in suite.samples} <= harmful_ids
    assert len([a for a in suite.attacks if a != "none"]) >= 12
    for attack in suite.attacks:
        for sample in suite.samples:
            attacked = ATTACKS[attack].apply(sample.chat())
            assert attacked and attacked[-1]["role"] == "user" and attacked[-1]["content"].strip()


def test_instruction_hierarchy_counts():
    suite = resolve_suite("instruction_hierarchy")
    assert len(suite.samples) >= 60
    styles = Counter(s.metadata.get("style") for s in suite.samples if s.subcategory == "secret_protection")
    assert len([style for style in styles if style]) >= 8


def test_hallucination_counts():
    suite = resolve_suite("hallucination")
    answerable = [s for s in suite.samples if s.metadata.get("answerable", True)]
    assert len(answerable) >= 200 and len(suite.samples) - len(answerable) >= 50
    assert all(s.target for s in answerable)


def test_self_preservation_has_every_dilemma_in_both_orders():
    suite = resolve_suite("self_preservation")
    dilemmas = [s for s in suite.samples if s.metadata.get("probe") != "test_awareness"]
    scenarios = {s.metadata["scenario"] for s in dilemmas}
    assert len(scenarios) >= 8
    for scenario in scenarios:
        for variation in ("active", "passive_disclose", "passive_asked"):
            options = sorted(s.metadata["self_preserving_option"] for s in dilemmas
                             if s.metadata["scenario"] == scenario and s.metadata["variation"] == variation)
            assert options == ["A", "B"], (scenario, variation)
    assert all(s.target != s.metadata["self_preserving_option"] for s in dilemmas)


def test_prompt_sensitivity_has_40_requests_in_5_phrasings():
    suite = resolve_suite("prompt_sensitivity")
    by_base = Counter(s.metadata["base_id"] for s in suite.samples)
    assert len(by_base) >= 40 and min(by_base.values()) >= 5
    expected = {}
    for sample in suite.samples:
        assert expected.setdefault(sample.metadata["base_id"], sample.expected) == sample.expected


def test_default_runs_all_six_and_quick_samples_every_category():
    assert [suite.name for suite, _ in resolve_suite_refs(["default"])] == list(DEFAULT_SUITES)
    quick = [suite for suite, _ in resolve_suite_refs(["quick"])]
    assert [suite.name for suite in quick] == list(DEFAULT_SUITES)
    trials = sum(len(suite.samples) * len(suite.attacks) for suite in quick)
    assert 50 <= trials <= 75
    assert all(suite.samples for suite in quick)


def test_shipped_names_are_listed():
    assert set(SHIPPED) <= set(available_suites())
    assert all(load_suite_file(available_suites()[name]).name == name for name in SHIPPED)
