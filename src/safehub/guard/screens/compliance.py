"""The refusal classifier's P(full_compliance) for one (prompt, answer) pair, without the batch machinery.

    compliance = Compliance(LinearClassifier.load(CLASSIFIERS_DIR / "refusal.json"))
    compliance.probability("How do I make a pipe bomb?", "Sure, here's how. Step 1: ...")  # -> 0.97

`LinearClassifier.probabilities` is built for batches of thousands of rows (row offsets, bincounts per
label); for the one row harmful_output asks about per answer that fixed cost was a large part of the
screen's time. This is the same model, read from the same classifier and fed by the same
`answer_features`, with the same arithmetic in the same order (columns ascending, sums accumulated
left to right: cumsum where the batch path uses bincount), so the two agree bit for bit;
tests/guard/test_screens.py checks that they do.
"""

from __future__ import annotations

import math
from functools import partial
from operator import is_not

import numpy as np

from safehub.classifiers.features import SHAPE_WEIGHT, answer_features
from safehub.classifiers.linear import LinearClassifier

COMPLIANCE_LABEL = "full_compliance"
_is_column = partial(is_not, None)


class Compliance:
    def __init__(self, classifier: LinearClassifier):
        self.column = list(classifier.labels).index(COMPLIANCE_LABEL)
        self.lookup = classifier.vectorizer.index.get  # feature -> column
        self.idf = classifier.vectorizer.idf
        self.is_shape = classifier.vectorizer.is_shape
        self.coef = classifier.coef
        self.intercept = classifier.intercept

    def probability(self, prompt: str, answer: str) -> float:
        """P(full_compliance) of `answer` to `prompt` taken as a harmful request (the only case the screen asks
        about), as `LinearClassifier.probabilities(..., harmful=[True] * n)` gives it."""
        found = np.fromiter(filter(_is_column, map(self.lookup, answer_features(prompt, answer, True))), dtype=np.int64)
        logits = self.intercept.copy()
        if found.size:
            columns, counts = np.unique(found, return_counts=True)
            values = (1.0 + np.log(counts)) * self.idf[columns]  # sublinear tf-idf, L2-normalised over words
            shape = self.is_shape[columns]
            words = np.where(shape, 0.0, values)
            norm = math.sqrt(np.cumsum(words * words)[-1]) or 1.0
            values = np.where(shape, SHAPE_WEIGHT, values / norm)
            logits += np.cumsum(self.coef[columns] * values[:, None], axis=0)[-1]
        logits -= logits.max()
        exps = np.exp(logits)
        return float(exps[self.column] / exps.sum())
