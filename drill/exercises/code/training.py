"""Training utilities: a numerical gradient for gradient checks, one logistic-regression
step, and one k-means step."""

from __future__ import annotations

import numpy as np

from drill.engine import Tensor, bce, exp, log, sin, tanh
from drill.exercises.base import Tolerance
from drill.exercises.code.spec import Case, CodeExercise, Function, Slip
from drill.exercises.code.support import gradients, normal, size, task

# -- numerical gradient --------------------------------------------------------------------

# Each function: its NumPy source (what the submission calls), the same formula in the
# engine (for the exact gradient), and a label for reports.
_FUNCTIONS = [
    (
        "def f(x):\n    return np.sum(np.sin(x) * A) + 0.5 * np.sum(x ** 2)\n",
        lambda x, A: (sin(x) * A).sum() + 0.5 * (x**2).sum(),
        "f(x) = Σ sin(x) ⊙ A + ½ Σ x²",
    ),
    (
        "def f(x):\n    z = x.reshape(-1) @ B\n    return np.log(np.sum(np.exp(z)))\n",
        lambda x, B: log(exp(x.reshape(-1) @ B).sum()),
        "f(x) = log Σ exp(vec(x) B)",
    ),
    (
        "def f(x):\n    return np.sum(np.tanh(x @ C)) + np.sum(x) ** 2 / 10\n",
        lambda x, C: tanh(x @ C).sum() + x.sum() ** 2 / 10,
        "f(x) = Σ tanh(x C) + (Σ x)² / 10",
    ),
]


def _numerical_gradient_cases(rng: np.random.Generator) -> list[Case]:
    n, m = size(rng, 2, 4), size(rng, 2, 3)
    plans = [  # label, which function, shape of x
        ("f(x) = Σ sin(x) ⊙ A + ½ Σ x², x a vector", 0, (size(rng, 3, 6),)),
        ("f(x) = Σ sin(x) ⊙ A + ½ Σ x², x a matrix", 0, (n, m)),
        ("f(x) = log Σ exp(vec(x) B), x a matrix", 1, (n, m)),
        ("f(x) = Σ tanh(x C) + (Σ x)² / 10", 2, (n, m)),
        ("one entry", 0, (1,)),
    ]
    cases = []
    for label, which, shape in plans:
        source, engine_fn, formula = _FUNCTIONS[which]
        x = normal(rng, *shape)
        name = "ABC"[which]
        if which == 0:
            extra = normal(rng, *shape)
        elif which == 1:
            extra = normal(rng, x.size, 3)
        else:
            extra = normal(rng, shape[-1], 2)
        function = Function(source, {name: extra}, label=formula)
        _, grads = gradients(
            lambda x, fn=engine_fn, extra=extra: fn(x, Tensor(extra)), {"x": x}, None
        )
        cases.append(Case(label, (function, x, 1e-5), grads["x"]))
    return cases


def _one_sided(f, x, h):
    x = x.copy()
    grad = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - base) / h
        x[i] = old
    return grad


def _central(f, x, h, divide=2.0, restore=True):
    x = x.copy()
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        if restore:
            x[i] = old
        grad[i] = (plus - minus) / (divide * h)
    return grad


NUMERICAL_GRADIENT = CodeExercise(
    name="numerical-gradient",
    title="Numerical gradient by central differences",
    function="numerical_gradient",
    arguments=("f", "x", "h"),
    outputs=("grad",),
    task=task(
        """
Implement `numerical_gradient(f, x, h)`: the gradient of a scalar function f at `x`,
by **central differences**, the tool of every gradient check.

`f` takes an array of `x`'s shape and returns a float; `x` is a float64 array of any
shape; `h` is a float step (1e-5 in the tests). For every entry i of x, with eᵢ the
array that is 1 at i and 0 elsewhere:

    grad[i] = (f(x + h·eᵢ) − f(x − h·eᵢ)) / (2h)

Return `grad`, of x's shape. You may change entries of x while you work, but put each
one back before moving to the next: f must always see x changed in one entry at most.
"""
    ),
    stub='''import numpy as np


def numerical_gradient(f, x, h):
    """Central-difference gradient of the scalar function f at x.

    f: function of an array of x's shape, returning a float
    x: float64 array, any shape; h: float step
    returns: grad of x's shape
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def numerical_gradient(f, x, h):
    """Central-difference gradient of the scalar function f at x."""
    x = x.copy()  # the caller's array stays as it was
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old  # put it back before the next entry
        grad[i] = (plus - minus) / (2 * h)
    return grad
''',
    cases=_numerical_gradient_cases,
    # Central differences are exact to about h² = 1e-10 here; a one-sided one only to h.
    tolerance=Tolerance(rel=1e-6, abs=1e-7),
    slips=(
        Slip(
            "a one-sided difference (f(x + h) − f(x)) / h: its error is of order h. Use the "
            "central difference (f(x + h) − f(x − h)) / (2h), whose error is of order h².",
            output=_one_sided,
        ),
        Slip(
            "divided by h: the central difference divides by 2h, the distance between "
            "x − h and x + h.",
            output=lambda f, x, h: _central(f, x, h, divide=1.0),
        ),
        Slip(
            "left x changed: put each entry back (x[i] = old) before moving to the next.",
            output=lambda f, x, h: _central(f, x, h, restore=False),
        ),
    ),
)

# -- logistic regression -----------------------------------------------------------------


def _logistic_cases(rng: np.random.Generator) -> list[Case]:
    d = size(rng, 2, 4)
    plans = [  # label, N, scale of X
        ("random (N, D)", size(rng, 3, 6), 1.0),
        ("a batch of one", 1, 1.0),
        ("confident mistakes (|z| ≈ 40)", 4, 20.0),
        ("a larger batch", size(rng, 8, 12), 1.0),
        ("all labels 1", size(rng, 3, 5), 1.0),
    ]
    cases = []
    for label, n, scale in plans:
        X, w, b = normal(rng, n, d, scale=scale), normal(rng, d), float(normal(rng, 1)[0])
        y = np.ones(n) if label == "all labels 1" else rng.integers(0, 2, n).astype(np.float64)
        if label.startswith("confident"):
            w = np.sign(w) * 1.0  # large logits, with the labels set against half of them
            y = (X @ w + b < 0).astype(np.float64)
            y[::2] = 1 - y[::2]
        lr = float(rng.choice([0.1, 0.5, 1.0]))
        loss, grads = gradients(
            lambda w, b, X=X, y=y: bce(X @ w + b, y) / len(y), {"w": w, "b": b}, None
        )
        expected = (w - lr * grads["w"], b - lr * grads["b"], loss)
        cases.append(Case(label, (w, b, X, y, lr), expected, batch=n))
    return cases


def _sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


def _logistic_variant(w, b, X, y, lr, scale=1.0, sign=1.0, after=False):
    n = len(y)
    p = _sigmoid(X @ w + b)
    w_next = w - sign * lr * scale * X.T @ (p - y) / n
    b_next = b - sign * lr * scale * np.mean(p - y)
    z = X @ (w_next if after else w) + (b_next if after else b)
    return w_next, b_next, np.mean(np.logaddexp(0, z) - y * z)


LOGISTIC_REGRESSION_STEP = CodeExercise(
    name="logistic-regression-step",
    title="Logistic regression, one gradient step",
    function="logreg_step",
    arguments=("w", "b", "X", "y", "lr"),
    outputs=("w_next", "b_next", "loss"),
    task=task(
        """
Implement `logreg_step(w, b, X, y, lr)`, returning `(w_next, b_next, loss)`: one step
of gradient descent on the mean binary cross-entropy of logistic regression.

`X` has shape (N, D); `y` shape (N,) with labels 0.0 or 1.0; `w` shape (D,); `b` and
`lr` are floats. With z = X @ w + b and σ the sigmoid:

    loss = (1/N) Σᵢ −[yᵢ log σ(zᵢ) + (1 − yᵢ) log(1 − σ(zᵢ))]   at w and b, before the step
    w_next = w − lr · Xᵀ(σ(z) − y) / N       b_next = b − lr · mean(σ(z) − y)

The loss must stay finite and exact for confident mistakes (|z| ≈ 40). Return w_next
(D,), b_next and loss (numbers).
"""
    ),
    stub='''import numpy as np


def logreg_step(w, b, X, y, lr):
    """One gradient-descent step of logistic regression on the mean cross-entropy.

    w: (D,); b: float; X: (N, D); y: (N,) of 0.0/1.0; lr: float
    returns: (w_next, b_next, loss), loss taken before the step
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def logreg_step(w, b, X, y, lr):
    """One gradient-descent step of logistic regression on the mean cross-entropy."""
    n = len(y)
    z = X @ w + b
    # -[y log s(z) + (1 - y) log(1 - s(z))] = log(1 + e^z) - y z: finite for any z.
    loss = np.mean(np.logaddexp(0, z) - y * z)
    p = np.exp(-np.logaddexp(0, -z))  # the sigmoid, without overflow
    w_next = w - lr * X.T @ (p - y) / n
    b_next = b - lr * np.mean(p - y)
    return w_next, b_next, loss
''',
    cases=_logistic_cases,
    slips=(
        Slip(
            "forgot the 1/N of the mean in the gradient: dw = Xᵀ(σ(z) − y) / N.",
            output=lambda w, b, X, y, lr: _logistic_variant(w, b, X, y, lr, scale=len(y)),
        ),
        Slip(
            "stepped up the gradient: w_next = w − lr · dw, against it.",
            output=lambda w, b, X, y, lr: _logistic_variant(w, b, X, y, lr, sign=-1.0),
        ),
        Slip(
            "computed the loss after the step: report it at w and b, before updating.",
            output=lambda w, b, X, y, lr: _logistic_variant(w, b, X, y, lr, after=True),
        ),
        Slip(
            "log(σ(z)) is log 0 = −inf once σ rounds to 0 or 1: compute the loss as "
            "log(1 + e^z) − y z (np.logaddexp(0, z) − y z).",
            output=lambda w, b, X, y, lr: (
                None,
                None,
                -np.mean(
                    y * np.log(1 / (1 + np.exp(-(X @ w + b))))
                    + (1 - y) * np.log(1 - 1 / (1 + np.exp(-(X @ w + b))))
                ),
            ),
        ),
    ),
)

# -- k-means -------------------------------------------------------------------------------


def _kmeans_expected(X: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point by point, in plain loops: an implementation unlike a vectorised solution."""
    labels = np.zeros(len(X), dtype=np.int64)
    for i, point in enumerate(X):
        best, best_distance = 0, None
        for j, centre in enumerate(centroids):
            distance = float(sum((p - c) ** 2 for p, c in zip(point, centre, strict=True)))
            if best_distance is None or distance < best_distance:  # ties keep the lowest j
                best, best_distance = j, distance
        labels[i] = best
    moved = centroids.copy()
    for j in range(len(centroids)):
        members = X[labels == j]
        if len(members):
            moved[j] = members.mean(axis=0)
    return labels, moved


def _kmeans_cases(rng: np.random.Generator) -> list[Case]:
    d, k = size(rng, 2, 3), size(rng, 2, 4)
    blobs = normal(rng, k, d, scale=5)
    points = np.concatenate([blobs[j] + normal(rng, 3, d) for j in range(k)])
    far = normal(rng, k, d, scale=5)
    far[-1] = 1000.0  # no point comes near it
    # Integer points and centroids: every distance is exact, so a tie is a tie.
    grid = rng.integers(-3, 4, (8, 2)).astype(np.float64)
    grid[0] = (0.0, 1.0)  # equidistant from the two centroids below
    mirrored = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 5.0]])
    plans = [
        ("random blobs", points, blobs + normal(rng, k, d)),
        ("an empty cluster (a centroid far away)", points, far),
        ("ties: points equidistant from two centroids", grid, mirrored),
        ("one cluster", points, normal(rng, 1, d)),
        ("one point, three centroids", normal(rng, 1, d), normal(rng, 3, d)),
    ]
    return [Case(label, (X, c), _kmeans_expected(X, c)) for label, X, c in plans]


def _kmeans_variant(X, centroids, pick=np.argmin, empty="keep"):
    distances = ((X[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    labels = pick(distances, axis=1)
    moved = centroids.copy()
    for j in range(len(centroids)):
        members = X[labels == j]
        if len(members):
            moved[j] = members.mean(axis=0)
        elif empty == "nan":
            moved[j] = np.nan
        elif empty == "zero":
            moved[j] = 0.0
    return labels, moved


KMEANS_STEP = CodeExercise(
    name="kmeans-step",
    title="k-means, one step",
    function="kmeans_step",
    arguments=("X", "centroids"),
    outputs=("labels", "new_centroids"),
    task=task(
        """
Implement `kmeans_step(X, centroids)`, returning `(labels, new_centroids)`: one step of
Lloyd's k-means.

`X` has shape (N, D): N points; `centroids` has shape (K, D).

1. Assign each point to its nearest centroid by squared Euclidean distance; when
   several are equally near, to the one with the **lowest index**. `labels` has shape
   (N,) and holds integers (an int64 array).
2. Move each centroid to the mean of the points assigned to it. A centroid that gets no
   points **stays where it is**.

Return labels and new_centroids (K, D).
"""
    ),
    stub='''import numpy as np


def kmeans_step(X, centroids):
    """Assign each point to its nearest centroid, then move each centroid to its points' mean.

    X: (N, D); centroids: (K, D)
    returns: (labels, new_centroids): labels (N,) int64, ties to the lowest index;
             new_centroids (K, D), a centroid without points unchanged
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def kmeans_step(X, centroids):
    """Assign each point to its nearest centroid, then move each centroid to its points' mean."""
    distances = np.sum((X[:, None, :] - centroids[None, :, :]) ** 2, axis=2)  # (N, K)
    labels = np.argmin(distances, axis=1)  # argmin returns the first of equal minima
    new_centroids = centroids.copy()
    for j in range(len(centroids)):
        members = X[labels == j]
        if len(members) > 0:  # an empty cluster keeps its centroid (a mean would be 0/0)
            new_centroids[j] = members.mean(axis=0)
    return labels, new_centroids
''',
    cases=_kmeans_cases,
    slips=(
        Slip(
            "a cluster with no points got nan (the mean of nothing is 0/0): keep its old centroid.",
            output=lambda X, c: _kmeans_variant(X, c, empty="nan"),
        ),
        Slip(
            "a cluster with no points moved to the origin: keep its old centroid.",
            output=lambda X, c: _kmeans_variant(X, c, empty="zero"),
        ),
        Slip(
            "assigned points to the farthest centroid: labels are the argmin of the distances.",
            output=lambda X, c: _kmeans_variant(X, c, pick=np.argmax),
        ),
        Slip(
            "a tie went to the higher index: among equally near centroids pick the lowest "
            "(np.argmin does).",
            output=lambda X, c: _kmeans_variant(
                X, c, pick=lambda d, axis: d.shape[1] - 1 - np.argmin(d[:, ::-1], axis=axis)
            ),
        ),
    ),
)

EXERCISES = [NUMERICAL_GRADIENT, LOGISTIC_REGRESSION_STEP, KMEANS_STEP]
