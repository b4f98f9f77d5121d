"""Elementwise functions, activations and softmax, each with its local derivative."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from drill.engine.tensor import (
    Tensor,
    as_tensor,
    broadcast_pair,
    fresh_node,
    make_node,
    normalize_axes,
    unbroadcast,
)


def _erf(v: np.ndarray) -> np.ndarray:
    """math.erf of each entry (the C library's erf, correctly rounded to float64; NumPy has
    none of its own), as an array of v's shape: what np.vectorize(math.erf) gives, at
    half its cost for the few values of a generated exercise."""
    return np.array([math.erf(x) for x in v.ravel().tolist()]).reshape(v.shape)


_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _elementwise(x: Any, op: str, value: np.ndarray, derivative: np.ndarray) -> Tensor:
    """A node whose local gradient is the elementwise `derivative` (already evaluated).
    `value` is the function's new result; it is copied only when it is the derivative
    too (exp), so that the node's value and its backward pass never share an array."""
    x = as_tensor(x)

    def backward(g: np.ndarray) -> None:
        x.grad += g * derivative

    if value is derivative:
        return make_node(value, (x,), op, backward)
    return fresh_node(value, (x,), op, backward)


def exp(x: Any) -> Tensor:
    value = np.exp(as_tensor(x).value)
    return _elementwise(x, "exp", value, value)


def log(x: Any) -> Tensor:
    v = as_tensor(x).value
    return _elementwise(x, "log", np.log(v), 1.0 / v)


def sqrt(x: Any) -> Tensor:
    value = np.sqrt(as_tensor(x).value)
    return _elementwise(x, "sqrt", value, 0.5 / value)


def tanh(x: Any) -> Tensor:
    value = np.tanh(as_tensor(x).value)
    return _elementwise(x, "tanh", value, 1.0 - value**2)


def _stable_sigmoid(v: np.ndarray) -> np.ndarray:
    # exp of a large positive number overflows; use whichever form only takes exp(-|v|).
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid(x: Any) -> Tensor:
    value = _stable_sigmoid(as_tensor(x).value)
    return _elementwise(x, "sigmoid", value, value * (1.0 - value))


def silu(x: Any) -> Tensor:
    """silu(x) = x σ(x), also called swish; its derivative is σ(x)(1 + x(1 − σ(x)))."""
    v = as_tensor(x).value
    s = _stable_sigmoid(v)
    return _elementwise(x, "silu", v * s, s * (1.0 + v * (1.0 - s)))


def sin(x: Any) -> Tensor:
    v = as_tensor(x).value
    return _elementwise(x, "sin", np.sin(v), np.cos(v))


def cos(x: Any) -> Tensor:
    v = as_tensor(x).value
    return _elementwise(x, "cos", np.cos(v), -np.sin(v))


def softplus(x: Any) -> Tensor:
    v = as_tensor(x).value
    return _elementwise(x, "softplus", np.logaddexp(0.0, v), _stable_sigmoid(v))


def relu(x: Any) -> Tensor:
    v = as_tensor(x).value
    # At exactly 0 the derivative is taken as 0; generators keep inputs away from the kink.
    return _elementwise(x, "relu", np.maximum(v, 0.0), (v > 0).astype(np.float64))


def leaky_relu(x: Any, slope: float = 0.01) -> Tensor:
    if isinstance(slope, bool) or np.ndim(slope) != 0:
        raise TypeError(f"leaky_relu slope must be a number, not {type(slope).__name__}")
    slope = float(slope)
    v = as_tensor(x).value
    value = np.where(v > 0, v, slope * v)
    return _elementwise(x, "leaky_relu", value, np.where(v > 0, 1.0, slope))


def normal_cdf(v: np.ndarray) -> np.ndarray:
    """Φ(v), the standard normal cumulative distribution, in float64."""
    return 0.5 * (1.0 + _erf(np.asarray(v, dtype=np.float64) / _SQRT2))


def normal_pdf(v: np.ndarray) -> np.ndarray:
    """φ(v), the standard normal density."""
    v = np.asarray(v, dtype=np.float64)
    return _INV_SQRT_2PI * np.exp(-0.5 * v**2)


def gelu(x: Any) -> Tensor:
    """gelu(x) = x Φ(x), the exact form (not the tanh approximation)."""
    v = as_tensor(x).value
    cdf = normal_cdf(v)
    return _elementwise(x, "gelu", v * cdf, cdf + v * normal_pdf(v))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; at a tie each side gets half the gradient."""
    a, b = broadcast_pair(a, b, "maximum")
    value = np.maximum(a.value, b.value)
    a_wins = (a.value == value).astype(np.float64)
    b_wins = (b.value == value).astype(np.float64)
    share = a_wins + b_wins  # 2 at a tie, 1 elsewhere

    def backward(g: np.ndarray) -> None:
        a.grad += unbroadcast(g * a_wins / share, a.shape)
        b.grad += unbroadcast(g * b_wins / share, b.shape)

    return make_node(value, (a, b), "maximum", backward)


def _axis(x: Tensor, axis: int) -> int:
    if not isinstance(axis, int | np.integer):
        raise TypeError(f"softmax takes one integer axis, not {axis!r}")
    return normalize_axes(axis, x.shape)[0]


def softmax(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    ax = _axis(x, axis)
    shifted = x.value - x.value.max(axis=ax, keepdims=True)  # exp cannot overflow
    e = np.exp(shifted)
    s = e / e.sum(axis=ax, keepdims=True)

    def backward(g: np.ndarray) -> None:
        x.grad += s * (g - (g * s).sum(axis=ax, keepdims=True))

    return make_node(s, (x,), "softmax", backward)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    ax = _axis(x, axis)
    shifted = x.value - x.value.max(axis=ax, keepdims=True)
    log_total = np.log(np.exp(shifted).sum(axis=ax, keepdims=True))
    value = shifted - log_total
    s = np.exp(value)

    def backward(g: np.ndarray) -> None:
        x.grad += g - s * g.sum(axis=ax, keepdims=True)

    return make_node(value, (x,), "log_softmax", backward)
