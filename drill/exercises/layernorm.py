"""layernorm-backward: a gradient through layer normalization of one token's features.

One vector x of D features is normalized with its own statistics, then scaled and shifted
per feature:

    μ = (1/D) Σ xᵢ,  σ² = (1/D) Σ (xᵢ − μ)²  (the biased variance),
    x̂ = (x − μ) / √(σ² + ε),  y = γ ⊙ x̂ + β,  L = Σ g ⊙ y

so g = ∂L/∂y is the gradient arriving from above. Asks ∂L/∂x[i], ∂L/∂γ[i] or ∂L/∂β[i].
The lesson of ∂L/∂x, as in batch norm but across features instead of across a batch:
μ and σ² depend on every xᵢ, so each xᵢ reaches L directly and through both.

By hand ε = 0 and x is drawn so that σ is a multiple of 0.5: no square roots.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    INDEX_NOTE,
    SMALLEST_ANSWER,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    draw,
    draws,
    extras_wanted,
    format_index,
    guided_steps,
    input_lines,
    json_inputs,
    random_index,
    resample,
    slips_apart,
    worked_solution,
)
from drill.exercises.normgraph import exact_sigma, held, statistic_notes
from drill.exercises.registry import BadParams
from drill.exercises.screening import first_accepted, resample_keeping

WRT = ("x", "gamma", "beta")
SIZES = (3, 4, 5, 6)
HAND_SIZE = 4
HAND_SIZES = (4, 5, 6)  # with 3 values on the 0.5 grid σ is never exact
HAND_TRIES = 20_000
CALC_EPS = 1e-5
MIN_VARIANCE = 0.25  # keeps 1/σ, and so the answer, moderate

PARAMS: dict[str, tuple[Any, ...]] = {"wrt": WRT, "features": SIZES}

DISPLAY = {"x": "x", "gamma": "γ", "beta": "β"}
CONVENTION = "y = gamma ⊙ (x − mean(x)) / sqrt(var(x) + eps) + beta, biased variance"
LOSS = "L = Σ g ⊙ y"


@dataclass(frozen=True)
class Setup:
    wrt: str
    size: int
    index: tuple[int, ...]
    eps: float


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    # ∂L/∂x is the interesting one: it weighs twice as much as γ or β.
    wrt = choose(rng, params, "wrt", ("x", "x", "gamma", "beta"))
    size = choose(rng, params, "features", (HAND_SIZE,) if hand else SIZES)
    if hand and size not in HAND_SIZES:
        raise BadParams(
            "layernorm-backward: by hand the features need 4, 5 or 6 values, so that σ can "
            "come out exact"
        )
    return Setup(wrt, size, random_index(rng, (size,)), 0.0 if hand else CALC_EPS)


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    D = setup.size
    if difficulty is Difficulty.HAND:
        x = first_accepted(rng, D, -2.0, 2.0, exact_sigma, HAND_TRIES)
    else:
        x = resample(
            rng, lambda r: draw(r, difficulty, (D,), -3.0, 3.0), lambda v: v.var() >= MIN_VARIANCE
        )
    gamma, beta, g = draws(
        rng, difficulty, ((D,), 0.5, 2.0, True), ((D,), -1.0, 1.0, False), ((D,), -2.0, 2.0, False)
    )
    return {"x": x, "gamma": gamma, "beta": beta, "g": g}


def _build(
    inputs: dict[str, Any], setup: Setup, frozen: Collection[str] = (), ddof: int = 0
) -> Tensor:
    """The loss node, its layer-norm nodes named for the trace.

    `frozen` holds "μ" and/or "σ²" constant, and `ddof` = 1 divides the variance by
    D − 1: both only to compute what a classic slip would give.
    """
    D = setup.size
    x = Tensor(inputs["x"], name="x")
    gamma = Tensor(inputs["gamma"], name="γ")
    beta = Tensor(inputs["beta"], name="β")
    g = Tensor(inputs["g"], name="g")
    x.backward_note = "∂L/∂d + (1/D) ∂L/∂μ"
    gamma.backward_note = "∂L/∂y ⊙ x̂"
    beta.backward_note = "∂L/∂y"
    mu = held(x.mean(), "μ" in frozen).named("μ", forward="(1/D) Σ xᵢ", backward="−Σᵢ ∂L/∂dᵢ")
    d = (x - mu).named("d", forward="x − μ", backward="∂L/∂x̂ / s + (2/D) d · ∂L/∂σ²")
    var = held((d**2).sum() / (D - ddof), "σ²" in frozen).named(
        "σ²", forward="(1/D) Σ dᵢ²", backward="∂L/∂s / (2s)"
    )
    s = engine.sqrt(var + setup.eps).named(
        "s", forward="√(σ² + ε)", backward="−Σᵢ ∂L/∂x̂ᵢ · dᵢ / s²"
    )
    xhat = (d / s).named("x̂", forward="d / s", backward="γ ⊙ ∂L/∂y")
    y = (gamma * xhat + beta).named("y", forward="γ ⊙ x̂ + β", backward="g")
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
    d = x - x.mean()
    y = inputs["gamma"] * d / np.sqrt((d**2).mean() + setup.eps) + inputs["beta"]
    return float((inputs["g"] * y).sum())


def _slips(inputs: dict[str, Any], setup: Setup, answer: float) -> dict[str, float]:
    """Likely wrong answers, each from the engine on a graph that repeats the slip."""
    slips = {"sign flipped": -answer}
    if setup.wrt == "beta":
        return slips_apart(slips, answer)
    slips["variance divided by D − 1 instead of D"] = _answer(inputs, setup, ddof=1)[1]
    if setup.wrt == "x":
        constants = {"μ", "σ²"}
        slips["μ and σ² treated as constants"] = _answer(inputs, setup, frozen=constants)[1]
        slips["the path through σ² forgotten"] = _answer(inputs, setup, frozen={"σ²"})[1]
    else:
        (i,) = setup.index
        slips["x used instead of x̂ (no normalization)"] = inputs["g"][i] * inputs["x"][i]
    return slips_apart(slips, answer)


def _not_needed(setup: Setup) -> set[str]:
    """Nodes a guided exercise does not ask: y (L is linear in it), and for ∂L/∂β = g
    the whole forward pass."""
    return {"μ", "d", "σ²", "s", "x̂", "y"} if setup.wrt == "beta" else {"y"}


def _question(setup: Setup, inputs: dict[str, Any]) -> str:
    eps_text = "ε = 0" if setup.eps == 0.0 else "ε = 10⁻⁵"
    wanted = DISPLAY[setup.wrt] + format_index(setup.index)
    shown = {"x": inputs["x"], "γ": inputs["gamma"], "β": inputs["beta"], "g": inputs["g"]}
    lines = [
        f"Layer normalization normalizes one token's D = {setup.size} features with their "
        "own statistics, then scales and shifts each feature:",
        "  μ = (1/D) Σᵢ xᵢ",
        "  σ² = (1/D) Σᵢ (xᵢ − μ)²   (the biased variance: divide by D, not D − 1)",
        f"  x̂ = (x − μ) / √(σ² + ε), with {eps_text}",
        "  y = γ ⊙ x̂ + β",
        "  L = Σᵢ gᵢ yᵢ, so g = ∂L/∂y is the gradient arriving from above",
        "μ and σ² are computed from x itself, so they depend on every xᵢ.",
        "Inputs:",
        *input_lines(shown),
        f"Compute ∂L/∂{wanted} {INDEX_NOTE}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    inputs, (loss, answer) = resample_keeping(
        rng, lambda r: _draw_inputs(r, difficulty, setup), lambda v: _judged(_answer(v, setup))
    )
    check_derivative(lambda v: _loss_value(v, setup), inputs, setup.wrt, setup.index, answer)
    notes = statistic_notes(loss, after_backward=True) if setup.wrt == "x" else {}
    wrt = DISPLAY[setup.wrt]
    solution = worked_solution(loss, wrt, setup.index, answer, notes)
    return Exercise(
        generator="layernorm-backward",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs),
        spec={
            "eps": setup.eps,
            "variance": "biased (divide by D)",
            "convention": CONVENTION,
            "loss": LOSS,
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=solution,
        slips=_slips(inputs, setup, answer) if extras_wanted() else {},
        steps=guided_steps(loss, wrt, setup.index, answer, skip=_not_needed(setup)),
    )
