"""initial-loss: the loss a freshly initialized classifier should report.

With small random weights every logit is close to 0. Softmax over C equal logits is
uniform, so cross-entropy starts at ln C; a sigmoid at 0 is ½, so each binary
cross-entropy term starts at ln 2. A first loss far from these values is the classic
sign of a bug. The value comes from the engine's own loss evaluated on zero logits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from drill.engine import Tensor, bce, cross_entropy, log_softmax
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    ASKED_LOSS,
    choose,
    distinct_slips,
    fmt,
    one_hot,
    pick,
    useful_values,
)

PARAMS = {"loss": ("cross_entropy", "bce")}

HAND_CLASSES = (2, 4, 8, 10, 100, 1000)
HAND_LABELS = (1, 2, 3, 4, 8)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    loss = choose(rng, params, "loss", ("cross_entropy", "bce"))
    hand = difficulty is Difficulty.HAND
    if loss == "cross_entropy":
        return _cross_entropy(rng, hand, difficulty)
    return _binary(rng, hand, difficulty)


def _cross_entropy(rng: np.random.Generator, hand: bool, difficulty: Difficulty) -> Exercise:
    classes = pick(rng, HAND_CLASSES) if hand else int(rng.integers(3, 1001))
    target = int(rng.integers(classes))
    logits = Tensor(np.zeros(classes), "z")
    log_p = log_softmax(logits).named("log softmax(z)")
    value = cross_entropy(logits, one_hot(classes, target)).item()
    question = (
        f"A classifier over C = {classes} classes has just been initialized with small random "
        "weights, so all its logits z are close to 0; take them as exactly 0. Its loss is the "
        "cross-entropy from logits, L = −Σ_i y_i log softmax(z)_i, with y the one-hot target "
        f"(here class {target}, counting from 0). What loss does it report for this example?"
    )
    solution = [
        f"softmax of {classes} equal logits is uniform: each probability is 1/{classes}",
        f"log softmax(z)_{target} = ln(1/{classes}) = {fmt(log_p.value[target], 6)}",
        f"L = −ln(1/C) = ln {classes} = {fmt(value, 6)}",
    ]
    slips = {
        "log base 10 used": math.log10(classes),
        "log base 2 used": math.log2(classes),
        "the probability 1/C given instead of the loss": 1 / classes,
    }
    return _exercise(
        difficulty,
        question + (f"\n{_log_hint(classes)}" if hand else ""),
        {"loss": "cross_entropy", "classes": classes},
        {"z": np.zeros(classes).tolist(), "y": one_hot(classes, target).tolist()},
        value,
        solution,
        slips,
    )


def _binary(rng: np.random.Generator, hand: bool, difficulty: Difficulty) -> Exercise:
    labels = pick(rng, HAND_LABELS) if hand else int(rng.integers(2, 41))
    targets = (rng.random(labels) < 0.5).astype(np.float64)
    value = bce(np.zeros(labels), targets).item()
    what = (
        "A binary classifier has one sigmoid output."
        if labels == 1
        else f"A multi-label classifier predicts {labels} independent binary labels, one "
        "sigmoid output each."
    )
    question = (
        f"{what} Just after "
        "initialization all its logits z are close to 0; take them as exactly 0. Its loss is "
        "binary cross-entropy from logits, summed over the labels: "
        "L = −Σ_i [y_i log σ(z_i) + (1 − y_i) log(1 − σ(z_i))], "
        f"with targets y = {_fmt_targets(targets)}. What loss does it report for this example?"
    )
    solution = [
        "σ(0) = 1/2, so every term is −log(1/2) = ln 2, whatever its target",
        f"L = {labels}·ln 2 = {fmt(value, 6)}",
    ]
    slips = {
        "ln 2 not multiplied by the number of labels": math.log(2),
        "log base 10 used": labels * math.log10(2),
        "the probability ½ given instead of the loss": 0.5,
    }
    return _exercise(
        difficulty,
        question + (f"\n{_log_hint(2)}" if hand else ""),
        {"loss": "bce", "labels": labels, "reduction": "sum"},
        {"z": np.zeros(labels).tolist(), "y": targets.tolist()},
        value,
        solution,
        slips,
    )


def _log_hint(n: int) -> str:
    """The one logarithm a person needs for ln n: by hand n is a power of 2 or of 10."""
    base = 2 if n & (n - 1) == 0 else 10
    return useful_values([(f"ln {base}", float(np.log(base)))])


def _fmt_targets(targets: np.ndarray) -> str:
    return "[" + ", ".join(str(int(t)) for t in targets) + "]"


def _exercise(
    difficulty: Difficulty,
    question: str,
    spec: dict[str, Any],
    inputs: dict[str, Any],
    value: float,
    solution: list[str],
    slips: dict[str, float],
) -> Exercise:
    return Exercise(
        generator="initial-loss",
        seed=0,
        difficulty=difficulty,
        question=question,
        spec=spec,
        inputs=inputs,
        asked=dict(ASKED_LOSS),
        answer=value,
        solution=solution,
        slips=distinct_slips(slips, value),
    )
