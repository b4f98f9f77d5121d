"""dropout: inverted dropout in training, its forward output or its backward gradient.

p is the drop rate, as in PyTorch's `p` and the regularization deck: a unit is zeroed
with probability p and kept with probability 1 − p. The mask is given, so the answer is
determined: forward y = m ⊙ x / (1 − p), backward ∂L/∂x = m ⊙ ∂L/∂y / (1 − p). Both
come from the engine: y from its forward pass, ∂L/∂x from backward through
L = Σ g ⊙ y, whose ∂L/∂y is the stated g.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    check_derivative,
    choose,
    draw,
    extras_wanted,
    fmt,
    fmt_array,
    input_lines,
    json_inputs,
    pick,
    resample,
)

PARAMS = {"ask": ("forward", "backward")}

RULE = "y = m ⊙ x / (1 − p)"


def _graph(values: Mapping[str, Any]) -> tuple[Tensor, Tensor, Tensor]:
    """(L, y, x): y = m ⊙ x / (1 − p), and L = Σ g ⊙ y so that ∂L/∂y = g."""
    x = Tensor(values["x"], "x")
    y = (x * values["m"] / _keep(values["p"])).named("y", forward="m ⊙ x / (1 − p)")
    loss = (y * values["g"]).sum().named("L", forward="Σ g ⊙ y")
    return loss, y, x


def _loss_value(values: Mapping[str, Any]) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    y = np.asarray(values["x"]) * values["m"] / _keep(values["p"])
    return float((y * values["g"]).sum())


def _draw_values(rng: np.random.Generator, difficulty: Difficulty) -> dict[str, Any]:
    hand = difficulty is Difficulty.HAND
    size = 4 if hand else 6
    # The keep probability is drawn, the mask from it; the drop rate p = 1 − keep is rounded
    # so that it shows as exactly the number used (1 − 0.8 is 0.19999999999999996).
    keep = pick(rng, (0.5, 0.8, 0.25)) if hand else float(np.round(rng.uniform(0.5, 0.95), 2))
    drop = round(1.0 - keep, 2)

    def draw_mask(r: np.random.Generator) -> np.ndarray:
        return (r.random(size) < keep).astype(np.float64)

    def mixed(mask: np.ndarray) -> bool:
        # At least one unit kept and one dropped, so both cases are seen.
        return 0 < mask.sum() < size

    return {
        "x": draw(rng, difficulty, (size,), nonzero=True),
        "m": resample(rng, draw_mask, mixed),
        "p": drop,
        "g": draw(rng, difficulty, (size,), nonzero=True),
    }


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    asked = choose(rng, params, "ask", ("forward", "backward"))
    backward = asked == "backward"
    values = _draw_values(rng, difficulty)
    loss, y, x = _graph(values)
    loss.backward()
    if backward:
        answer = x.grad + 0.0  # a copy, with no -0.0 for dropped units
        for i in range(answer.size):
            check_derivative(_loss_value, values, "x", (i,), float(answer[i]))
        source = values["g"]
    else:
        answer = y.value + 0.0
        source = values["x"]
    shown = {name: values[name] for name in (("x", "m", "g") if backward else ("x", "m"))}
    return Exercise(
        generator="dropout",
        seed=0,
        difficulty=difficulty,
        question=_question(values, backward),
        spec={"drop_rate": values["p"], "rule": RULE, "ask": asked},
        inputs=json_inputs(shown) | {"p": values["p"]},
        asked={"wrt": "x", "index": []} if backward else {"value": "y"},
        answer=answer.tolist(),
        solution=_solution(values, answer, backward),
        slips=_slips(source, values["m"], values["p"], answer) if extras_wanted() else {},
    )


def _question(values: Mapping[str, Any], backward: bool) -> str:
    p, keep = fmt(values["p"]), fmt(_keep(values["p"]))
    lines = [
        f"In training, inverted dropout with drop rate p = {p} (each unit is zeroed with "
        f"probability p and kept with probability 1 − p = {keep}) is applied to x. Kept units "
        f"are scaled by 1/(1 − p), so the expected output is x itself: {RULE}, where the "
        "sampled mask m has 1 for a kept unit and 0 for a dropped one.",
    ]
    if backward:
        lines += input_lines({"x": values["x"], "m": values["m"], "∂L/∂y": values["g"]})
        lines.append("Given the gradient ∂L/∂y arriving from above, what is ∂L/∂x (a vector)?")
    else:
        lines += input_lines({"x": values["x"], "m": values["m"]})
        lines.append("What is the output y (a vector)?")
    return "\n".join(lines)


def _solution(values: Mapping[str, Any], answer: np.ndarray, backward: bool) -> list[str]:
    keep = _keep(values["p"])
    scale = 1.0 / keep
    lines = [f"1/(1 − p) = 1/{fmt(keep)} = {fmt(scale, 6)}"]
    if backward:
        lines += [
            "y = m ⊙ x / (1 − p) is elementwise, so ∂y_i/∂x_i = m_i / (1 − p) and "
            "∂L/∂x = m ⊙ ∂L/∂y / (1 − p).",
            f"m ⊙ ∂L/∂y = {fmt_array(values['m'] * values['g'])}",
            f"∂L/∂x = {fmt_array(values['m'] * values['g'])} · {fmt(scale, 6)} = "
            f"{fmt_array(answer, 6)}",
        ]
    else:
        lines += [
            f"m ⊙ x = {fmt_array(values['m'] * values['x'])}",
            f"y = {fmt_array(values['m'] * values['x'])} · {fmt(scale, 6)} = "
            f"{fmt_array(answer, 6)}",
        ]
    return lines


def _slips(
    source: np.ndarray, mask: np.ndarray, drop: float, answer: np.ndarray
) -> dict[str, list[float]]:
    keep = _keep(drop)
    candidates = {
        "multiplied by 1 − p instead of dividing": mask * source * keep,
        "mask left out": source / keep,
        "not rescaled by 1/(1 − p)": mask * source,
        "divided by p (p taken as the keep probability)": mask * source / drop,
    }
    kept: dict[str, list[float]] = {}
    for text, value in candidates.items():
        seen = [answer, *map(np.asarray, kept.values())]
        if not any(np.allclose(value, other) for other in seen):
            kept[text] = (value + 0.0).tolist()
    return kept


def _keep(drop: float) -> float:
    """The keep probability 1 − p of a drop rate p."""
    return 1.0 - drop
