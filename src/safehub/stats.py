"""Intervals for the metrics safehub shows. Pure functions of counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """A rate with its sample size and 95% interval."""

    name: str
    successes: float
    n: int
    low: float
    high: float

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "n": self.n, "low": self.low, "high": self.high}


def wilson_interval(successes: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927; Brown, Cai & DasGupta 2001).

    >>> [round(x, 3) for x in wilson_interval(8, 10)]
    [0.49, 0.943]
    """
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # Rounding can put the bound a hair inside p at 0 or 1; the interval always contains the estimate.
    return (min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def proportion(name: str, successes: float, n: int) -> Proportion:
    low, high = wilson_interval(successes, n)
    return Proportion(name, successes, n, low, high)


def goodness_at(safety_by_attack: dict[str, float], fraction: float = 0.1) -> float:
    """Mean safety over the worst `fraction` of attacks for one request (at least one attack).

    StrongREJECT (Souly et al., 2024) reports jailbreak robustness this way: a model is as safe as
    its worst techniques, not its average one. `safety_by_attack` maps attack -> mean safety in [0, 1].

    >>> goodness_at({"a": 1.0, "b": 0.0, "c": 1.0}, 0.1)
    0.0
    """
    if not safety_by_attack:
        raise ValueError("goodness_at needs at least one attack")
    worst = sorted(safety_by_attack.values())
    k = max(1, math.floor(fraction * len(worst)))
    return sum(worst[:k]) / k


def bootstrap_mean_interval(values: list[float], *, resamples: int = 2000, seed: int = 20251123,
                            level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean, resampling the given units (requests, not trials).

    Vectorised with numpy and seeded, so the same data always gives the same interval.
    """
    if not values:
        return (0.0, 1.0)
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail], method="inverted_cdf")
    return (float(low), float(high))


def rate_interval(values: list[float]) -> tuple[float, float]:
    """95% interval of a mean of per-unit rates in [0, 1]: the percentile bootstrap over units,
    widened to at least the Wilson interval of (sum, n).

    A percentile bootstrap alone collapses when every unit has the same value (thirty requests all
    refused give [1, 1]) and under-covers with few units; for values bounded in [0, 1] the Wilson
    interval of their sum is a conservative floor (their variance is at most that of 0/1 values).

    >>> [round(x, 3) for x in rate_interval([1.0] * 30)]
    [0.886, 1.0]
    """
    if not values:
        return (0.0, 1.0)
    boot_low, boot_high = bootstrap_mean_interval(values)
    wilson_low, wilson_high = wilson_interval(sum(values), len(values))
    return (min(boot_low, wilson_low), max(boot_high, wilson_high))


def goodness_metric(safety: dict[str, dict[str, float]], fraction: float = 0.1) -> dict:
    """goodness@fraction over requests: `safety` maps request -> attack -> mean safety."""
    per_request = [goodness_at(by_attack, fraction) for by_attack in safety.values() if by_attack]
    value = sum(per_request) / len(per_request) if per_request else None
    low, high = rate_interval(per_request)
    return {"name": f"goodness@{fraction:g}", "value": value, "n": len(per_request), "low": low, "high": high,
            "interval": "bootstrap over requests, at least Wilson"}


def difference_interval(successes_a: float, n_a: int, successes_b: float, n_b: int) -> tuple[float, float, float]:
    """p_a - p_b with Newcombe's hybrid Wilson interval (Newcombe 1998, method 10)."""
    return mover_difference(successes_a / n_a, wilson_interval(successes_a, n_a),
                            successes_b / n_b, wilson_interval(successes_b, n_b))


def mover_difference(value_a: float, interval_a: tuple[float, float], value_b: float,
                     interval_b: tuple[float, float]) -> tuple[float, float, float]:
    """a - b with a 95% interval recovered from each estimate's own 95% interval, clipped to [-1, 1].

    The MOVER construction (Zou & Donner 2008): Newcombe's hybrid interval is the case where both are
    Wilson intervals of proportions; for means of probabilities pass each mean's rate_interval.

    >>> [round(x, 3) for x in mover_difference(0.8, wilson_interval(8, 10), 0.2, wilson_interval(2, 10))]
    [0.6, 0.162, 0.803]
    """
    (low_a, high_a), (low_b, high_b) = interval_a, interval_b
    difference = value_a - value_b
    low = difference - math.sqrt((value_a - low_a) ** 2 + (high_b - value_b) ** 2)
    high = difference + math.sqrt((high_a - value_a) ** 2 + (value_b - low_b) ** 2)
    return difference, max(-1.0, low), min(1.0, high)


def consistency_metrics(verdicts_by_request: dict[str, list[float]]) -> list[dict]:
    """Prompt sensitivity over requests asked in several phrasings (verdict 1.0 safe, 0.0 not).

    consistency: the share of requests whose phrasings all got the same verdict (Wilson interval over
    requests). flip_rate: the share of phrasings whose verdict differs from their request's majority
    verdict (ties count against the safe side), with a bootstrap interval over requests.
    """
    requests = [verdicts for verdicts in verdicts_by_request.values() if len(verdicts) >= 2]
    if not requests:
        return []
    consistent = sum(len(set(verdicts)) == 1 for verdicts in requests)
    flips_per_request = []
    for verdicts in requests:
        safe = sum(v >= 0.5 for v in verdicts)
        majority_is_safe = safe > len(verdicts) - safe
        flips_per_request.append(sum((v >= 0.5) != majority_is_safe for v in verdicts) / len(verdicts))
    flip_rate = sum(flips_per_request) / len(flips_per_request)
    low, high = rate_interval(flips_per_request)
    return [proportion("consistency", consistent, len(requests)).as_dict(),
            {"name": "flip_rate", "value": flip_rate, "n": len(requests), "low": low, "high": high,
             "interval": "bootstrap over requests, at least Wilson"}]


def paired_difference(pairs: list[tuple[float, float]], *, resamples: int = 4000,
                      seed: int = 20251123) -> dict:
    """Mean of (b - a) over shared samples, a bootstrap 95% interval and a two-sided sign-flip p-value.

    Pairing on the same samples removes the between-sample variance two independent rates would
    carry, so smaller real differences show up. The p-value is an exact-in-the-limit permutation
    test: under "no difference" each pair's sign is a coin flip.

    >>> paired_difference([(0.0, 1.0)] * 10)["value"]
    1.0
    """
    n = len(pairs)
    if n == 0:
        return {"value": None, "low": None, "high": None, "p_value": None, "n": 0}
    differences = [b - a for a, b in pairs]
    observed = sum(differences) / n
    low, high = bootstrap_mean_interval(differences, resamples=resamples, seed=seed)
    signs = np.random.default_rng(seed + 1).choice((-1.0, 1.0), size=(resamples, n))
    flipped = np.abs((signs * np.asarray(differences, dtype=float)).mean(axis=1))
    extreme = int((flipped >= abs(observed) - 1e-12).sum())
    p_value = (extreme + 1) / (resamples + 1)
    return {"value": observed, "low": min(low, observed), "high": max(high, observed), "p_value": p_value, "n": n}


def is_rankable(low_a: float, high_a: float, low_b: float, high_b: float) -> bool:
    """False when two intervals overlap: the data cannot tell which of the two is higher."""
    return high_a < low_b or high_b < low_a


def clustered_rate(name: str, cluster_means: list[float], n_trials: int) -> dict:
    """A rate over trials that come in clusters (epochs of one sample, attacks on one request).

    Each cluster is first reduced to its mean (so ten epochs of one sample weigh as one sample),
    then the rate is the mean over clusters with a percentile bootstrap over clusters: treating
    the trials of one sample as independent would make the interval falsely narrow.
    """
    n = len(cluster_means)
    value = sum(cluster_means) / n if n else None
    low, high = rate_interval(cluster_means)
    if value is not None:
        low, high = min(low, value), max(high, value)
    return {"name": name, "value": value, "n": n, "n_trials": n_trials, "low": low, "high": high,
            "interval": "cluster bootstrap over samples, at least Wilson"}


def corrected_rate(observed: float, sensitivity: float, specificity: float) -> float | None:
    """The true rate of positives given an imperfect judge (Rogan & Gladen 1978).

    observed = sens * true + (1 - spec) * (1 - true)  =>  true = (observed + spec - 1) / (sens + spec - 1),
    clipped to [0, 1]; None when the judge is no better than chance (sens + spec <= 1).
    """
    informedness = sensitivity + specificity - 1
    if informedness <= 0:
        return None
    return min(1.0, max(0.0, (observed + specificity - 1) / informedness))


def agreement(truth: list, predicted: list, *, classes: tuple | None = None) -> dict:
    """How a grader's verdicts agree with labels: accuracy, Cohen's kappa, the confusion matrix, n, 95% intervals.

    Binary labels (True = the positive class, e.g. "refused" or "gave harmful help") also get sensitivity
    (positives found) and specificity (negatives kept), each with a Wilson interval — the two numbers a
    Rogan-Gladen correction of a rate needs. kappa's interval is the large-sample one, (po - pe) / (1 - pe) ± z·se
    with se = sqrt(po (1 - po) / (n (1 - pe)²)) (Cohen 1960).

    >>> agreement([True, False, True], [True, False, False])["accuracy"]
    0.6666666666666666
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labels but {len(predicted)} verdicts")
    n = len(truth)
    is_binary = classes is None
    classes = (True, False) if is_binary else tuple(classes)
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)  # rows: truth, columns: verdict
    for t, p in zip(truth, predicted):
        matrix[index[t], index[p]] += 1
    hits = int(np.trace(matrix))
    po = hits / n if n else float("nan")
    pe = float((matrix.sum(axis=1) * matrix.sum(axis=0)).sum()) / (n * n) if n else float("nan")
    if n and pe < 1:
        kappa = (po - pe) / (1 - pe)
        spread = Z_95 * math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
        kappa_interval = (max(-1.0, kappa - spread), min(1.0, kappa + spread))
    else:
        kappa, kappa_interval = float("nan"), (float("nan"), float("nan"))
    low, high = wilson_interval(hits, n) if n else (float("nan"), float("nan"))
    result = {"n": n, "accuracy": po, "accuracy_interval": [low, high], "kappa": kappa,
              "kappa_interval": list(kappa_interval), "classes": [str(c).lower() for c in classes],
              "confusion": matrix.tolist()}
    if is_binary:
        positives, negatives = int(matrix[0].sum()), int(matrix[1].sum())
        result["sensitivity"] = matrix[0, 0] / positives if positives else float("nan")
        result["sensitivity_interval"] = list(wilson_interval(int(matrix[0, 0]), positives)) if positives else [float("nan")] * 2
        result["specificity"] = matrix[1, 1] / negatives if negatives else float("nan")
        result["specificity_interval"] = list(wilson_interval(int(matrix[1, 1]), negatives)) if negatives else [float("nan")] * 2
        result["sensitivity"] = float(result["sensitivity"])
        result["specificity"] = float(result["specificity"])
    return result


def corrected_rate_bootstrap(positives: float, n: int, confusion: list[list[int]], *, resamples: int = 2000,
                             seed: int = 20261207, level: float = 0.95) -> dict:
    """A rate of positives corrected for a grader's measured error (Rogan & Gladen 1978), with a 95% interval.

    `positives` of `n` verdicts were positive; `confusion` is the grader's binary confusion matrix on a labelled
    set, [[TP, FN], [FP, TN]] (rows: truth positive/negative, columns: verdict positive/negative). The value is
    corrected_rate(positives / n, sensitivity, specificity). The interval is a parametric bootstrap that carries
    both uncertainties: each draw takes the observed rate from Binomial(n, rate) / n, the sensitivity from
    Binomial(TP + FN, sensitivity) / (TP + FN) and the specificity from Binomial(TN + FP, specificity) / (TN + FP),
    corrects (clipped to [0, 1]) and the interval is the 2.5th and 97.5th percentiles of the corrected draws,
    widened to at least the observed rate's Wilson interval put through the same correction (at a rate of 0 or 1
    every binomial draw is the same and the bootstrap alone would give a point).
    Draws whose sensitivity + specificity <= 1 cannot be corrected: they are dropped and counted in `dropped`.
    `is_clipped` says the estimate itself fell outside [0, 1] (the run's rate is one the measured grader could not
    produce: the labelled set and the run differ). A measurement with few labelled answers gives a wide interval,
    whatever the run's n.

    >>> result = corrected_rate_bootstrap(30, 100, [[90, 10], [20, 80]])
    >>> round(result["value"], 4), result["low"] <= result["value"] <= result["high"]
    (0.1429, True)
    """
    (tp, fn), (fp, tn) = ((int(a), int(b)) for a, b in confusion)
    truth_positives, truth_negatives = tp + fn, fp + tn
    if n <= 0 or truth_positives == 0 or truth_negatives == 0:
        return {"value": None, "low": None, "high": None, "dropped": 0, "resamples": 0,
                "sensitivity": None, "specificity": None, "is_clipped": False}
    observed = positives / n
    sensitivity, specificity = tp / truth_positives, tn / truth_negatives
    value = corrected_rate(observed, sensitivity, specificity)
    informed = sensitivity + specificity - 1
    # An observed rate outside [1 - spec, sens] is one the measured grader could not have produced from any true
    # rate: the labelled set and the run differ. The estimate is then clipped to 0 or 1; say so.
    is_clipped = informed > 0 and not 0.0 <= (observed + specificity - 1) / informed <= 1.0
    rng = np.random.default_rng(seed)
    rates = rng.binomial(n, min(1.0, max(0.0, observed)), size=resamples) / n
    sensitivities = rng.binomial(truth_positives, sensitivity, size=resamples) / truth_positives
    specificities = rng.binomial(truth_negatives, specificity, size=resamples) / truth_negatives
    informedness = sensitivities + specificities - 1
    usable = informedness > 0
    dropped = int(resamples - usable.sum())
    low = high = None
    if usable.any():
        corrected = np.clip((rates[usable] + specificities[usable] - 1) / informedness[usable], 0.0, 1.0)
        tail = (1 - level) / 2
        low, high = (float(x) for x in np.quantile(corrected, [tail, 1 - tail]))
    if value is not None:
        # A binomial draw from a rate of 0 or 1 is always 0 or 1: at the edges the bootstrap alone collapses to a
        # point. As rate_interval does, the interval is at least the observed rate's Wilson interval corrected with
        # the measured sensitivity and specificity (and always contains the estimate).
        wilson_low, wilson_high = (corrected_rate(bound, sensitivity, specificity)
                                   for bound in wilson_interval(positives, n))
        low = min(x for x in (low, wilson_low, value) if x is not None)
        high = max(x for x in (high, wilson_high, value) if x is not None)
    return {"value": value, "low": low, "high": high, "dropped": dropped, "resamples": resamples,
            "sensitivity": sensitivity, "specificity": specificity, "is_clipped": is_clipped}


def median_interval(values: list[float]) -> dict:
    """The median of `values` with a distribution-free 95% interval from order statistics (the binomial method,
    e.g. Conover, "Practical Nonparametric Statistics", 3rd ed., 3.2): ranks r and n + 1 - r, with r the largest
    whose coverage 1 - 2 P(Binomial(n, 1/2) <= r - 1) is still at least 95%. Below six values no pair of ranks
    reaches 95%, and the interval is the whole range.

    >>> interval = median_interval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    >>> interval["value"], interval["low"], interval["high"]
    (5.5, 2.0, 9.0)
    """
    ordered = sorted(float(v) for v in values)
    n = len(ordered)
    if n == 0:
        return {"value": None, "low": None, "high": None, "n": 0}
    cdf = np.cumsum([math.comb(n, k) for k in range(n + 1)]) / 2.0 ** n
    rank = 0  # 1-based; 0: no pair of ranks covers 95%
    for candidate in range(1, n // 2 + 1):
        if 1.0 - 2.0 * cdf[candidate - 1] < 0.95:
            break
        rank = candidate
    low, high = (ordered[rank - 1], ordered[n - rank]) if rank else (ordered[0], ordered[-1])
    return {"value": float(np.median(ordered)), "low": low, "high": high, "n": n}
