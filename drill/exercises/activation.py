"""activation-derivative: f′(x) for one activation at one point.

The input is the scalar x; `spec.activation` names f (and `spec.slope` the leaky ReLU's
slope). By hand, the question lists the transcendental values needed (e^(−x), tanh x, or
Φ(x) and φ(x)), since the point is the derivative's form, not evaluating e^x.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    KINK_MARGIN,
    activation_function,
    activation_text,
    asked_derivative,
    check_derivative,
    choose,
    derivative_text,
    distinct_slips,
    draw,
    extras_wanted,
    fmt,
    json_inputs,
    plain_activation,
    resample,
    tabulate,
    useful_values,
    worked_solution,
)

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu")
SLOPES = (0.01, 0.1, 0.2)

PARAMS: dict[str, tuple[Any, ...]] = {"activation": ACTIVATIONS, "slope": SLOPES}


def _build(x: Any, name: str, slope: float | None) -> tuple[Tensor, Tensor]:
    """The input node x and the output node f = name(x), both named for the trace."""
    point = Tensor(x, name="x")
    formula, with_, where = derivative_text(name, "x", slope).partition(", with ")
    # The trace appends " = value": after a definition (φ(x) = e^(−x²/2)/√(2π)) or a case
    # ("else 0") it would read as their value, so the line names the derivative again.
    if with_:
        formula += f", where {where}"
    again = f"; so {name}′(x)" if with_ or " if " in formula else ""
    point.backward_note = f"{name}′(x) = {formula}{again}"
    return point, activation_function(name, slope)(point).named("f", forward=f"{name}(x)")


def _hand_values(name: str, x: float) -> list[tuple[str, float]]:
    """The values a person cannot get with pen and paper, for `hand` questions."""
    if name in ("sigmoid", "softplus"):
        return [(f"e^(−x) = e^({fmt(-x)})", float(np.exp(-x)))]
    if name == "tanh":
        return tabulate("tanh({})", np.tanh, x)
    if name == "gelu":
        return [
            (f"Φ({fmt(x)})", float(engine.normal_cdf(x))),
            (f"φ({fmt(x)}) = Φ′({fmt(x)})", float(engine.normal_pdf(x))),
        ]
    return []


def _question(name: str, x: float, slope: float | None, difficulty: Difficulty) -> str:
    lines = [
        f"Let f be the activation {activation_text(name, 'z', slope)}.",
        f"Compute its derivative f′(x) at x = {fmt(x)}.",
    ]
    if difficulty is Difficulty.HAND and (hint := useful_values(_hand_values(name, x))):
        lines.append(hint)
    return "\n".join(lines)


def _slips(name: str, x: float, slope: float | None, answer: float) -> dict[str, float]:
    """Likely wrong answers, from the engine's values of related functions."""
    f = activation_function(name, slope)
    value = {
        "sigmoid": ("σ(x) instead of σ(x)(1 − σ(x))", lambda: f(x).item()),
        "tanh": ("1 − tanh(x): the square forgotten", lambda: 1.0 - f(x).item()),
        "softplus": ("softplus(x) itself instead of σ(x)", lambda: f(x).item()),
        "gelu": ("Φ(x) alone: the x·φ(x) term forgotten", lambda: float(engine.normal_cdf(x))),
    }
    slips = {"sign flipped": -answer}
    if name in value:
        description, compute = value[name]
        slips[description] = compute()
    if name in ("relu", "leaky_relu"):
        other_side = Tensor(-x)
        f(other_side).backward()
        slips["the other side of the kink"] = float(other_side.grad)
    return distinct_slips(slips, answer)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    name = choose(rng, params, "activation", ACTIVATIONS)
    slope = choose(rng, params, "slope", SLOPES) if name == "leaky_relu" else None
    low, high = (-3.0, 3.0) if difficulty is Difficulty.HAND else (-4.0, 4.0)
    x = float(
        resample(
            rng,
            lambda r: draw(r, difficulty, (), low, high, nonzero=True),
            # Away from the kink, for every activation: x near 0 is also the least telling.
            lambda v: abs(float(v)) > KINK_MARGIN,
        )
    )
    point, out = _build(x, name, slope)
    out.backward()
    answer = float(point.grad)
    plain = {"x": x}  # the check's forward pass: NumPy alone
    check_derivative(lambda v: float(plain_activation(name, v["x"], slope)), plain, "x", (), answer)
    spec: dict[str, Any] = {"activation": name}
    if slope is not None:
        spec["slope"] = slope
    return Exercise(
        generator="activation-derivative",
        seed=0,
        difficulty=difficulty,
        question=_question(name, x, slope, difficulty),
        spec=spec,
        inputs=json_inputs({"x": x}),
        asked=asked_derivative("x", ()),
        answer=answer,
        solution=worked_solution(out, "x", (), answer),
        slips=_slips(name, x, slope, answer) if extras_wanted() else {},
    )
