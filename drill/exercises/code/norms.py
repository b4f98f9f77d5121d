"""Normalisation: batch norm, layer norm and RMSNorm, forward and backward."""

from __future__ import annotations

import numpy as np

from drill.engine import Tensor, sqrt
from drill.exercises.code.spec import Case, CodeExercise, Slip
from drill.exercises.code.support import forward, gradients, normal, size, task

EPS_CHOICES = (1e-5, 1e-3, 1e-1)

# -- the formulas, for the engine --------------------------------------------------------


def _normalise(x: Tensor, axis: int, eps: float) -> Tensor:
    mean = x.mean(axis=axis, keepdims=True)
    centred = x - mean
    variance = (centred**2).mean(axis=axis, keepdims=True)  # biased: divided by the count
    return centred / sqrt(variance + eps)


def _batchnorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float) -> Tensor:
    return gamma * _normalise(x, 0, eps) + beta


def _layernorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float) -> Tensor:
    return gamma * _normalise(x, -1, eps) + beta


def _rmsnorm(x: Tensor, gamma: Tensor, eps: float) -> Tensor:
    return x / sqrt((x**2).mean(axis=-1, keepdims=True) + eps) * gamma


# -- the slips, in NumPy ----------------------------------------------------------------------


def _np_norm(x, axis, eps, ddof=0, eps_outside=False):
    mean = x.mean(axis=axis, keepdims=True)
    std = x.std(axis=axis, keepdims=True, ddof=ddof)
    if eps_outside:
        return (x - mean) / (std + eps)
    return (x - mean) / np.sqrt(std**2 + eps)


def _one_pass_norm(x, axis, eps):
    mean = x.mean(axis=axis, keepdims=True)
    variance = (x**2).mean(axis=axis, keepdims=True) - mean**2
    return (x - mean) / np.sqrt(variance + eps)


# -- batch norm ------------------------------------------------------------------------------


def _feature_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Batches (N, D) with the edge cases of a per-feature normalisation."""
    n, d = size(rng, 3, 6), size(rng, 2, 5)
    constant = normal(rng, n, d, scale=2)
    constant[:, 0] = float(np.round(normal(rng), 1))
    return [
        ("random batch (N, D)", normal(rng, n, d, scale=2) + normal(rng, d)),
        ("a batch of two", normal(rng, 2, d, scale=2)),
        ("a constant feature (variance 0)", constant),
        ("a large mean (10⁶ + noise)", 1e6 + normal(rng, n, d)),
        ("a batch of one", normal(rng, 1, d)),
    ]


def _batchnorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, x in _feature_inputs(rng):
        d = x.shape[1]
        gamma, beta = normal(rng, d) + 1, normal(rng, d)
        eps = float(rng.choice(EPS_CHOICES))
        value = forward(
            lambda x, gamma, beta, eps=eps: _batchnorm(x, gamma, beta, eps),
            x=x,
            gamma=gamma,
            beta=beta,
        )
        cases.append(Case(label, (x, gamma, beta, eps), value, batch=x.shape[0]))
    return cases


BATCHNORM_FORWARD = CodeExercise(
    name="batchnorm-forward",
    title="Batch normalization, forward (training)",
    function="batchnorm_forward",
    arguments=("x", "gamma", "beta", "eps"),
    outputs=("out",),
    task=task(
        """
Implement `batchnorm_forward(x, gamma, beta, eps)`: batch normalization in **training
mode**, with the statistics of this batch.

`x` has shape (N, D); `gamma` and `beta` have shape (D,); `eps` is a float. For each
feature j, over the batch (axis 0):

    μⱼ = (1/N) Σᵢ xᵢⱼ        σ²ⱼ = (1/N) Σᵢ (xᵢⱼ − μⱼ)²      (the biased variance)
    outᵢⱼ = γⱼ (xᵢⱼ − μⱼ) / √(σ²ⱼ + eps) + βⱼ

Return `out`, of shape (N, D). A batch whose features have a mean of 10⁶ must still come
out exact.
"""
    ),
    stub='''import numpy as np


def batchnorm_forward(x, gamma, beta, eps):
    """Batch normalization of x (N, D) with the batch's mean and biased variance.

    x: (N, D); gamma, beta: (D,); eps: float
    returns: out of shape (N, D)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def batchnorm_forward(x, gamma, beta, eps):
    """Batch normalization of x (N, D) with the batch's mean and biased variance."""
    mean = x.mean(axis=0)
    centred = x - mean
    variance = np.mean(centred**2, axis=0)  # two passes: exact even for a large mean
    return gamma * centred / np.sqrt(variance + eps) + beta
''',
    cases=_batchnorm_forward_cases,
    slips=(
        Slip(
            "used the unbiased variance (ddof=1): batch norm divides by N.",
            output=lambda x, g, b, eps: g * _np_norm(x, 0, eps, ddof=1) + b,
        ),
        Slip(
            "normalised each example over its features (axis 1): that is layer norm; batch "
            "norm normalises each feature over the batch (axis 0).",
            output=lambda x, g, b, eps: g * _np_norm(x, 1, eps) + b,
        ),
        Slip(
            "added eps outside the square root: divide by √(σ² + eps).",
            output=lambda x, g, b, eps: g * _np_norm(x, 0, eps, eps_outside=True) + b,
        ),
        Slip(
            "computed the variance as E[x²] − E[x]²: it cancels catastrophically when the "
            "mean is large. Use the mean of (x − μ)² (or np.var).",
            output=lambda x, g, b, eps: g * _one_pass_norm(x, 0, eps) + b,
        ),
    ),
)


def _batchnorm_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, x in _feature_inputs(rng):
        if label.startswith("a large mean"):
            x = x - 1e6 + 50.0  # the gradients of a mean of 10⁶ lose digits in every method
            label = "a mean far from 0 (50 + noise)"
        d = x.shape[1]
        gamma, beta = normal(rng, d) + 1, normal(rng, d)
        eps = float(rng.choice(EPS_CHOICES))
        dout = normal(rng, *x.shape)
        _, grads = gradients(
            lambda x, gamma, beta, eps=eps: _batchnorm(x, gamma, beta, eps),
            {"x": x, "gamma": gamma, "beta": beta},
            dout,
        )
        expected = (grads["x"], grads["gamma"], grads["beta"])
        cases.append(Case(label, (dout, x, gamma, eps), expected, batch=x.shape[0]))
    return cases


def _bn_constant_stats(dout, x, gamma, eps, axis=0):
    std = np.sqrt(x.var(axis=axis, keepdims=True) + eps)
    return dout * gamma / std


BATCHNORM_BACKWARD = CodeExercise(
    name="batchnorm-backward",
    title="Batch normalization, backward",
    function="batchnorm_backward",
    arguments=("dout", "x", "gamma", "eps"),
    outputs=("dx", "dgamma", "dbeta"),
    task=task(
        """
Implement `batchnorm_backward(dout, x, gamma, eps)`, returning `(dx, dgamma, dbeta)`:
the backward pass of batch normalization in training mode,

    μ = mean of x over the batch (axis 0)    σ² = (1/N) Σᵢ (xᵢ − μ)²   (per feature)
    x̂ = (x − μ) / √(σ² + eps)                out = γ x̂ + β

`x` and `dout` = ∂L/∂out have shape (N, D); `gamma` shape (D,). μ and σ² are functions
of x, so dx includes the paths through them. Return dx (N, D), dgamma (D,), dbeta (D,).
"""
    ),
    stub='''import numpy as np


def batchnorm_backward(dout, x, gamma, eps):
    """Gradients of out = gamma * (x - mean) / sqrt(var + eps) + beta over the batch.

    dout, x: (N, D); gamma: (D,); eps: float
    returns: (dx, dgamma, dbeta) of shapes (N, D), (D,), (D,)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def batchnorm_backward(dout, x, gamma, eps):
    """Gradients of out = gamma * (x - mean) / sqrt(var + eps) + beta over the batch."""
    mean = x.mean(axis=0)
    std = np.sqrt(np.mean((x - mean) ** 2, axis=0) + eps)
    x_hat = (x - mean) / std
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    # The mean and the variance depend on every row: their paths subtract two means.
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * np.mean(dx_hat * x_hat, axis=0)) / std
    return dx, dgamma, dbeta
''',
    cases=_batchnorm_backward_cases,
    slips=(
        Slip(
            "treated the batch mean and variance as constants: dx also flows through μ and "
            "σ², dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / √(σ² + eps), dx̂ = γ dout.",
            output=lambda dout, x, gamma, eps: (
                _bn_constant_stats(dout, x, gamma, eps),
                None,
                None,
            ),
        ),
        Slip(
            "dgamma = Σ dout · x̂, with x̂ the normalised x, not Σ dout · x.",
            output=lambda dout, x, gamma, eps: (None, np.sum(dout * x, axis=0), None),
        ),
        Slip(
            "dbeta is the sum of dout over the batch, not its mean.",
            output=lambda dout, x, gamma, eps: (None, None, dout.mean(axis=0)),
        ),
    ),
)

# -- layer norm ------------------------------------------------------------------------------


def _row_inputs(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    n, d = size(rng, 2, 5), size(rng, 3, 6)
    constant = normal(rng, n, d, scale=2)
    constant[0, :] = float(np.round(normal(rng), 1))
    return [
        ("random (N, D)", normal(rng, n, d, scale=2) + normal(rng, n, 1)),
        ("a batch of one", normal(rng, 1, d, scale=2)),
        ("sequences (N, T, D)", normal(rng, 2, size(rng, 2, 3), d)),
        ("a constant row (variance 0)", constant),
        ("rows with means far from 0", normal(rng, n, d) + 30 * normal(rng, n, 1)),
    ]


def _layernorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, x in _row_inputs(rng):
        d = x.shape[-1]
        gamma, beta = normal(rng, d) + 1, normal(rng, d)
        eps = float(rng.choice(EPS_CHOICES))
        value = forward(
            lambda x, gamma, beta, eps=eps: _layernorm(x, gamma, beta, eps),
            x=x,
            gamma=gamma,
            beta=beta,
        )
        cases.append(Case(label, (x, gamma, beta, eps), value))
    return cases


LAYERNORM_FORWARD = CodeExercise(
    name="layernorm-forward",
    title="Layer normalization, forward",
    function="layernorm_forward",
    arguments=("x", "gamma", "beta", "eps"),
    outputs=("out",),
    task=task(
        """
Implement `layernorm_forward(x, gamma, beta, eps)`: layer normalization, which
normalises **each example over its features** (the last axis).

`x` has shape (..., D): (N, D) or (N, T, D); `gamma` and `beta` have shape (D,). Over
the last axis of each row r:

    μ = (1/D) Σⱼ rⱼ       σ² = (1/D) Σⱼ (rⱼ − μ)²   (the biased variance)
    out = γ (r − μ) / √(σ² + eps) + β

Return `out`, of `x`'s shape. Unlike batch norm it works the same for a batch of one.
"""
    ),
    stub='''import numpy as np


def layernorm_forward(x, gamma, beta, eps):
    """Layer normalization of x over its last axis.

    x: (..., D); gamma, beta: (D,); eps: float
    returns: out of x's shape
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def layernorm_forward(x, gamma, beta, eps):
    """Layer normalization of x over its last axis."""
    mean = x.mean(axis=-1, keepdims=True)
    variance = np.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(variance + eps) + beta
''',
    cases=_layernorm_forward_cases,
    slips=(
        Slip(
            "normalised over the batch (axis 0): layer norm normalises each example over "
            "its features, the last axis.",
            output=lambda x, g, b, eps: g * _np_norm(x, 0, eps) + b,
        ),
        Slip(
            "used the unbiased variance (ddof=1): layer norm divides by D.",
            output=lambda x, g, b, eps: g * _np_norm(x, -1, eps, ddof=1) + b,
        ),
        Slip(
            "added eps outside the square root: divide by √(σ² + eps).",
            output=lambda x, g, b, eps: g * _np_norm(x, -1, eps, eps_outside=True) + b,
        ),
        Slip(
            "computed the mean and variance without keepdims=True: they broadcast along the "
            "wrong axis.",
            output=lambda x, g, b, eps: g * (x - x.mean(-1)) / np.sqrt(x.var(-1) + eps) + b,
        ),
    ),
)


def _layernorm_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, x in _row_inputs(rng):
        if x.ndim == 3:
            x = x.reshape(-1, x.shape[-1])
            label = "a batch of rows from a sequence (N·T, D)"
        d = x.shape[-1]
        gamma, beta = normal(rng, d) + 1, normal(rng, d)
        eps = float(rng.choice(EPS_CHOICES))
        dout = normal(rng, *x.shape)
        _, grads = gradients(
            lambda x, gamma, beta, eps=eps: _layernorm(x, gamma, beta, eps),
            {"x": x, "gamma": gamma, "beta": beta},
            dout,
        )
        expected = (grads["x"], grads["gamma"], grads["beta"])
        cases.append(Case(label, (dout, x, gamma, eps), expected, batch=x.shape[0]))
    return cases


LAYERNORM_BACKWARD = CodeExercise(
    name="layernorm-backward",
    title="Layer normalization, backward",
    function="layernorm_backward",
    arguments=("dout", "x", "gamma", "eps"),
    outputs=("dx", "dgamma", "dbeta"),
    task=task(
        """
Implement `layernorm_backward(dout, x, gamma, eps)`, returning `(dx, dgamma, dbeta)`:
the backward pass of layer normalization over the last axis,

    μ, σ² = mean and biased variance of each row of x (over its D features)
    x̂ = (x − μ) / √(σ² + eps)        out = γ x̂ + β

`x` and `dout` = ∂L/∂out have shape (N, D); `gamma` shape (D,). μ and σ² depend on x,
so dx includes the paths through them; γ and β are shared by every row. Return dx (N, D),
dgamma (D,) and dbeta (D,).
"""
    ),
    stub='''import numpy as np


def layernorm_backward(dout, x, gamma, eps):
    """Gradients of layer normalization over the last axis.

    dout, x: (N, D); gamma: (D,); eps: float
    returns: (dx, dgamma, dbeta) of shapes (N, D), (D,), (D,)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def layernorm_backward(dout, x, gamma, eps):
    """Gradients of layer normalization over the last axis."""
    mean = x.mean(axis=1, keepdims=True)
    std = np.sqrt(np.mean((x - mean) ** 2, axis=1, keepdims=True) + eps)
    x_hat = (x - mean) / std
    dgamma = np.sum(dout * x_hat, axis=0)  # gamma is shared by the rows: sum over them
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    dx_mean = dx_hat.mean(axis=1, keepdims=True)
    dx = (dx_hat - dx_mean - x_hat * np.mean(dx_hat * x_hat, axis=1, keepdims=True)) / std
    return dx, dgamma, dbeta
''',
    cases=_layernorm_backward_cases,
    slips=(
        Slip(
            "treated each row's mean and variance as constants: dx also flows through μ and "
            "σ², dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / √(σ² + eps) over each row.",
            output=lambda dout, x, gamma, eps: (
                _bn_constant_stats(dout, x, gamma, eps, axis=1),
                None,
                None,
            ),
        ),
        Slip(
            "dgamma = Σ over the rows of dout · x̂, with x̂ the normalised x, not of dout · x.",
            output=lambda dout, x, gamma, eps: (None, np.sum(dout * x, axis=0), None),
        ),
    ),
)

# -- RMSNorm --------------------------------------------------------------------------------


def _rmsnorm_forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, x in _row_inputs(rng):
        gamma = normal(rng, x.shape[-1]) + 1
        eps = float(rng.choice(EPS_CHOICES))
        value = forward(lambda x, gamma, eps=eps: _rmsnorm(x, gamma, eps), x=x, gamma=gamma)
        cases.append(Case(label, (x, gamma, eps), value))
    return cases


def _np_rms(x, eps, axis=-1):
    return np.sqrt(np.mean(x**2, axis=axis, keepdims=True) + eps)


RMSNORM_FORWARD = CodeExercise(
    name="rmsnorm-forward",
    title="RMSNorm, forward",
    function="rmsnorm_forward",
    arguments=("x", "gamma", "eps"),
    outputs=("out",),
    task=task(
        """
Implement `rmsnorm_forward(x, gamma, eps)`: RMSNorm over the last axis, as in LLaMA-style
transformers. It rescales each row by its root mean square and does **not** centre it:

    rms(r) = √((1/D) Σⱼ rⱼ² + eps)        out = γ ⊙ r / rms(r)

`x` has shape (..., D); `gamma` has shape (D,). Return `out`, of `x`'s shape.
"""
    ),
    stub='''import numpy as np


def rmsnorm_forward(x, gamma, eps):
    """RMSNorm of x over its last axis: gamma * x / sqrt(mean(x**2) + eps).

    x: (..., D); gamma: (D,); eps: float
    returns: out of x's shape
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def rmsnorm_forward(x, gamma, eps):
    """RMSNorm of x over its last axis: gamma * x / sqrt(mean(x**2) + eps)."""
    rms = np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps)
    return gamma * x / rms
''',
    cases=_rmsnorm_forward_cases,
    slips=(
        Slip(
            "subtracted the mean: RMSNorm does not centre x (that is layer norm).",
            output=lambda x, g, eps: g * (x - x.mean(-1, keepdims=True)) / _np_rms(x, eps),
        ),
        Slip(
            "used the sum of the squares: RMSNorm divides by the root of their mean.",
            output=lambda x, g, eps: g * x / np.sqrt(np.sum(x**2, -1, keepdims=True) + eps),
        ),
        Slip(
            "added eps outside the square root: rms = √(mean(x²) + eps).",
            output=lambda x, g, eps: g * x / (np.sqrt(np.mean(x**2, -1, keepdims=True)) + eps),
        ),
        Slip(
            "took the mean over the batch (axis 0): RMSNorm normalises each row over its "
            "features, the last axis.",
            output=lambda x, g, eps: g * x / _np_rms(x, eps, axis=0),
        ),
    ),
)


def _rmsnorm_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, x in _row_inputs(rng):
        if x.ndim == 3:
            x = x.reshape(-1, x.shape[-1])
            label = "a batch of rows from a sequence (N·T, D)"
        gamma = normal(rng, x.shape[-1]) + 1
        eps = float(rng.choice(EPS_CHOICES))
        dout = normal(rng, *x.shape)
        _, grads = gradients(
            lambda x, gamma, eps=eps: _rmsnorm(x, gamma, eps), {"x": x, "gamma": gamma}, dout
        )
        cases.append(Case(label, (dout, x, gamma, eps), (grads["x"], grads["gamma"])))
    return cases


RMSNORM_BACKWARD = CodeExercise(
    name="rmsnorm-backward",
    title="RMSNorm, backward",
    function="rmsnorm_backward",
    arguments=("dout", "x", "gamma", "eps"),
    outputs=("dx", "dgamma"),
    task=task(
        """
Implement `rmsnorm_backward(dout, x, gamma, eps)`, returning `(dx, dgamma)`: the backward
pass of RMSNorm over the last axis,

    rms = √((1/D) Σⱼ xⱼ² + eps)   (one per row)       out = γ ⊙ x / rms

`x` and `dout` = ∂L/∂out have shape (N, D); `gamma` shape (D,). rms depends on every
entry of its row. Return dx (N, D) and dgamma (D,).
"""
    ),
    stub='''import numpy as np


def rmsnorm_backward(dout, x, gamma, eps):
    """Gradients of out = gamma * x / sqrt(mean(x**2, axis=-1) + eps).

    dout, x: (N, D); gamma: (D,); eps: float
    returns: (dx, dgamma) of shapes (N, D), (D,)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def rmsnorm_backward(dout, x, gamma, eps):
    """Gradients of out = gamma * x / sqrt(mean(x**2, axis=-1) + eps)."""
    d = x.shape[1]
    rms = np.sqrt(np.mean(x**2, axis=1, keepdims=True) + eps)
    dgamma = np.sum(dout * x / rms, axis=0)
    g = dout * gamma
    # d(x / rms)/dx = I / rms - x x^T / (D rms^3), applied to g row by row.
    dx = g / rms - x * np.sum(g * x, axis=1, keepdims=True) / (d * rms**3)
    return dx, dgamma
''',
    cases=_rmsnorm_backward_cases,
    slips=(
        Slip(
            "treated the RMS as a constant: it depends on every entry of the row, "
            "dx = g / rms − x · Σⱼ(g x)ⱼ / (D rms³), g = γ dout.",
            output=lambda dout, x, gamma, eps: (dout * gamma / _np_rms(x, eps), None),
        ),
        Slip(
            "dgamma = Σ over the rows of dout · x / rms, not of dout · x.",
            output=lambda dout, x, gamma, eps: (None, np.sum(dout * x, axis=0)),
        ),
    ),
)

EXERCISES = [
    BATCHNORM_FORWARD,
    BATCHNORM_BACKWARD,
    LAYERNORM_FORWARD,
    LAYERNORM_BACKWARD,
    RMSNORM_FORWARD,
    RMSNORM_BACKWARD,
]
