"""Pieces shared by the normalisation generators (batch norm, layer norm).

A slip that treats a statistic (μ or σ²) as a constant is rebuilt with that statistic as a
plain leaf; the worked solution splits a gradient into its direct share and the share that
flows back through a statistic. Both come from drill's engine, never from a formula. By
hand, the values are drawn until σ comes out a multiple of 0.5 (`exact_sigma`).
"""

from __future__ import annotations

import numpy as np

from drill.engine import Tensor, topological_order
from drill.exercises.common import GRID, fmt_array, named_nodes


def exact_sigma(x: np.ndarray) -> np.ndarray:
    """Whether the biased standard deviation of `x` is a positive multiple of 0.5; for
    each row of a block of draws at once (drill.exercises.griddraw)."""
    steps = np.sqrt(x.var(axis=-1)) / GRID
    return (steps > 0) & (steps == np.round(steps))


def held(node: Tensor, frozen: bool) -> Tensor:
    """`node`, or a leaf with its value when the slip treats it as a constant."""
    return Tensor(node.value) if frozen else node


def _share(nodes: dict[str, Tensor], statistic: str, node: str) -> np.ndarray:
    """Run the backward pass again from `statistic` alone, seeded with its gradient: what
    reaches `node` then is the share through it. Changes the gradients below it."""
    nodes[statistic].backward(seed=nodes[statistic].grad.copy())
    return nodes[node].grad.copy()


def statistic_notes(loss: Tensor, after_backward: bool = False) -> dict[str, str]:
    """Under d and under x: the direct share and the share through the statistic.

    One pass of `loss` in all (none when `after_backward`: its gradients are those of a
    pass already), where a share_through each took two: the gradients needed are read
    after it, both shares come from the statistics' own (small) passes, which give the
    nodes below them new gradient arrays, and then every node gets back the one the
    pass of `loss` left it, as a plain backward pass would leave them."""
    if not after_backward:
        loss.backward()
    nodes = named_nodes(loss)
    left = [(node, node.grad) for node in topological_order(loss)]
    pairs = (("d", "σ²", "∂L/∂x̂ / s"), ("x", "μ", "∂L/∂d"))
    totals = {node: nodes[node].grad.copy() for node, _, _ in pairs}
    seeds = {statistic: nodes[statistic].grad.copy() for _, statistic, _ in pairs}
    notes = {}
    for node, statistic, direct in pairs:
        nodes[statistic].grad = seeds[statistic]
        through = _share(nodes, statistic, node)
        alone = totals[node] - through
        notes[node] = (
            f"{node} reaches L directly and through {statistic}: "
            f"{direct} = {fmt_array(alone)}, plus via {statistic} {fmt_array(through)}"
        )
    for node, grad in left:
        node.grad = grad
    return notes
