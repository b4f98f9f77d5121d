"""The trace: named nodes of a graph, in creation order, with values and gradients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drill.engine.tensor import Tensor, topological_order


@dataclass(frozen=True)
class TraceEntry:
    name: str
    op: str  # "leaf" for inputs and parameters
    value: np.ndarray
    grad: np.ndarray | None  # None until backward() has run
    forward: str | None  # how the value is computed, e.g. "W1 x + b1"
    backward: str | None  # how the gradient is computed, e.g. "W2ᵀ ∂L/∂z2"

    @property
    def is_leaf(self) -> bool:
        return self.op == "leaf"


def trace(root: Tensor) -> list[TraceEntry]:
    """The named nodes `root` depends on (itself included), parents before children."""
    return [
        TraceEntry(
            name=node.name,
            op=node.op,
            value=node.value.copy(),
            grad=None if node.grad is None else node.grad.copy(),
            forward=node.forward_note,
            backward=node.backward_note,
        )
        for node in topological_order(root)
        if node.name
    ]
