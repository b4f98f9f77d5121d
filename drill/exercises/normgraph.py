"""Graph pieces shared by the normalisation generators (batch norm, layer norm).

A slip that treats a statistic (μ or σ²) as a constant is rebuilt with that statistic as a
plain leaf; the worked solution splits a gradient into its direct share and the share that
flows back through a statistic. Both come from drill's engine, never from a formula.
"""

from __future__ import annotations

import numpy as np

from drill.engine import Tensor
from drill.exercises.common import fmt_array, named_nodes


def held(node: Tensor, frozen: bool) -> Tensor:
    """`node`, or a leaf with its value when the slip treats it as a constant."""
    return Tensor(node.value) if frozen else node


def share_through(loss: Tensor, statistic: str, node: str) -> np.ndarray:
    """The part of ∂L/∂node that flows back through `statistic` (μ or σ²), from the engine.

    Leaves every gradient as a plain backward pass of `loss` would, for the trace.
    """
    loss.backward()
    nodes = named_nodes(loss)
    nodes[statistic].backward(seed=nodes[statistic].grad.copy())
    share = nodes[node].grad.copy()
    loss.backward()
    return share


def statistic_notes(loss: Tensor) -> dict[str, str]:
    """Under d and under x: the direct share and the share through the statistic."""
    nodes = named_nodes(loss)
    notes = {}
    for node, statistic, direct in (("d", "σ²", "∂L/∂x̂ / s"), ("x", "μ", "∂L/∂d")):
        through = share_through(loss, statistic, node)
        alone = nodes[node].grad - through
        notes[node] = (
            f"{node} reaches L directly and through {statistic}: "
            f"{direct} = {fmt_array(alone)}, plus via {statistic} {fmt_array(through)}"
        )
    return notes
