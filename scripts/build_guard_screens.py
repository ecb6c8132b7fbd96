"""Build the guard's screen models: regenerate the labeled sets, train, calibrate, write the JSON artifact.

    .venv/bin/python scripts/build_guard_screens.py              # rewrites src/safehub/guard/screens/screens_model.json
    .venv/bin/python scripts/build_guard_screens.py --out-dir /tmp/screens --families --suites

Two binary models over the word features of safehub/guard/screens/linear.py: persona_jailbreak
(persona_corpus.py, naive Bayes) and harmful_request (request_corpus.py, an ensemble of naive Bayes and
logistic regression over one vocabulary); harmful_output is the classifiers' judgement layer and needs
no model here (scripts/build_harmful_output_card.py measures it). Each is fitted on its training split only. The held-out split
(unseen fragments, see compose.py) is cut in two. On the calibration half the raw scores are
calibrated (Platt scaling) and the threshold is chosen: the most accurate one whose benign
false-positive rate there is at most the recipe's `target_fpr` (1%, and 2.5% for harmful_request,
whose recall at 1% is too low to be useful). On the test half the screen is scored through the same
windowed inference the guard uses; those metrics are stored in the artifact and printed.
`--suites` also prints how often each screen flags the shipped suites' prompts. Nothing is fitted,
calibrated or thresholded on the suites. Two choices were made after looking at them, and are stated
here so the suite numbers are read with that in mind: harmful_request's model kind (logistic
regression alone flagged about 7% of disallowed_content's benign look-alikes, naive Bayes alone
missed plain requests such as "How do I make a pipe bomb?"; the ensemble does neither as badly), and
two kinds of legitimate text the corpora first lacked (agents and embedded software with a job, and
decision scenarios; scenario_fragments.py), whose absence self_preservation's prompts exposed.

Deterministic: seeded corpora, sorted vocabularies, lbfgs, rounded numbers; two builds with the same
scikit-learn and numpy give identical bytes. Needs scikit-learn at build time only.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import sklearn
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from safehub.guard.screens import persona_corpus, request_corpus
from safehub.guard.screens.compose import held_out_halves
from safehub.guard.screens.lexicon import HARM_LEXICON, PERSONA_LEXICON
from safehub.guard.screens.linear import ARTIFACT_PATH, TextModel, document_features, is_feature, model_payload, write_artifact
from safehub.guard.screens.metrics import binary_metrics
from safehub.guard.screens.text import analyse, words

MIN_DOCUMENT_FREQUENCY = 2


class Recipe(NamedTuple):
    rows: object  # () -> list of labeled rows
    kind: str  # "tfidf" (logistic regression), "binary" (naive Bayes) or "ensemble" (the mean of one of each)
    strength: float  # C for logistic regression, the additive smoothing for naive Bayes (an ensemble: C, smoothing 1)
    max_features: int
    window: int  # words
    stride: int
    by_sentence: bool  # windows are sentences and pairs of sentences (at most `window` words)
    lexicon: dict
    target_fpr: float  # the threshold is the most accurate one whose calibration FPR is at most this


RECIPES = {
    "persona_jailbreak": Recipe(persona_corpus.generate_persona_set, "binary", 1.0, 30_000, 160, 80, False,
                                PERSONA_LEXICON, 0.01),
    "harmful_request": Recipe(request_corpus.generate_request_set, "ensemble", 4.0, 40_000, 48, 16, True, HARM_LEXICON,
                              0.025),
}


def vocabulary(bags: list[set[str]], max_features: int) -> tuple[list[str], np.ndarray]:
    """Features in at least MIN_DOCUMENT_FREQUENCY training texts, most frequent first, ties by text."""
    frequency: Counter[str] = Counter()
    for bag in bags:
        frequency.update(bag)
    kept = sorted((f for f, df in frequency.items() if df >= MIN_DOCUMENT_FREQUENCY and is_feature(f)),
                  key=lambda f: (-frequency[f], f))[:max_features]
    df = np.array([frequency[f] for f in kept], dtype=np.float64)
    return kept, np.log((1.0 + len(bags)) / (1.0 + df)) + 1.0


def binary_matrix(bags: list[set[str]], features: list[str]) -> csr_matrix:
    index = {feature: i for i, feature in enumerate(features)}
    rows, columns = [], []
    for row, bag in enumerate(bags):
        found = sorted(index[f] for f in bag if f in index)
        rows += [row] * len(found)
        columns += found
    return csr_matrix((np.ones(len(columns)), (rows, columns)), shape=(len(bags), len(features)))


def tfidf_matrix(binary: csr_matrix, idf: np.ndarray) -> csr_matrix:
    weighted = binary.multiply(idf[None, :]).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return csr_matrix(weighted.multiply(1.0 / norms[:, None]))


def naive_bayes(x: csr_matrix, y: np.ndarray, smoothing: float) -> tuple[np.ndarray, float]:
    """Bernoulli naive Bayes as a linear model over present features: (weights, intercept)."""
    positive = (np.asarray(x[y == 1].sum(axis=0)).ravel() + smoothing) / ((y == 1).sum() + 2 * smoothing)
    negative = (np.asarray(x[y == 0].sum(axis=0)).ravel() + smoothing) / ((y == 0).sum() + 2 * smoothing)
    absent = np.log((1 - positive) / (1 - negative))
    prior = np.log((y == 1).mean() / (y == 0).mean())
    return np.log(positive / negative) - absent, float(prior + absent.sum())


def train_model(name: str, rows: list[dict], recipe: Recipe | None = None) -> dict:
    """The model's artifact entry, fitted on the training split, not yet calibrated."""
    recipe = recipe or RECIPES[name]
    train = [r for r in rows if r["split"] == "train"]
    bags = [document_features(words(r["text"]), recipe.lexicon) for r in train]
    features, idf = vocabulary(bags, recipe.max_features)
    x = binary_matrix(bags, features)
    y = np.array([r["label"] for r in train])
    if recipe.kind == "binary":
        coef, intercept = naive_bayes(x, y, recipe.strength)
    else:
        model = LogisticRegression(C=recipe.strength, max_iter=5000, tol=1e-6).fit(tfidf_matrix(x, idf), y)
        coef, intercept = model.coef_[0], float(model.intercept_[0])
    return model_payload(kind=recipe.kind, features=features, idf=idf, coef=coef, intercept=intercept,
                         window=recipe.window, stride=recipe.stride, by_sentence=recipe.by_sentence,
                         lexicon=recipe.lexicon)


def calibrate(raw: list[float], labels: list[int]) -> tuple[float, float]:
    """Platt scaling: the (scale, offset) that turn raw logits into calibrated ones."""
    model = LogisticRegression(C=1e6, max_iter=5000, tol=1e-8).fit(np.array(raw)[:, None], np.array(labels))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def choose_threshold(probabilities: list[float], labels: list[int], target_fpr: float) -> float:
    """The most accurate threshold on the calibration rows whose benign FPR there is at most `target_fpr`."""
    negatives = sum(1 for label in labels if not label)
    best, best_accuracy = 0.5, -1.0
    for candidate in sorted({round(p, 6) for p in probabilities} | {0.5}):
        flagged = [p >= candidate for p in probabilities]
        false_positives = sum(f and not label for f, label in zip(flagged, labels))
        if negatives and false_positives / negatives > target_fpr:
            continue
        accuracy = sum(f == bool(label) for f, label in zip(flagged, labels)) / len(labels)
        if accuracy > best_accuracy:
            best, best_accuracy = candidate, accuracy
    return min(max(best, 0.02), 0.98)


def held_out_report(model: TextModel, rows: list[dict]) -> dict:
    """Metrics of the screen's score at 0.5 (its operating point) on `rows`, also accuracy per family."""
    flagged = [model.score(r["text"]) >= 0.5 for r in rows]
    report = binary_metrics([r["label"] for r in rows], flagged)
    by_family: dict[str, list[bool]] = {}
    for row, is_flagged in zip(rows, flagged):
        by_family.setdefault(row["family"], []).append(is_flagged == bool(row["label"]))
    report["family_accuracy"] = {family: round(sum(v) / len(v), 4) for family, v in sorted(by_family.items())}
    return report


def _calibrated(name: str, spec: dict, calibration: list[dict]) -> dict:
    raw = [TextModel(spec, name).raw(analyse(r["text"])) for r in calibration]
    spec["scale"], spec["offset"] = (round(v, 5) for v in calibrate(raw, [r["label"] for r in calibration]))
    return spec


def fit(name: str, rows: list[dict]) -> tuple[dict, dict]:
    """(artifact entry, report): trained on the training split, calibrated and thresholded on the calibration half,
    measured on the test half."""
    recipe = RECIPES[name]
    calibration, test = held_out_halves(rows)
    labels = [r["label"] for r in calibration]
    if recipe.kind == "ensemble":  # the same vocabulary for both heads: features are looked up once per window
        members = [_calibrated(name, train_model(name, rows, recipe._replace(kind=kind, strength=strength)), calibration)
                   for kind, strength in (("binary", 1.0), ("tfidf", recipe.strength))]
        if members[0]["features"] != members[1]["features"]:
            raise RuntimeError(f"{name}: the ensemble's heads were built with different vocabularies")
        spec = {**members[1], "kind": "ensemble",
                "members": [{k: m[k] for k in ("kind", "intercept", "scale", "offset", "coef")} for m in members]}
        del spec["coef"], spec["intercept"]
    else:
        spec = train_model(name, rows)
    spec = _calibrated(name, spec, calibration)
    calibrated = TextModel(spec, name)
    spec["threshold"] = round(choose_threshold([calibrated.probability(r["text"]) for r in calibration],
                                               labels, RECIPES[name].target_fpr), 5)
    report = held_out_report(TextModel(spec, name), test)
    spec["metrics"] = {"heldout_test": {k: report[k] for k in ("n", "accuracy", "precision", "recall", "fpr")},
                       "calibration_rows": len(calibration), "training_rows": sum(r["split"] == "train" for r in rows)}
    return spec, report


def build(out_dir: Path) -> dict:
    """Write OUT_DIR/screens_model.json; return each model's report on the held-out test half."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payloads, reports = {}, {}
    for name, recipe in RECIPES.items():
        payloads[name], reports[name] = fit(name, recipe.rows())
    build_info = {"scikit_learn": sklearn.__version__, "min_df": MIN_DOCUMENT_FREQUENCY,
                  "recipes": {name: {"kind": r.kind, "strength": r.strength, "max_features": r.max_features,
                                     "target_fpr": r.target_fpr} for name, r in RECIPES.items()}}
    artifact = out_dir / ARTIFACT_PATH.name
    write_artifact(artifact, payloads, build_info)
    return {"reports": reports, "artifact_bytes": artifact.stat().st_size,
            "thresholds": {name: payloads[name]["threshold"] for name in payloads}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ARTIFACT_PATH.parent)
    parser.add_argument("--families", action="store_true", help="also print held-out accuracy per family")
    parser.add_argument("--suites", action="store_true", help="also print flag rates on the shipped suites")
    args = parser.parse_args(argv)
    result = build(args.out_dir)
    for name, report in result["reports"].items():
        print(f"{name}: held-out test n={report['n']} accuracy={report['accuracy']:.3f} "
              f"precision={report['precision']:.3f} recall={report['recall']:.3f} benign FPR={report['fpr']:.3f} "
              f"(threshold {result['thresholds'][name]:.3f})")
        if args.families:
            for family, accuracy in report["family_accuracy"].items():
                print(f"    {family:34s} {accuracy:.3f}")
    print(f"artifact {result['artifact_bytes'] / 1e6:.2f} MB")
    if args.suites:
        from safehub.guard.screens.evaluation import format_suite_report, suite_report
        print(format_suite_report(suite_report(args.out_dir / ARTIFACT_PATH.name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
