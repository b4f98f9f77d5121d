"""classification-metrics: precision, recall, F1, accuracy and specificity from a confusion
matrix, and ROC-AUC from scores.

From the counts TP, FP, FN, TN: precision = TP / (TP + FP), recall = TP / (TP + FN),
F1 = 2·P·R / (P + R) (the harmonic mean), accuracy = (TP + TN) / all, specificity =
TN / (TN + FP). ROC-AUC is the probability that a random positive scores above a random
negative: the share of (positive, negative) pairs ranked right, a tie counting ½.
By hand the counts are small; at calc the positives are rare, so accuracy flatters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.common import choose, fmt, pick
from drill.exercises.slips import telling_slips

METRICS = ("precision", "recall", "f1", "accuracy", "specificity", "auc")
PARAMS: dict[str, tuple[Any, ...]] = {"metric": METRICS}
# With thousands of true negatives, specificity and accuracy sit near 1, where 1% would
# also accept a neighbouring metric: at calc an answer must be within 0.1%.
CALC_TOLERANCE = Tolerance(rel=1e-3, abs=1e-4)

FORMULA = {
    "precision": "precision = TP / (TP + FP)",
    "recall": "recall = TP / (TP + FN)",
    "f1": "F1 = 2·P·R / (P + R), with P = TP / (TP + FP) and R = TP / (TP + FN)",
    "accuracy": "accuracy = (TP + TN) / (TP + FP + FN + TN)",
    "specificity": "specificity = TN / (TN + FP)",
    "auc": "ROC-AUC = the share of (positive, negative) pairs in which the positive scores "
    "higher; a tie counts ½",
}
NAME = {
    "precision": "precision",
    "recall": "recall",
    "f1": "F1 score",
    "accuracy": "accuracy",
    "specificity": "specificity",
}


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r)

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / (self.tp + self.fp + self.fn + self.tn)

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    metric = choose(rng, params, "metric", METRICS)
    if metric == "auc":
        return _auc(rng, difficulty, hand)
    tolerance = Tolerance() if hand else CALC_TOLERANCE
    counts = _draw_counts(rng, hand, metric)
    answer = getattr(counts, metric)
    return Exercise(
        generator="classification-metrics",
        seed=0,
        difficulty=difficulty,
        question=_counts_question(counts, metric),
        spec={"metric": metric, "formula": FORMULA[metric]},
        inputs={"tp": counts.tp, "fp": counts.fp, "fn": counts.fn, "tn": counts.tn},
        asked={"value": metric},
        answer=answer,
        tolerance=tolerance,
        solution=_counts_solution(counts, metric, answer),
        slips=telling_slips(_counts_slips(counts, metric), answer, tolerance),
    )


def _draw_counts(rng: np.random.Generator, hand: bool, metric: str) -> Counts:
    while True:
        if hand:
            tp, fp, fn = (int(v) for v in rng.integers(1, 11, size=3) * pick(rng, (1, 2, 5)))
            tn = int(rng.integers(1, 21)) * pick(rng, (1, 5))
        else:
            positives = int(rng.integers(20, 500))
            tp = int(rng.integers(1, positives))
            fn = positives - tp
            fp = int(rng.integers(1, 400))
            tn = int(rng.integers(500, 20_000))
        counts = Counts(tp, fp, fn, tn)
        if _telling(counts, metric):
            return counts


TELLING_SHARE = 0.03  # a classic confusion must move the answer by more than this share


def _telling(counts: Counts, metric: str) -> bool:
    """Precision and recall far enough apart that swapping them, or averaging them
    arithmetically for F1, gives a wrong answer the grader can see."""
    p, r = counts.precision, counts.recall
    if metric == "f1":
        return abs((p + r) / 2 - counts.f1) > TELLING_SHARE * counts.f1
    if metric in ("precision", "recall"):
        return abs(p - r) > TELLING_SHARE * max(p, r)
    return True


def _counts_question(counts: Counts, metric: str) -> str:
    return "\n".join(
        [
            "A binary classifier is evaluated on a labelled test set. Its confusion matrix counts:",
            f"  TP = {counts.tp} true positives (actually positive, predicted positive)",
            f"  FN = {counts.fn} false negatives (actually positive, predicted negative)",
            f"  FP = {counts.fp} false positives (actually negative, predicted positive)",
            f"  TN = {counts.tn} true negatives (actually negative, predicted negative)",
            f"Using {FORMULA[metric]}, what is its {NAME[metric]}?",
        ]
    )


def _counts_solution(counts: Counts, metric: str, answer: float) -> list[str]:
    tp, fp, fn, tn = counts.tp, counts.fp, counts.fn, counts.tn
    p_line = f"P = TP / (TP + FP) = {tp} / {tp + fp} = {fmt(counts.precision, 6)}"
    r_line = f"R = TP / (TP + FN) = {tp} / {tp + fn} = {fmt(counts.recall, 6)}"
    if metric == "precision":
        return [f"precision = TP / (TP + FP) = {tp} / ({tp} + {fp}) = {fmt(answer, 6)}."]
    if metric == "recall":
        return [f"recall = TP / (TP + FN) = {tp} / ({tp} + {fn}) = {fmt(answer, 6)}."]
    if metric == "f1":
        p, r = counts.precision, counts.recall
        return [
            p_line,
            r_line,
            f"F1 = 2·P·R / (P + R) = 2·{fmt(p, 6)}·{fmt(r, 6)} / ({fmt(p, 6)} + {fmt(r, 6)}) "
            f"= {fmt(answer, 6)}.",
        ]
    if metric == "accuracy":
        total = tp + fp + fn + tn
        return [f"accuracy = ({tp} + {tn}) / {total} = {tp + tn} / {total} = {fmt(answer, 6)}."]
    return [f"specificity = TN / (TN + FP) = {tn} / ({tn} + {fp}) = {fmt(answer, 6)}."]


def _counts_slips(counts: Counts, metric: str) -> dict[str, float]:
    p, r = counts.precision, counts.recall
    if metric == "precision":
        return {
            "recall given instead (FN in place of FP)": r,
            "accuracy given instead": (counts.accuracy),
        }
    if metric == "recall":
        return {
            "precision given instead (FP in place of FN)": p,
            "specificity given instead": (counts.specificity),
        }
    if metric == "f1":
        return {"arithmetic mean of P and R": (p + r) / 2, "P·R without the 2/(P + R)": p * r}
    if metric == "accuracy":
        return {
            "TP / all, true negatives left out": counts.tp
            / (counts.tp + counts.fp + counts.fn + counts.tn),
            "F1 given instead": counts.f1,
        }
    return {
        "false-positive rate FP / (FP + TN) given instead": 1 - counts.specificity,
        "recall given instead": r,
        "TN / (TN + FN), the negative predictive value": counts.tn / (counts.tn + counts.fn),
    }


# --- ROC-AUC -------------------------------------------------------------------------------


def pairwise_auc(labels: np.ndarray, scores: np.ndarray, tie: float = 0.5) -> float:
    """The share of (positive, negative) pairs the scores order right; a tie counts `tie`."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + tie * (diff == 0)).mean())


def _auc(rng: np.random.Generator, difficulty: Difficulty, hand: bool) -> Exercise:
    tolerance = Tolerance() if hand else CALC_TOLERANCE
    positives = pick(rng, (2, 3, 4)) if hand else int(rng.integers(5, 11))
    negatives = pick(rng, (2, 3, 4)) if hand else int(rng.integers(5, 11))
    labels = np.array([1] * positives + [0] * negatives)
    while True:
        if hand:
            scores = rng.choice(np.arange(1, 10), size=labels.size, replace=True) / 10
        else:
            scores = np.round(rng.uniform(0.0, 1.0, size=labels.size), 2)
        answer = pairwise_auc(labels, scores)
        if 0.0 < answer < 1.0 and answer != 0.5:
            break
    order = rng.permutation(labels.size)
    labels, scores = labels[order], scores[order]
    ties = bool(np.any(scores[labels == 1][:, None] == scores[labels == 0][None, :]))
    slips = {
        "1 − AUC: higher scores read as more negative": 1 - answer,
        "accuracy at threshold 0.5 instead": float(np.mean((scores >= 0.5) == (labels == 1))),
    }
    if ties:
        slips["ties counted as 0"] = pairwise_auc(labels, scores, tie=0.0)
        slips["ties counted as 1"] = pairwise_auc(labels, scores, tie=1.0)
    return Exercise(
        generator="classification-metrics",
        seed=0,
        difficulty=difficulty,
        question=_auc_question(labels, scores),
        spec={"metric": "auc", "formula": FORMULA["auc"], "positive_label": 1},
        inputs={"labels": labels.tolist(), "scores": scores.tolist()},
        asked={"value": "auc"},
        answer=answer,
        tolerance=tolerance,
        solution=_auc_solution(labels, scores, answer),
        slips=telling_slips(slips, answer, tolerance),
    )


def _auc_question(labels: np.ndarray, scores: np.ndarray) -> str:
    return "\n".join(
        [
            f"A binary classifier scores {labels.size} test examples; a higher score means "
            "more likely positive.",
            f"  labels = [{', '.join(str(int(v)) for v in labels)}]   (1 = positive)",
            f"  scores = [{', '.join(fmt(v) for v in scores)}]",
            f"What is its ROC-AUC? {FORMULA['auc'].replace('ROC-AUC = the', 'It is the')}.",
        ]
    )


def _auc_solution(labels: np.ndarray, scores: np.ndarray, answer: float) -> list[str]:
    pos, neg = scores[labels == 1], scores[labels == 0]
    lines = [
        f"Positive scores: {', '.join(fmt(v) for v in sorted(pos, reverse=True))}",
        f"Negative scores: {', '.join(fmt(v) for v in sorted(neg, reverse=True))}",
    ]
    wins = 0.0
    for p in sorted(pos, reverse=True):
        above = int(np.sum(p > neg))
        tied = int(np.sum(p == neg))
        wins += above + 0.5 * tied
        tie_text = f" and ties {tied} (½ each)" if tied else ""
        lines.append(f"  {fmt(p)} beats {above} of {neg.size} negatives{tie_text}")
    lines.append(f"AUC = {fmt(wins)} / ({pos.size}·{neg.size} pairs) = {fmt(answer, 6)}.")
    return lines
