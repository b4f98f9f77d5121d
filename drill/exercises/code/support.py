"""Helpers the exercise modules share: expected values from the engine, checked by central
differences, random draws, and the conventions paragraph every task ends with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from drill.engine import Tensor

CONVENTIONS = """\
Conventions: batch first, as NumPy code is written: `x` has shape (N, D), `W` has shape
(D, M) and `out = x @ W + b`. Every array is float64 unless said otherwise; return NumPy
arrays (a tuple of them where several values are asked), never lists, and use NumPy only."""


class EngineMismatch(RuntimeError):
    """The engine's gradient and central differences disagree: a bug in drill, not the user's."""


def task(text: str) -> str:
    """A task's Markdown: its own text, then the conventions every code task states."""
    return f"{text.strip()}\n\n{CONVENTIONS}"


def forward(fn: Callable[..., Tensor], **inputs: Any) -> np.ndarray:
    """The value of `fn` on the inputs, computed by the engine."""
    return fn(**{name: Tensor(value) for name, value in inputs.items()}).value.copy()


def gradients(
    fn: Callable[..., Tensor],
    inputs: Mapping[str, Any],
    upstream: Any = None,
    *,
    check: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """fn's value and the gradient of Σ upstream ⊙ fn(inputs) with respect to each input.

    `upstream` is the gradient flowing in (a backward pass's `dout`); None for a scalar fn.
    With `check`, the gradients are compared with a central difference along a random
    direction, so a wrong engine op cannot become a wrong expected value. Cases at a kink
    (ReLU at 0, ties of a max) pass check=False: differences there mean nothing.
    """
    leaves = {name: Tensor(value, name=name) for name, value in inputs.items()}
    out = fn(**leaves)
    out.backward(upstream)
    grads = {name: leaf.grad.copy() for name, leaf in leaves.items()}  # type: ignore[union-attr]
    if check:
        _central_difference_check(fn, inputs, upstream, grads)
    return out.value.copy(), grads


def _central_difference_check(
    fn: Callable[..., Tensor],
    inputs: Mapping[str, Any],
    upstream: Any,
    grads: Mapping[str, np.ndarray],
    step: float = 1e-5,
) -> None:
    weights = None if upstream is None else np.asarray(upstream, dtype=np.float64)

    def objective(values: Mapping[str, Any]) -> float:
        value = fn(**{name: Tensor(v) for name, v in values.items()}).value
        return float(np.sum(value * weights)) if weights is not None else float(value)

    # One random direction through every input at once: two more forward passes in all.
    rng = np.random.default_rng(0)
    bases = {name: np.asarray(value, dtype=np.float64) for name, value in inputs.items()}
    directions = {name: rng.standard_normal(base.shape) for name, base in bases.items()}
    plus = objective({name: bases[name] + step * directions[name] for name in bases})
    minus = objective({name: bases[name] - step * directions[name] for name in bases})
    numeric = (plus - minus) / (2 * step)
    analytic = sum(float(np.sum(grads[name] * directions[name])) for name in bases)
    scale = 1.0 + abs(analytic) + 1e-4 * (abs(plus) + abs(minus))
    if not abs(numeric - analytic) <= 1e-5 * scale:
        names = ", ".join(bases)
        raise EngineMismatch(
            f"gradients of {names}: autodiff gives a directional derivative of "
            f"{analytic!r}, central differences {numeric!r}"
        )


def normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return rng.standard_normal(shape) * scale


def uniform(rng: np.random.Generator, low: float, high: float, *shape: int) -> np.ndarray:
    return rng.uniform(low, high, shape)


def size(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer in [low, high], both included."""
    return int(rng.integers(low, high + 1))
