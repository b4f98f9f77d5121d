"""Losses, with exactly the meanings DESIGN.md gives them.

Each takes the prediction (or logits) first and the target second, and both must have
the same shape: broadcasting a target would silently change what n or Σ means.
"""

from __future__ import annotations

from typing import Any

from drill.engine.functions import log_softmax, softplus
from drill.engine.tensor import Tensor, as_tensor


def _same_shape(name: str, prediction: Any, target: Any) -> tuple[Tensor, Tensor]:
    prediction, target = as_tensor(prediction), as_tensor(target)
    if prediction.shape != target.shape:
        raise ValueError(
            f"{name} needs prediction and target of one shape, "
            f"got {prediction.shape} and {target.shape}"
        )
    return prediction, target


def mse(prediction: Any, target: Any) -> Tensor:
    """(1/n) Σᵢ (ŷᵢ − yᵢ)², n the number of elements."""
    prediction, target = _same_shape("mse", prediction, target)
    return ((prediction - target) ** 2).mean()


def half_sse(prediction: Any, target: Any) -> Tensor:
    """½ Σᵢ (ŷᵢ − yᵢ)²."""
    prediction, target = _same_shape("half_sse", prediction, target)
    return 0.5 * ((prediction - target) ** 2).sum()


def cross_entropy(logits: Any, target: Any, axis: int = -1) -> Tensor:
    """−Σᵢ yᵢ log softmax(z)ᵢ from logits z; with a batch, the sum over all examples."""
    logits, target = _same_shape("cross_entropy", logits, target)
    return -(target * log_softmax(logits, axis=axis)).sum()


def bce(logits: Any, target: Any) -> Tensor:
    """−[y log σ(z) + (1 − y) log(1 − σ(z))] from logits z, summed over elements.

    Computed as softplus(z) − y z, the same quantity without log(0) for large |z|.
    """
    logits, target = _same_shape("bce", logits, target)
    return (softplus(logits) - target * logits).sum()


LOSSES = {"mse": mse, "half_sse": half_sse, "cross_entropy": cross_entropy, "bce": bce}
