"""Binary detection metrics, as the build script, the tests and the bench report them.

    binary_metrics([1, 0, 1, 0], [True, False, False, False])
    # -> {"n": 4, "accuracy": 0.75, "precision": 1.0, "recall": 0.5, "fpr": 0.0, "positives": 2, "negatives": 2}

`fpr` is the false-positive rate on the benign (label 0) rows: the share of legitimate prompts or
answers a screen would block at its default operating point.
"""

from __future__ import annotations

from collections.abc import Sequence


def binary_metrics(truth: Sequence[int], flagged: Sequence[bool]) -> dict:
    pairs = list(zip((bool(t) for t in truth), (bool(f) for f in flagged)))
    true_positive = sum(t and f for t, f in pairs)
    false_positive = sum(f and not t for t, f in pairs)
    positives = sum(t for t, _ in pairs)
    negatives = len(pairs) - positives
    correct = sum(t == f for t, f in pairs)
    return {"n": len(pairs),
            "accuracy": round(correct / len(pairs), 4) if pairs else float("nan"),
            "precision": round(true_positive / (true_positive + false_positive), 4) if true_positive + false_positive else 1.0,
            "recall": round(true_positive / positives, 4) if positives else float("nan"),
            "fpr": round(false_positive / negatives, 4) if negatives else float("nan"),
            "positives": positives, "negatives": negatives}
