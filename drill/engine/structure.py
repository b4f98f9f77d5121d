"""Ops that arrange values rather than compute them: stacking, joining and masking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from drill.engine.tensor import Tensor, as_tensor, broadcast_pair, make_node, unbroadcast


def _parts(tensors: Sequence[Any], op: str) -> list[Tensor]:
    parts = [as_tensor(t) for t in tensors]
    if not parts:
        raise ValueError(f"{op} needs at least one tensor")
    return parts


def _axis_of(axis: Any, ndim: int, op: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{op} takes one integer axis, not {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for {op} of {ndim}-d results")
    return int(axis) % ndim


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Tensors of one shape joined along a new axis (as numpy.stack)."""
    parts = _parts(tensors, "stack")
    shapes = {p.shape for p in parts}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape, got {sorted(shapes)}")
    ax = _axis_of(axis, parts[0].ndim + 1, "stack")

    def backward(g: np.ndarray) -> None:
        for i, part in enumerate(parts):
            part.grad += np.take(g, i, axis=ax)

    return make_node(np.stack([p.value for p in parts], axis=ax), parts, "stack", backward)


def concat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Tensors joined along an existing axis (as numpy.concatenate)."""
    parts = _parts(tensors, "concat")
    if any(p.ndim == 0 for p in parts):
        raise ValueError("concat needs tensors of at least one dimension")
    ax = _axis_of(axis, parts[0].ndim, "concat")
    try:
        value = np.concatenate([p.value for p in parts], axis=ax)
    except ValueError:
        shapes = ", ".join(str(p.shape) for p in parts)
        raise ValueError(f"cannot concat shapes {shapes} along axis {ax}") from None
    bounds = np.cumsum([p.shape[ax] for p in parts])[:-1]

    def backward(g: np.ndarray) -> None:
        for part, piece in zip(parts, np.split(g, bounds, axis=ax), strict=True):
            part.grad += piece

    return make_node(value, parts, "concat", backward)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """`a` where `condition` holds, else `b` (a causal mask: where(allowed, scores, −∞)).

    The condition is a constant boolean array; each side gets the gradient of the
    positions it supplied, and nothing elsewhere.
    """
    mask = np.asarray(condition)
    if mask.dtype != np.bool_:
        raise TypeError(f"where needs a boolean condition, not {mask.dtype}")
    a, b = broadcast_pair(a, b, "where")
    try:
        shape = np.broadcast_shapes(mask.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"cannot broadcast the condition {mask.shape} with {a.shape} and {b.shape}"
        ) from None
    mask = np.broadcast_to(mask, shape)

    def backward(g: np.ndarray) -> None:
        a.grad += unbroadcast(np.where(mask, g, 0.0), a.shape)
        b.grad += unbroadcast(np.where(mask, 0.0, g), b.shape)

    return make_node(np.where(mask, a.value, b.value), (a, b), "where", backward)
