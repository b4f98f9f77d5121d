"""Layers: affine forward and backward, ReLU backward, softmax cross-entropy, dropout, and an
embedding's backward pass."""

from __future__ import annotations

import numpy as np

from drill.engine import Tensor, cross_entropy, relu
from drill.exercises.code.spec import Case, CodeExercise, Slip
from drill.exercises.code.support import forward, gradients, normal, size, task, uniform

# -- affine forward --------------------------------------------------------------------------


def _affine(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    return x.reshape(x.shape[0], -1) @ W + b


def _affine_forward_cases(rng: np.random.Generator) -> list[Case]:
    n, m = size(rng, 2, 4), size(rng, 2, 5)
    c, h = size(rng, 1, 3), size(rng, 2, 3)
    d_square = size(rng, 2, 4)
    shapes = [
        ("x of shape (N, D)", (n, size(rng, 2, 5)), m),
        ("images x of shape (N, C, H, W)", (n, c, h, h), m),
        ("sequences x of shape (N, T, d)", (n, 2, size(rng, 2, 3)), m),
        ("square W (D = M)", (n, d_square), d_square),
        ("a batch of one", (1, c, h, 2), m),
    ]
    cases = []
    for label, x_shape, out in shapes:
        x = normal(rng, *x_shape)
        W = normal(rng, int(np.prod(x_shape[1:])), out)
        b = normal(rng, out)
        cases.append(Case(label, (x, W, b), forward(_affine, x=x, W=W, b=b), batch=x_shape[0]))
    return cases


AFFINE_FORWARD = CodeExercise(
    name="affine-forward",
    title="Affine layer, forward",
    function="affine_forward",
    arguments=("x", "W", "b"),
    outputs=("out",),
    task=task(
        """
Implement `affine_forward(x, W, b)`, the forward pass of a fully connected layer.

`x` has shape (N, d₁, …, dₖ): N examples, each flattened in row-major (C) order to a
row of D = d₁⋯dₖ entries, as `x.reshape(N, -1)` does. `W` has shape (D, M) and `b`
shape (M,). Return `out = x_flat @ W + b`, of shape (N, M).
"""
    ),
    stub='''import numpy as np


def affine_forward(x, W, b):
    """out = x @ W + b, with each example of x flattened to a row of D entries.

    x: (N, d_1, ..., d_k), W: (D, M) with D = d_1 * ... * d_k, b: (M,)
    returns: out of shape (N, M)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def affine_forward(x, W, b):
    """out = x @ W + b, with each example of x flattened to a row of D entries."""
    return x.reshape(x.shape[0], -1) @ W + b
''',
    cases=_affine_forward_cases,
    slips=(
        Slip("forgot to add the bias b.", output=lambda x, W, b: x.reshape(x.shape[0], -1) @ W),
        Slip(
            "used Wᵀ: W has shape (D, M) and out = x @ W + b.",
            output=lambda x, W, b: x.reshape(x.shape[0], -1) @ W.T + b,
        ),
        Slip(
            "flattened x in column-major order: use x.reshape(N, -1), row-major.",
            output=lambda x, W, b: x.reshape(x.shape[0], -1, order="F") @ W + b,
        ),
    ),
)

# -- affine backward -------------------------------------------------------------------------


def _affine_backward_cases(rng: np.random.Generator) -> list[Case]:
    square = size(rng, 2, 4)
    shapes = [
        ("random (N, D) → (N, M)", size(rng, 2, 5), size(rng, 2, 5), size(rng, 2, 5)),
        ("square W (D = M)", size(rng, 2, 4), square, square),
        ("a batch of one", 1, size(rng, 2, 4), size(rng, 2, 4)),
        ("N = D = M", square, square, square),
        ("wide layer (D < M)", size(rng, 2, 4), 2, size(rng, 4, 6)),
    ]
    cases = []
    for label, n, d, m in shapes:
        x, W, b, dout = normal(rng, n, d), normal(rng, d, m), normal(rng, m), normal(rng, n, m)
        _, grads = gradients(lambda x, W, b: x @ W + b, {"x": x, "W": W, "b": b}, dout)
        expected = (grads["x"], grads["W"], grads["b"])
        cases.append(Case(label, (dout, x, W, b), expected, batch=n))
    return cases


AFFINE_BACKWARD = CodeExercise(
    name="affine-backward",
    title="Affine layer, backward",
    function="affine_backward",
    arguments=("dout", "x", "W", "b"),
    outputs=("dx", "dW", "db"),
    task=task(
        """
Implement `affine_backward(dout, x, W, b)`, returning `(dx, dW, db)`: the backward pass
of `out = x @ W + b`.

`x` has shape (N, D), `W` shape (D, M), `b` shape (M,), and `dout` = ∂L/∂out has shape
(N, M). Return ∂L/∂x (N, D), ∂L/∂W (D, M) and ∂L/∂b (M,), each of its input's shape.
"""
    ),
    stub='''import numpy as np


def affine_backward(dout, x, W, b):
    """Gradients of out = x @ W + b, given dout = dL/dout.

    dout: (N, M), x: (N, D), W: (D, M), b: (M,)
    returns: (dx, dW, db) of shapes (N, D), (D, M), (M,)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def affine_backward(dout, x, W, b):
    """Gradients of out = x @ W + b, given dout = dL/dout."""
    dx = dout @ W.T  # (N, M) @ (M, D)
    dW = x.T @ dout  # (D, N) @ (N, M)
    db = dout.sum(axis=0)  # b is added to every example: sum over the batch
    return dx, dW, db
''',
    cases=_affine_backward_cases,
    slips=(
        Slip(
            "db is the sum of dout over the batch, not its mean: b is added to every row.",
            output=lambda dout, x, W, b: (None, None, dout.mean(axis=0)),
        ),
        Slip(
            "dW is transposed: dW = xᵀ @ dout has W's shape (D, M).",
            output=lambda dout, x, W, b: (None, dout.T @ x, None),
        ),
        Slip(
            "dx = dout @ Wᵀ: multiplied by W instead of its transpose.",
            output=lambda dout, x, W, b: (dout @ W, None, None),
        ),
    ),
)

# -- ReLU backward -------------------------------------------------------------------------


def _relu_backward_cases(rng: np.random.Generator) -> list[Case]:
    n, d = size(rng, 2, 5), size(rng, 3, 6)
    zeros = normal(rng, n, d)
    zeros[rng.random((n, d)) < 0.4] = 0.0
    zeros[0, 0] = 0.0
    inputs = [
        ("random x (N, D)", normal(rng, n, d)),
        ("exact zeros in x", zeros),
        ("all negative", -np.abs(normal(rng, n, d)) - 0.1),
        ("4-D activations (N, C, H, W)", normal(rng, 2, 2, 3, 3)),
        ("a batch of one", normal(rng, 1, d)),
    ]
    cases = []
    for label, x in inputs:
        dout = normal(rng, *x.shape)
        _, grads = gradients(lambda x: relu(x), {"x": x}, dout, check=False)  # kinks at 0
        cases.append(Case(label, (dout, x), grads["x"]))
    return cases


RELU_BACKWARD = CodeExercise(
    name="relu-backward",
    title="ReLU, backward",
    function="relu_backward",
    arguments=("dout", "x"),
    outputs=("dx",),
    task=task(
        """
Implement `relu_backward(dout, x)`: the gradient ∂L/∂x of `relu(x) = max(x, 0)`, given
`dout` = ∂L/∂relu(x). `x` and `dout` have the same shape (any shape).

The derivative of ReLU is 1 where x > 0 and 0 elsewhere, **0 at x = 0 exactly** (the
convention of NumPy code and of the major frameworks).
"""
    ),
    stub='''import numpy as np


def relu_backward(dout, x):
    """dL/dx for relu(x) = max(x, 0), given dout = dL/drelu(x); 0 where x == 0.

    dout, x: float64 arrays of one shape
    returns: dx of x's shape
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def relu_backward(dout, x):
    """dL/dx for relu(x) = max(x, 0), given dout = dL/drelu(x); 0 where x == 0."""
    return dout * (x > 0)
''',
    cases=_relu_backward_cases,
    slips=(
        Slip(
            "passed the gradient where x == 0: ReLU's derivative is taken as 0 there (x > 0).",
            output=lambda dout, x: dout * (x >= 0),
        ),
        Slip(
            "returned the mask without multiplying by dout: dx = dout ⊙ (x > 0).",
            output=lambda dout, x: (x > 0).astype(np.float64),
        ),
        Slip(
            "masked by the sign of dout: the mask is x > 0, the layer's input.",
            output=lambda dout, x: dout * (dout > 0),
        ),
    ),
)

# -- softmax cross-entropy -----------------------------------------------------------------


def _ce_cases(rng: np.random.Generator) -> list[Case]:
    n, c = size(rng, 2, 5), size(rng, 3, 6)
    inputs = [
        ("random logits (N, C)", normal(rng, n, c, scale=2), rng.integers(0, c, n)),
        ("large logits (±1000)", np.round(uniform(rng, -1000, 1000, n, c)), rng.integers(0, c, n)),
        ("a batch of one", normal(rng, 1, c, scale=2), rng.integers(0, c, 1)),
        ("ties: every logit equal", np.zeros((n, c)), rng.integers(0, c, n)),
        ("every label the same class", normal(rng, n, c, scale=2), np.full(n, c - 1)),
        ("two classes", normal(rng, n, 2, scale=2), rng.integers(0, 2, n)),
    ]
    cases = []
    for label, logits, labels in inputs:
        one_hot = np.eye(logits.shape[1])[labels]
        loss, grads = gradients(lambda z, y=one_hot: cross_entropy(z, y) / len(y), {"z": logits})
        cases.append(Case(label, (logits, labels), (loss, grads["z"]), batch=len(labels)))
    return cases


def _probabilities(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _naive_ce_loss(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


def _one_hot(logits, labels):
    return np.eye(logits.shape[1])[labels]


SOFTMAX_CROSS_ENTROPY = CodeExercise(
    name="softmax-cross-entropy",
    title="Softmax cross-entropy, loss and gradient",
    function="softmax_cross_entropy",
    arguments=("logits", "labels"),
    outputs=("loss", "dlogits"),
    task=task(
        """
Implement `softmax_cross_entropy(logits, labels)`, returning `(loss, dlogits)`.

`logits` has shape (N, C); `labels` has shape (N,) and holds integer classes in
0 … C−1 (an int64 array). The loss is the **mean over the batch** of
−log softmax(logits[i])[labels[i]], a number; `dlogits` = ∂loss/∂logits has shape (N, C).

Logits of ±1000 must give a finite, exact loss and gradient.
"""
    ),
    stub='''import numpy as np


def softmax_cross_entropy(logits, labels):
    """Mean softmax cross-entropy over the batch, and its gradient.

    logits: (N, C) float64; labels: (N,) int64 classes in 0..C-1
    returns: (loss, dlogits): loss a number, dlogits of shape (N, C)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def softmax_cross_entropy(logits, labels):
    """Mean softmax cross-entropy over the batch, and its gradient."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -np.mean(log_probs[rows, labels])
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    return loss, dlogits / n
''',
    cases=_ce_cases,
    slips=(
        Slip(
            "no max-subtraction: exp(1000) overflows and the loss is nan or inf. Subtract "
            "each row's max from the logits first (it does not change the softmax).",
            output=lambda logits, labels: (_naive_ce_loss(logits, labels), None),
        ),
        Slip(
            "dlogits is missing the 1/N of the mean over the batch: "
            "dlogits = (softmax(logits) − one_hot(labels)) / N.",
            output=lambda logits, labels: (
                None,
                _probabilities(logits) - _one_hot(logits, labels),
            ),
        ),
        Slip(
            "dlogits has no one-hot term: dlogits = (softmax(logits) − one_hot(labels)) / N.",
            output=lambda logits, labels: (None, _probabilities(logits) / len(labels)),
        ),
        Slip(
            "dlogits has the wrong sign: it is (softmax − one_hot) / N, "
            "not (one_hot − softmax) / N.",
            output=lambda logits, labels: (
                None,
                (_one_hot(logits, labels) - _probabilities(logits)) / len(labels),
            ),
        ),
    ),
)

# -- dropout ---------------------------------------------------------------------------------


def _dropout_cases(rng: np.random.Generator) -> list[Case]:
    n, d = size(rng, 2, 5), size(rng, 3, 6)
    settings = [
        ("training, p = 0.5", (n, d), 0.5, True),
        ("training, p = 0.2, 4-D x", (2, 2, 3, 3), 0.2, True),
        ("evaluation (train=False)", (n, d), 0.5, False),
        ("training, p = 0: nothing dropped", (n, d), 0.0, True),
        ("training, p = 0.9", (n, d), 0.9, True),
        ("a batch of one", (1, d), 0.3, True),
    ]
    cases = []
    for label, shape, p, train in settings:
        x, u = normal(rng, *shape), rng.random(shape)
        u[np.isclose(u, p)] = min(p + 0.05, 0.999)  # no u on the edge of the rule
        keep = (u >= p).astype(np.float64)
        expected = forward(lambda x, p=p, keep=keep: x * keep / (1 - p), x=x) if train else x
        cases.append(Case(label, (x, p, u, train), expected))
    return cases


DROPOUT = CodeExercise(
    name="dropout",
    title="Inverted dropout",
    function="dropout_forward",
    arguments=("x", "p", "u", "train"),
    outputs=("out",),
    task=task(
        """
Implement `dropout_forward(x, p, u, train)`: **inverted** dropout.

`p` is the probability of **dropping** a unit (0 ≤ p < 1). The randomness is given:
`u` has `x`'s shape and holds uniform draws in [0, 1); a unit is kept when `u ≥ p`.

- Training (`train` is True): `out = x · keep / (1 − p)`, with keep = 1 where u ≥ p
  and 0 elsewhere, so the expected value of `out` is `x`.
- Evaluation (`train` is False): `out = x`, unchanged.
"""
    ),
    stub='''import numpy as np


def dropout_forward(x, p, u, train):
    """Inverted dropout: drop each unit with probability p (kept where u >= p).

    x: float64 array, any shape; p: float, drop probability in [0, 1)
    u: uniform draws of x's shape; train: bool
    returns: out of x's shape
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def dropout_forward(x, p, u, train):
    """Inverted dropout: drop each unit with probability p (kept where u >= p)."""
    if not train:
        return x  # inverted dropout scales at training time, so evaluation needs nothing
    keep = u >= p
    return x * keep / (1 - p)
''',
    cases=_dropout_cases,
    slips=(
        Slip(
            "forgot to divide by 1 − p: inverted dropout rescales the kept units while "
            "training, so that evaluation needs no change.",
            output=lambda x, p, u, train: x * (u >= p) if train else x,
        ),
        Slip(
            "divided by p: the probability of keeping a unit is 1 − p.",
            output=lambda x, p, u, train: x * (u >= p) / p if train else x,
        ),
        Slip(
            "kept the units where u < p: p is the probability of dropping.",
            output=lambda x, p, u, train: x * (u < p) / (1 - p) if train else x,
        ),
        Slip(
            "dropped units at evaluation: with train=False return x unchanged.",
            output=lambda x, p, u, train: x * (u >= p) / (1 - p),
        ),
        Slip(
            "scaled x at evaluation: inverted dropout returns x unchanged with train=False.",
            output=lambda x, p, u, train: x * (1 - p) if not train else None,
        ),
    ),
)

# -- embedding backward ----------------------------------------------------------------------


def _embedding_cases(rng: np.random.Generator) -> list[Case]:
    vocab, dim = size(rng, 5, 9), size(rng, 2, 4)
    n, t = size(rng, 2, 3), size(rng, 3, 5)
    inputs = [
        ("random ids, some repeated", rng.integers(0, vocab, (n, t))),
        ("one id everywhere", np.full((n, t), int(rng.integers(vocab)))),
        ("every id at most once", rng.permutation(vocab)[: min(vocab, 4)].reshape(1, -1)),
        ("a batch of one", rng.integers(0, 3, (1, t))),
        ("ids 0 and V − 1", np.array([[0, vocab - 1, 0], [vocab - 1, vocab - 1, 0]])),
    ]
    cases = []
    for label, ids in inputs:
        dout = normal(rng, *ids.shape, dim)
        table = np.zeros((vocab, dim))
        _, grads = gradients(lambda table, ids=ids: table[ids], {"table": table}, dout)
        cases.append(Case(label, (dout, ids, vocab), grads["table"]))
    return cases


def _duplicates_overwritten(case: Case, received) -> bool:
    """The rows that differ are exactly (some of) those whose id occurs more than once."""
    ids = case.args[1]
    got = np.asarray(received, dtype=np.float64)
    if got.shape != case.expected.shape:
        return False
    ids_seen, counts = np.unique(ids, return_counts=True)
    repeated = set(ids_seen[counts > 1].tolist())
    differing = {int(row) for row in np.nonzero(~np.isclose(got, case.expected).all(axis=1))[0]}
    return bool(differing) and differing <= repeated


EMBEDDING_BACKWARD = CodeExercise(
    name="embedding-backward",
    title="Embedding, backward",
    function="embedding_backward",
    arguments=("dout", "ids", "vocab_size"),
    outputs=("dW",),
    task=task(
        """
Implement `embedding_backward(dout, ids, vocab_size)`: the gradient of an embedding
table W of shape (V, D), V = `vocab_size`, whose forward pass is `out = W[ids]`.

`ids` has shape (N, T) and holds integer token ids in 0 … V−1 (an int64 array); `dout`
= ∂L/∂out has shape (N, T, D). Return ∂L/∂W, of shape (V, D). An id that occurs
several times collects the gradient of every occurrence; rows of ids that never occur
are 0.
"""
    ),
    stub='''import numpy as np


def embedding_backward(dout, ids, vocab_size):
    """dL/dW for out = W[ids], W of shape (vocab_size, D).

    dout: (N, T, D) float64; ids: (N, T) int64 in 0..vocab_size-1; vocab_size: int
    returns: dW of shape (vocab_size, D)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def embedding_backward(dout, ids, vocab_size):
    """dL/dW for out = W[ids], W of shape (vocab_size, D)."""
    dW = np.zeros((vocab_size, dout.shape[-1]))
    # dW[ids] += dout would keep one occurrence of a repeated id; add.at adds them all.
    np.add.at(dW, ids, dout)
    return dW
''',
    cases=_embedding_cases,
    slips=(
        Slip(
            "repeated ids overwrite each other: dW[ids] += dout keeps one occurrence per "
            "id. Use np.add.at(dW, ids, dout), which adds every occurrence.",
            matches=_duplicates_overwritten,
        ),
    ),
)

EXERCISES = [
    AFFINE_FORWARD,
    AFFINE_BACKWARD,
    RELU_BACKWARD,
    SOFTMAX_CROSS_ENTROPY,
    DROPOUT,
    EMBEDDING_BACKWARD,
]
