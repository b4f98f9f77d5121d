"""The trace: named nodes of a graph, in creation order, with values and gradients."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from drill.engine.tensor import Tensor, topological_order


class TraceEntry(NamedTuple):
    """One named node (a tuple: a trace makes one for every named node of a graph, and a
    frozen dataclass cost several times as much to build)."""

    name: str
    op: str  # "leaf" for inputs and parameters
    value: np.ndarray
    grad: np.ndarray | None  # None until backward() has run
    forward: str | None  # how the value is computed, e.g. "W1 x + b1"
    backward: str | None  # how the gradient is computed, e.g. "W2ᵀ ∂L/∂z2"

    @property
    def is_leaf(self) -> bool:
        return self.op == "leaf"


def trace(root: Tensor, order: list[Tensor] | None = None, copies: bool = True) -> list[TraceEntry]:
    """The named nodes `root` depends on (itself included), parents before children.

    `order` is topological_order(root) when the caller has it already (a large part of
    the cost of a small graph's trace is that walk). With `copies=False` the entries hold
    the nodes' own arrays, for a caller that only reads them (backward() gives every node
    new gradient arrays, so a later sweep leaves them as they were)."""
    if order is None:
        order = topological_order(root)
    if not copies:
        return [
            TraceEntry(n.name, n.op, n.value, n.grad, n.forward_note, n.backward_note)
            for n in order
            if n.name
        ]
    return [
        TraceEntry(  # np.array copies (at half the cost of .copy() for such small arrays)
            node.name,
            node.op,
            np.array(node.value),
            None if node.grad is None else np.array(node.grad),
            node.forward_note,
            node.backward_note,
        )
        for node in order
        if node.name
    ]
