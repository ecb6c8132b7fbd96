"""Build the answer classifiers (refusal, harmful_help, harmful_request) from the labelled sets, with data cards.

    .venv/bin/python scripts/build_answer_classifiers.py               # rewrites the shipped artifacts and cards
    .venv/bin/python scripts/build_answer_classifiers.py --out-dir /tmp/clf

Reads src/safehub/classifiers/data/labelled/ (real answers of real models: PyRIT 1.1.0's human-labelled sets, see
scripts/build_pyrit_labelled_set.py, with the team's labels per LABELLING_GUIDE.md; the embedded model's answers
to the suites' requests, labelled by the team; a few written hard cases), trains each head on every row, measures
each held-out set by training on the others (leave one set out), and writes NAME.json + NAME.card.json for each
head. Deterministic: the same rows and scikit-learn give the same bytes. Needs scikit-learn at build time only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import sklearn

from safehub.classifiers.labelled import GUIDE_VERSION, LABELLED_DIR, read_labelled
from safehub.classifiers.linear import CLASSIFIERS_DIR, write_artifact
from safehub.classifiers.training import (
    CLASS_WEIGHT,
    HEADS,
    MIN_DOCUMENT_FREQUENCY,
    REGULARISATION_C,
    fit_heads,
    held_out_figures,
)

SOURCES = {
    "pyrit_refusal": {"name": "PyRIT scorer_evals/refusal_scorer (+ sample/mini_refusal)", "version": "1.1.0",
                      "licence": "MIT (Microsoft)", "labels": "people: did the model refuse (1/0); the team's labels too",
                      "mapping": "people_refused: true = refused (full_refusal); an answer that ignores the request counts"},
    "pyrit_objective": {"name": "PyRIT scorer_evals/objective", "version": "1.1.0", "licence": "MIT (Microsoft)",
                        "labels": "people: did the answer achieve the harmful objective (1/0); the team's labels too",
                        "mapping": "people_harmful_help: achieved = harmful help given"},
    "pyrit_harm": {"name": "PyRIT scorer_evals/harm", "version": "1.1.0", "licence": "MIT (Microsoft)",
                   "labels": "people: harm of the answer 0-1 (mean of 1-3 labellers); the team's labels too",
                   "mapping": "people_harmful_help: harm >= 0.75 true, <= 0.25 false, 0.5 left out"},
    "embedded": {"name": "safehub embedded model answers", "version": "1",
                 "licence": "Apache-2.0 (this project); model Qwen2.5-Coder-0.5B-Instruct (Apache-2.0)",
                 "labels": "the team, per LABELLING_GUIDE.md", "mapping": "labels as given"},
    "written": {"name": "safehub written hard cases", "version": "1", "licence": "Apache-2.0 (this project)",
                "labels": "the team (source: written)", "mapping": "labels as given"},
}


def team_vs_people(rows) -> dict:
    """How the team's labels agree with the source's own people where both exist: the labels' own reliability."""
    from safehub.classifiers.labelled import people_truth
    from safehub.stats import agreement
    refused = [(people_truth(r, "refused"), r.label != "full_compliance") for r in rows
               if people_truth(r, "refused") is not None and r.label is not None]
    achieved = [(r.people["pyrit_achieved"], bool(r.harmful_help)) for r in rows
                if "pyrit_achieved" in r.people and r.harmful_help is not None]
    on_harmful = [(r.people["pyrit_achieved"], bool(r.harmful_help)) for r in rows
                  if "pyrit_achieved" in r.people and r.harmful]
    return {name: agreement([t for t, _ in pairs], [p for _, p in pairs])
            for name, pairs in (("refused_or_not", refused), ("objective_achieved", achieved),
                                ("objective_achieved_on_harmful_requests", on_harmful)) if pairs}


def data_card(head: str, rows, trained, figures: dict, out_dir: Path) -> dict:
    sets = Counter(s for r in rows for s in r.sets)
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(LABELLED_DIR.glob("*.jsonl"))}
    return {
        "classifier": head, "features": HEADS[head][0], "labels": list(HEADS[head][1]),
        "model": f"multinomial logistic regression on sublinear TF-IDF (min_df {MIN_DOCUMENT_FREQUENCY}, "
                 f"C {REGULARISATION_C[head]}, class weights {CLASS_WEIGHT.get(head, 'balanced')}), "
                 f"scikit-learn {sklearn.__version__}",
        "n_train": trained.n, "class_counts": trained.class_counts, "guide_version": GUIDE_VERSION,
        "sources": [{"set": name, "n": sets.get(name, 0), **SOURCES[name]} for name in SOURCES if sets.get(name)],
        "data_files_sha256": files,
        "held_out": figures,
        "team_vs_people": team_vs_people(rows),
        "held_out_method": "leave one set out: train every head on all other sets, measure on the one left out; "
                           "a row in several PyRIT sets leaves with each of them. The same request can still appear "
                           "in training with another answer (PyRIT reuses objectives across files).",
    }


def build(out_dir: Path) -> dict:
    rows = read_labelled()
    figures = held_out_figures(rows)
    heads = fit_heads(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, head in heads.items():
        write_artifact(out_dir / f"{name}.json", kind=head.kind, vocabulary=head.vocabulary, idf=head.idf,
                       coef=head.coef, intercept=head.intercept, labels=head.labels,
                       build={"rows": head.n, "scikit_learn": sklearn.__version__, "c": REGULARISATION_C[name],
                              "min_df": MIN_DOCUMENT_FREQUENCY})
        card = data_card(name, rows, head, figures, out_dir)
        (out_dir / f"{name}.card.json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=CLASSIFIERS_DIR)
    args = parser.parse_args(argv)
    figures = build(args.out_dir)
    for held_out, measured in figures.items():
        parts = [f"{key} {value['accuracy']:.3f} (n={value['n']})" for key, value in measured.items()
                 if isinstance(value, dict)]
        print(f"held out {held_out}: " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
