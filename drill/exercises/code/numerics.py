"""Numerics: a softmax, a log-sum-exp and a binary cross-entropy that survive logits of ±1000."""

from __future__ import annotations

import numpy as np

from drill.engine import Tensor, bce, exp, log, softmax
from drill.exercises.code.spec import Case, CodeExercise, Slip
from drill.exercises.code.support import forward, gradients, normal, size, task, uniform

# -- softmax ---------------------------------------------------------------------------------


def _softmax_cases(rng: np.random.Generator) -> list[Case]:
    n, c = size(rng, 2, 5), size(rng, 3, 7)
    far = np.stack([uniform(rng, 990, 1000, c), uniform(rng, -1000, -990, c)])
    inputs = [
        ("random logits (N, C)", normal(rng, n, c, scale=3)),
        ("one vector (C,)", normal(rng, c, scale=3)),
        ("3-D scores (B, T, C)", normal(rng, 2, size(rng, 2, 4), c, scale=3)),
        ("large logits (±1000)", np.round(uniform(rng, -1000, 1000, n, c))),
        ("rows far apart (one near +1000, one near −1000)", far),
        ("ties: every logit equal", np.full((n, c), float(np.round(uniform(rng, -5, 5), 1)))),
        ("a batch of one (1, C)", normal(rng, 1, c, scale=3)),
    ]
    return [
        Case(label, (z,), forward(lambda z: softmax(z, axis=-1), z=z), batch=None)
        for label, z in inputs
    ]


def _naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _global_max_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)


def _first_axis_softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


SOFTMAX = CodeExercise(
    name="softmax",
    title="Stable softmax",
    function="softmax",
    arguments=("z",),
    outputs=("softmax(z)",),
    task=task(
        """
Implement `softmax(z)`: the softmax over the **last axis** of an array `z` of any shape
(a vector (C,), a batch of logits (N, C), scores (B, T, C), …):

    softmax(z)[..., j] = exp(z[..., j]) / Σₖ exp(z[..., k])

Return an array of `z`'s shape whose slices along the last axis each sum to 1. It must
not overflow: entries of ±1000 must give the right probabilities, not nan.
"""
    ),
    stub='''import numpy as np


def softmax(z):
    """Softmax over the last axis of z, stable for entries of ±1000.

    z: float64 array of shape (..., C)
    returns: float64 array of z's shape; each slice along the last axis sums to 1
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def softmax(z):
    """Softmax over the last axis of z, stable for entries of ±1000."""
    # softmax(z) = softmax(z - c) for any c; with c the row's max, exp never overflows.
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)
''',
    cases=_softmax_cases,
    slips=(
        Slip(
            "no max-subtraction: exp(1000) overflows to inf, and inf/inf is nan. Subtract "
            "each row's max before exp: softmax(z) = softmax(z − max z).",
            output=_naive_softmax,
        ),
        Slip(
            "subtracted the max of the whole array: a row far below it underflows to 0/0. "
            "Subtract each row's own max (axis=-1, keepdims=True).",
            output=_global_max_softmax,
        ),
        Slip(
            "normalised over the first axis: the softmax is over the last axis (axis=-1), "
            "so that each row sums to 1.",
            output=_first_axis_softmax,
        ),
    ),
)

# -- log-sum-exp -----------------------------------------------------------------------------


def _logsumexp_engine(z: Tensor) -> Tensor:
    top = np.max(z.value, axis=-1, keepdims=True)  # a constant shift: the value is unchanged
    return log(exp(z - top).sum(axis=-1)) + top[..., 0]


def _logsumexp_cases(rng: np.random.Generator) -> list[Case]:
    n, c = size(rng, 2, 5), size(rng, 3, 7)
    inputs = [
        ("random (N, C)", normal(rng, n, c, scale=3)),
        ("one vector (C,): a number back", normal(rng, c, scale=3)),
        ("large logits (up to +1000)", np.round(uniform(rng, 900, 1000, n, c))),
        ("very negative logits (down to −1000)", np.round(uniform(rng, -1000, -900, n, c))),
        ("3-D (B, T, C)", normal(rng, 2, size(rng, 2, 3), c, scale=3)),
        ("a batch of one (1, C)", normal(rng, 1, c, scale=3)),
    ]
    return [Case(label, (z,), forward(_logsumexp_engine, z=z)) for label, z in inputs]


LOGSUMEXP = CodeExercise(
    name="logsumexp",
    title="Log-sum-exp",
    function="logsumexp",
    arguments=("z",),
    outputs=("logsumexp(z)",),
    task=task(
        """
Implement `logsumexp(z)` = log Σⱼ exp(z[..., j]), over the **last axis** of `z` (any
shape). The result has shape `z.shape[:-1]`: an array (N,) for z of shape (N, C), and a
number (a 0-d value such as `np.float64`) for a vector.

It must be exact for large and for very negative entries: logits of +1000 must not
overflow to inf, and logits of −1000 must not underflow to log(0) = −inf.
"""
    ),
    stub='''import numpy as np


def logsumexp(z):
    """log(sum(exp(z))) over the last axis, without overflow or underflow.

    z: float64 array of shape (..., C)
    returns: float64 array of shape z.shape[:-1] (a number for a vector)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def logsumexp(z):
    """log(sum(exp(z))) over the last axis, without overflow or underflow."""
    top = np.max(z, axis=-1, keepdims=True)
    total = np.sum(np.exp(z - top), axis=-1)  # the largest term is exp(0) = 1
    return np.log(total) + top[..., 0]
''',
    cases=_logsumexp_cases,
    slips=(
        Slip(
            "no max-subtraction: exp overflows to inf for +1000 and every term underflows "
            "to 0 for −1000 (log 0 = −inf). Use m + log Σ exp(z − m), m the max.",
            output=lambda z: np.log(np.exp(z).sum(axis=-1)),
        ),
        Slip(
            "forgot to add the max back: logsumexp(z) = m + log Σ exp(z − m).",
            output=lambda z: np.log(np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1)),
        ),
    ),
)

# -- binary cross-entropy from logits -----------------------------------------------------


def _bce_cases(rng: np.random.Generator) -> list[Case]:
    n, k = size(rng, 3, 6), size(rng, 2, 4)
    large = np.array([1000.0, -1000.0, 1000.0, -1000.0, 35.0, -35.0])
    inputs = [
        ("random logits (N,), labels 0/1", normal(rng, n, scale=2), rng.integers(0, 2, n)),
        ("soft targets (N, K)", normal(rng, n, k, scale=2), uniform(rng, 0, 1, n, k)),
        ("large logits (±1000), right and wrong", large, np.array([1, 0, 0, 1, 0, 1])),
        ("a batch of one (1,)", normal(rng, 1, scale=2), rng.integers(0, 2, 1)),
        ("zero logits", np.zeros(n), rng.integers(0, 2, n)),
    ]
    cases = []
    for label, z, y in inputs:
        y = np.asarray(y, dtype=np.float64)
        loss, grads = gradients(lambda z, y=y: bce(z, y) / y.size, {"z": z})
        cases.append(Case(label, (z, y), (loss, grads["z"]), batch=y.size))
    return cases


def _bce_naive_loss(z, y):
    p = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def _sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


BCE_WITH_LOGITS = CodeExercise(
    name="bce-with-logits",
    title="Binary cross-entropy from logits",
    function="bce_with_logits",
    arguments=("logits", "targets"),
    outputs=("loss", "dlogits"),
    task=task(
        """
Implement `bce_with_logits(logits, targets)`, returning `(loss, dlogits)`.

`logits` z and `targets` y have the same shape (any shape; n entries in all); each target
is in [0, 1] (0/1 labels or soft targets). With σ the sigmoid:

    loss    = (1/n) Σ −[y log σ(z) + (1 − y) log(1 − σ(z))]     (a number: the mean)
    dlogits = ∂loss/∂z = (σ(z) − y) / n                          (z's shape)

Both must be finite and exact for logits of ±1000: the loss of a logit of −1000 with
target 1 is 1000/n, not inf.
"""
    ),
    stub='''import numpy as np


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of sigmoid(logits) against targets, and its gradient.

    logits: float64 array, any shape (n entries)
    targets: float64 array of the same shape, entries in [0, 1]
    returns: (loss, dlogits): loss a number, dlogits of logits' shape
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of sigmoid(logits) against targets, and its gradient."""
    n = logits.size
    # -[y log s + (1 - y) log(1 - s)] = max(z, 0) - y z + log(1 + exp(-|z|)): no overflow.
    losses = np.maximum(logits, 0) - targets * logits + np.log1p(np.exp(-np.abs(logits)))
    e = np.exp(-np.abs(logits))
    sigmoid = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))
    return np.sum(losses) / n, (sigmoid - targets) / n
''',
    cases=_bce_cases,
    slips=(
        Slip(
            "log(σ(z)) is log 0 = −inf once σ rounds to 0 or 1 (z = ±1000): compute the loss "
            "as max(z, 0) − y z + log(1 + exp(−|z|)).",
            output=lambda z, y: (_bce_naive_loss(z, y), None),
        ),
        Slip(
            "dlogits is missing the 1/n of the mean: dlogits = (σ(z) − y) / n.",
            output=lambda z, y: (None, _sigmoid(z) - y),
        ),
        Slip(
            "dlogits has the wrong sign: ∂loss/∂z = (σ(z) − y) / n.",
            output=lambda z, y: (None, (y - _sigmoid(z)) / y.size),
        ),
        Slip(
            "summed the loss: it is the mean over the n entries.",
            output=lambda z, y: (np.sum(np.logaddexp(0, z) - y * z), None),
        ),
    ),
)

EXERCISES = [SOFTMAX, LOGSUMEXP, BCE_WITH_LOGITS]
