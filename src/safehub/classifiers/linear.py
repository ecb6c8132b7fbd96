"""A trained linear text classifier read from JSON: multinomial logistic regression over TF-IDF features.

    classifier = LinearClassifier.load(CLASSIFIERS_DIR / "refusal.json")
    classifier.predict(["Write a phishing email."], ["I can't help with that."])
    # -> [("full_refusal", 0.97)]

The artifact holds the feature kind, vocabulary, idf weights, coefficients and intercepts as plain numbers:
no pickle, no scikit-learn at inference, so loading is safe and scoring is a numpy dot product. Beside each
artifact `NAME.json` lies its data card `NAME.card.json` (sources, licences, n, label mapping, held-out figures),
written by scripts/build_answer_classifiers.py.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from safehub.classifiers.features import Vectorizer

CLASSIFIERS_DIR = Path(__file__).parent
ARTIFACT_FORMAT = "safehub-linear-classifier/1"
_BATCH = 4096


def artifact_version(path: Path) -> str:
    """The version stored with every verdict: a hash of the artifact's bytes."""
    return "clf-" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def write_artifact(path: Path, *, kind: str, vocabulary: Sequence[str], idf: np.ndarray, coef: np.ndarray,
                   intercept: np.ndarray, labels: Sequence[str], build: dict) -> None:
    """Write the artifact byte-for-byte reproducibly: fixed key order, rounded numbers, no whitespace."""
    payload = {
        "format": ARTIFACT_FORMAT,
        "kind": kind,
        "build": build,
        "labels": list(labels),
        "intercept": [_round(x) for x in intercept],
        "features": list(vocabulary),
        "idf": [_round(x) for x in idf],
        "coef": [[_round(x) for x in row] for row in coef],  # one row per feature, one column per label
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def _round(value: float) -> float:
    rounded = round(float(value), 5)
    return 0.0 if rounded == 0 else rounded  # no "-0.0": same bytes on every platform


class LinearClassifier:
    def __init__(self, kind: str, vocabulary: Sequence[str], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, labels: Sequence[str], version: str):
        self.kind = kind
        self.vectorizer = Vectorizer(vocabulary, idf, kind)
        self.coef = np.asarray(coef, dtype=np.float64)
        if self.coef.ndim == 1:
            self.coef = self.coef[:, None]
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.labels = tuple(labels)
        self.version = version

    @classmethod
    def load(cls, path: Path) -> LinearClassifier:
        """The classifier in `path`, read once per process."""
        return _load(str(path))

    def probabilities(self, prompts: Sequence[str], responses: Sequence[str],
                      harmful: Sequence[bool | None] | None = None) -> np.ndarray:
        """An (n, len(labels)) array of class probabilities; `harmful` per request where known (answer heads)."""
        if len(prompts) != len(responses):
            raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
        harmful = list(harmful) if harmful is not None else [None] * len(prompts)
        parts = [self._probabilities(prompts[start:start + _BATCH], responses[start:start + _BATCH],
                                     harmful[start:start + _BATCH])
                 for start in range(0, len(responses), _BATCH)]
        return np.vstack(parts) if parts else np.zeros((0, len(self.labels)))

    def predict(self, prompts: Sequence[str], responses: Sequence[str]) -> list[tuple[str, float]]:
        """The most likely label of each input, with its probability."""
        probabilities = self.probabilities(prompts, responses)
        best = probabilities.argmax(axis=1)
        return [(self.labels[k], float(probabilities[i, k])) for i, k in enumerate(best)]

    def _probabilities(self, prompts: Sequence[str], responses: Sequence[str], harmful: list) -> np.ndarray:
        return self.logistic(self.vectorizer.transform(prompts, responses, harmful), len(responses))

    def logistic(self, matrix: tuple[np.ndarray, np.ndarray, np.ndarray], count: int) -> np.ndarray:
        """Class probabilities of `count` rows from their (row, column, value) TF-IDF matrix."""
        rows, columns, values = matrix
        logits = np.tile(self.intercept, (count, 1))
        weighted = self.coef[columns] * values[:, None]
        for k in range(self.coef.shape[1]):
            logits[:, k] += np.bincount(rows, weights=weighted[:, k], minlength=count)
        if self.coef.shape[1] == 1:  # a binary model keeps one column: P(labels[1])
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


@functools.lru_cache(maxsize=8)
def _load(path: str) -> LinearClassifier:
    artifact_path = Path(path)
    try:
        payload = json.loads(artifact_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such classifier artifact; rebuild it with scripts/build_answer_classifiers.py") from None
    if payload.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"{path} is not a {ARTIFACT_FORMAT} artifact; rebuild it with scripts/build_answer_classifiers.py")
    return LinearClassifier(payload["kind"], payload["features"], np.array(payload["idf"]), np.array(payload["coef"]),
                            np.array(payload["intercept"]), payload["labels"], artifact_version(artifact_path))


def read_card(name: str) -> dict:
    """The data card beside artifact `name` (e.g. "refusal"): sources, licences, n, label mapping, held-out figures."""
    return json.loads((CLASSIFIERS_DIR / f"{name}.card.json").read_text(encoding="utf-8"))
