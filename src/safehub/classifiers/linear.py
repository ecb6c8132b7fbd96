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
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from safehub.classifiers.features import SHAPE_WEIGHT, Vectorizer

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
        self._binary: tuple[list, list, list] | None = None

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
        if len(responses) == 1:
            return self.probabilities_of_features(self.vectorizer.features(prompts[0], responses[0], harmful[0]))
        return self.logistic(self.vectorizer.transform(prompts, responses, harmful), len(responses))

    def probabilities_of_features(self, features: list[str]) -> np.ndarray:
        """A (1, len(labels)) array of class probabilities for one input's features. A binary head takes a plain
        Python path: for the guard's one conversation at a time, numpy's per-call overhead costs more than the
        arithmetic (the result is the batch path's to within float rounding)."""
        if self.coef.shape[1] != 1:
            return self.logistic(self.vectorizer.transform_features([features]), 1)
        if self._binary is None:
            self._binary = self._binary_weights()
        weight, square_idf, shape_weight = self._binary
        found = [column for column in map(self.vectorizer.index.get, features) if column is not None]
        counts = Counter(found)
        columns = list(counts)
        # Each distinct column counted once (a feature's TF-IDF value is its idf when it occurs once) ...
        dot = sum(map(weight.__getitem__, columns))
        square = sum(map(square_idf.__getitem__, columns))
        if len(columns) < len(found):  # ... then sublinear TF for the few that repeat: (1 + ln count) x idf
            for column, count in counts.items():
                if count > 1:
                    boost = 1.0 + math.log(count)
                    dot += (boost - 1.0) * weight[column]
                    square += (boost * boost - 1.0) * square_idf[column]
        logit = float(self.intercept[0]) + sum(map(shape_weight.__getitem__, columns)) + (
            dot / math.sqrt(square) if square else 0.0)
        positive = 1.0 / (1.0 + math.exp(-logit)) if logit >= 0 else math.exp(logit) / (1.0 + math.exp(logit))
        return np.array([[1.0 - positive, positive]])

    def _binary_weights(self) -> tuple[list[float], list[float], list[float]]:
        """Per column: coef x idf and idf squared for word features, SHAPE_WEIGHT x coef for shape tokens."""
        coef, idf, is_shape = self.coef[:, 0], self.vectorizer.idf, self.vectorizer.is_shape
        return (np.where(is_shape, 0.0, coef * idf).tolist(), np.where(is_shape, 0.0, idf * idf).tolist(),
                np.where(is_shape, SHAPE_WEIGHT * coef, 0.0).tolist())

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
