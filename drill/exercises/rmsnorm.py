"""rmsnorm-backward: a gradient through RMSNorm, the normalization of LLaMA-style models.

One token's D features are divided by their root mean square, then scaled per feature;
unlike layer norm there is no mean subtracted and no shift:

    r = √((1/D) Σ xᵢ² + ε),  x̂ = x / r,  y = γ ⊙ x̂,  L = Σ g ⊙ y

so g = ∂L/∂y is the gradient arriving from above. Asks ∂L/∂x[i] or ∂L/∂γ[i]. The lesson
of ∂L/∂x: r depends on every xᵢ, so ∂L/∂xᵢ = γᵢ gᵢ / r − xᵢ Σⱼ γⱼ gⱼ xⱼ / (D r³).

By hand ε = 0 and x is drawn so that r is a multiple of 0.5: no square roots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    GRID,
    INDEX_NOTE,
    SMALLEST_ANSWER,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    draw,
    draws,
    extras_wanted,
    fmt_array,
    format_index,
    guided_steps,
    input_lines,
    json_inputs,
    named_nodes,
    random_index,
    resample,
    slips_apart,
    worked_solution,
)
from drill.exercises.screening import first_accepted, resample_keeping

WRT = ("x", "gamma")
SIZES = (3, 4, 5, 6)
HAND_SIZE = 4
HAND_TRIES = 20_000
CALC_EPS = 1e-6
MIN_MEAN_SQUARE = 0.25  # keeps 1/r, and so the answer, moderate

PARAMS: dict[str, tuple[Any, ...]] = {"wrt": WRT, "features": SIZES}

DISPLAY = {"x": "x", "gamma": "γ"}
CONVENTION = "y = gamma ⊙ x / sqrt(mean(x²) + eps)"
LOSS = "L = Σ g ⊙ y"


@dataclass(frozen=True)
class Setup:
    wrt: str
    size: int
    index: tuple[int, ...]
    eps: float


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    wrt = choose(rng, params, "wrt", ("x", "x", "gamma"))
    size = choose(rng, params, "features", (HAND_SIZE,) if hand else SIZES)
    return Setup(wrt, size, random_index(rng, (size,)), 0.0 if hand else CALC_EPS)


def exact_rms(x: np.ndarray) -> np.ndarray:
    """Whether the root mean square of `x` is a positive multiple of 0.5; for each row of
    a block of draws at once (drill.exercises.screening)."""
    steps = np.sqrt(np.mean(x**2, axis=-1)) / GRID
    return (steps > 0) & (steps == np.round(steps))


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    D = setup.size
    if difficulty is Difficulty.HAND:
        x = first_accepted(rng, D, -2.0, 2.0, exact_rms, HAND_TRIES)
    else:
        x = resample(
            rng,
            lambda r: draw(r, difficulty, (D,), -3.0, 3.0),
            lambda v: np.mean(v**2) >= MIN_MEAN_SQUARE,
        )
    gamma, g = draws(rng, difficulty, ((D,), 0.5, 2.0, True), ((D,), -2.0, 2.0, False))
    return {"x": x, "gamma": gamma, "g": g}


def _build(inputs: dict[str, Any], setup: Setup, frozen: bool = False) -> Tensor:
    """The loss node, named for the trace; `frozen` holds r constant (a classic slip)."""
    x = Tensor(inputs["x"], name="x")
    gamma = Tensor(inputs["gamma"], name="γ")
    g = Tensor(inputs["g"], name="g")
    x.backward_note = "∂L/∂x̂ / r + 2x/D · ∂L/∂ms"
    gamma.backward_note = "∂L/∂y ⊙ x̂"
    ms = (x**2).mean().named("ms", forward="(1/D) Σ xᵢ²", backward="∂L/∂r / (2r)")
    r = engine.sqrt(ms + setup.eps).named("r", forward="√(ms + ε)", backward="−Σᵢ ∂L/∂x̂ᵢ · xᵢ / r²")
    if frozen:
        r = Tensor(r.value, name="r")
    xhat = (x / r).named("x̂", forward="x / r", backward="γ ⊙ ∂L/∂y")
    y = (gamma * xhat).named("y", forward="γ ⊙ x̂", backward="g")
    return (g * y).sum().named("L", forward="Σ g ⊙ y")


def _answer(inputs: dict[str, Any], setup: Setup, **variant: Any) -> tuple[Tensor, float]:
    loss = _build(inputs, setup, **variant)
    return loss, asked_gradient(loss, DISPLAY[setup.wrt], setup.index)


def _judged(built: tuple[Tensor, float]) -> tuple[bool, tuple[Tensor, float]]:
    """A draw's graph and answer, and whether the answer is large enough to teach."""
    return abs(built[1]) >= SMALLEST_ANSWER, built


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    x = np.asarray(inputs["x"], dtype=np.float64)
    y = inputs["gamma"] * x / np.sqrt((x**2).mean() + setup.eps)
    return float((inputs["g"] * y).sum())


def _notes(loss: Tensor) -> dict[str, str]:
    nodes = named_nodes(loss)
    direct = nodes["x̂"].grad / nodes["r"].value
    through = nodes["x"].grad - direct
    return {
        "x": f"x reaches L directly and through r: ∂L/∂x̂ / r = {fmt_array(direct)}, "
        f"plus via r {fmt_array(through)}"
    }


def _layernorm_answer(inputs: dict[str, Any], setup: Setup) -> float:
    """∂L/∂(x or γ) had the mean been subtracted first, as layer norm does (β = 0)."""
    x = Tensor(inputs["x"], name="x")
    gamma = Tensor(inputs["gamma"], name="γ")
    d = x - x.mean()
    y = gamma * d / engine.sqrt((d**2).mean() + setup.eps)
    (y * inputs["g"]).sum().backward()
    return float({"x": x, "gamma": gamma}[setup.wrt].grad[setup.index])


def _slips(inputs: dict[str, Any], setup: Setup, answer: float) -> dict[str, float]:
    slips = {"sign flipped": -answer}
    if setup.wrt == "x":
        slips["r treated as a constant (the path through r forgotten)"] = _answer(
            inputs, setup, frozen=True
        )[1]
    if np.var(inputs["x"]) > 0:
        slips["mean subtracted first, as in layer norm"] = _layernorm_answer(inputs, setup)
    if setup.wrt == "gamma":
        (i,) = setup.index
        slips["x used instead of x̂ (no normalization)"] = inputs["g"][i] * inputs["x"][i]
    return slips_apart(slips, answer)


def _question(setup: Setup, inputs: dict[str, Any]) -> str:
    eps_text = "ε = 0" if setup.eps == 0.0 else "ε = 10⁻⁶"
    shown = {"x": inputs["x"], "γ": inputs["gamma"], "g": inputs["g"]}
    lines = [
        f"RMSNorm divides one token's D = {setup.size} features by their root mean square, "
        "then scales each feature (no mean is subtracted and there is no shift):",
        f"  r = √((1/D) Σᵢ xᵢ² + ε), with {eps_text}",
        "  x̂ = x / r",
        "  y = γ ⊙ x̂",
        "  L = Σᵢ gᵢ yᵢ, so g = ∂L/∂y is the gradient arriving from above",
        "r is computed from x itself, so it depends on every xᵢ.",
        "Inputs:",
        *input_lines(shown),
        f"Compute ∂L/∂{DISPLAY[setup.wrt]}{format_index(setup.index)} {INDEX_NOTE}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    inputs, (loss, answer) = resample_keeping(
        rng, lambda r: _draw_inputs(r, difficulty, setup), lambda v: _judged(_answer(v, setup))
    )
    check_derivative(lambda v: _loss_value(v, setup), inputs, setup.wrt, setup.index, answer)
    wrt = DISPLAY[setup.wrt]
    notes = _notes(loss) if setup.wrt == "x" else {}
    return Exercise(
        generator="rmsnorm-backward",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs),
        spec={"eps": setup.eps, "convention": CONVENTION, "loss": LOSS},
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=worked_solution(loss, wrt, setup.index, answer, notes),
        slips=_slips(inputs, setup, answer) if extras_wanted() else {},
        steps=guided_steps(loss, wrt, setup.index, answer, skip={"y"}),
    )
