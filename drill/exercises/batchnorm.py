"""batchnorm-backward: a gradient through batch normalization in training mode.

One feature over a mini-batch of m scalars: μ = (1/m) Σ xᵢ, σ² = (1/m) Σ (xᵢ − μ)² (the
biased variance), x̂ᵢ = (xᵢ − μ) / √(σ² + ε), yᵢ = γ x̂ᵢ + β, then a stated loss on y.
Asks ∂L/∂x[j], ∂L/∂γ or ∂L/∂β. The lesson of ∂L/∂x: μ and σ² are computed from the
batch, so each xᵢ reaches L directly and through both statistics.

By hand ε = 0 and the batch is drawn so that σ is a multiple of 0.5: no square roots.
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
    distinct_slips,
    draw,
    draws,
    extras_wanted,
    fmt,
    fmt_array,
    format_index,
    json_inputs,
    random_index,
    resample,
    worked_solution,
)
from drill.exercises.normgraph import exact_sigma, held, statistic_notes
from drill.exercises.registry import BadParams
from drill.exercises.screening import first_accepted, resample_keeping

LOSSES = ("linear", "squared")
WRT = ("x", "gamma", "beta")
BATCHES = (3, 4, 5, 6)
# By hand σ must come out exact; with a batch of 3 on the 0.5 grid it never does.
HAND_BATCHES = (4, 5, 6)
HAND_TRIES = 20_000  # about 1 draw in 150 has an exact σ, so this never runs out
CALC_EPS = 1e-5
MIN_VARIANCE = 0.25  # a calc batch this spread out keeps 1/σ and the answer moderate

PARAMS: dict[str, tuple[Any, ...]] = {"loss": LOSSES, "wrt": WRT, "batch": BATCHES}

DISPLAY = {"x": "x", "gamma": "γ", "beta": "β"}
TARGET = {"linear": "c", "squared": "t"}
LOSS_TEXT = {
    "linear": "L = Σᵢ cᵢ yᵢ, a fixed linear read-out of the normalized batch, with weights c",
    "squared": "L = ½ Σᵢ (yᵢ − tᵢ)², with targets t",
}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
LOSS_GRADIENT = {"linear": "c", "squared": "y − t"}
# The loss exactly, for the JSON: "squared" is half the sum of squares, never Σ (y − t)².
LOSS_FORMULA = {"linear": "L = Σᵢ cᵢ yᵢ", "squared": "L = ½ Σᵢ (yᵢ − tᵢ)²"}


@dataclass(frozen=True)
class Setup:
    loss: str
    wrt: str
    batch: int
    index: tuple[int, ...]
    eps: float

    @property
    def target(self) -> str:
        return TARGET[self.loss]


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    loss = choose(rng, params, "loss", LOSSES)
    # ∂L/∂x is the interesting one: it weighs twice as much as γ or β.
    wrt = choose(rng, params, "wrt", ("x", "x", "gamma", "beta"))
    batch = choose(rng, params, "batch", (4,) if hand else BATCHES)
    if hand and batch not in HAND_BATCHES:
        raise BadParams(
            f"batchnorm-backward: by hand the batch needs {', '.join(map(str, HAND_BATCHES))} "
            "values, so that σ can come out exact"
        )
    index = random_index(rng, (batch,)) if wrt == "x" else ()
    return Setup(loss, wrt, batch, index, 0.0 if hand else CALC_EPS)


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    m, hand = setup.batch, difficulty is Difficulty.HAND
    if hand:
        x = first_accepted(rng, m, -2.0, 2.0, exact_sigma, HAND_TRIES)
    else:
        x = resample(rng, lambda r: draw(r, difficulty, (m,), -3.0, 3.0), _spread_out)
    gamma, beta, target = draws(
        rng, difficulty, ((), 0.5, 2.0, True), ((), -1.0, 1.0, False), ((m,), -2.0, 2.0, False)
    )
    return {"x": x, "gamma": gamma, "beta": beta, setup.target: target}


def _spread_out(x: np.ndarray) -> bool:
    return bool(x.var() >= MIN_VARIANCE)


def _build(
    inputs: dict[str, Any], setup: Setup, frozen: Collection[str] = (), ddof: int = 0
) -> Tensor:
    """The loss node, its batch-norm nodes named for the trace.

    `frozen` holds "μ" and/or "σ²" constant, and `ddof` = 1 divides the variance by
    m − 1: both only to compute what a classic slip would give.
    """
    m = setup.batch
    x = Tensor(inputs["x"], name="x")
    gamma = Tensor(inputs["gamma"], name="γ")
    beta = Tensor(inputs["beta"], name="β")
    target = Tensor(inputs[setup.target], name=setup.target)
    x.backward_note = "∂L/∂d + (1/m) ∂L/∂μ"
    gamma.backward_note = "Σᵢ ∂L/∂yᵢ · x̂ᵢ"
    beta.backward_note = "Σᵢ ∂L/∂yᵢ"
    mu = held(x.mean(), "μ" in frozen).named("μ", forward="(1/m) Σ xᵢ", backward="−Σᵢ ∂L/∂dᵢ")
    d = (x - mu).named("d", forward="x − μ", backward="∂L/∂x̂ / s + (2/m) d · ∂L/∂σ²")
    var = held((d**2).sum() / (m - ddof), "σ²" in frozen).named(
        "σ²", forward="(1/m) Σ dᵢ²", backward="∂L/∂s / (2s)"
    )
    s = engine.sqrt(var + setup.eps).named(
        "s", forward="√(σ² + ε)", backward="−Σᵢ ∂L/∂x̂ᵢ · dᵢ / s²"
    )
    xhat = (d / s).named("x̂", forward="d / s", backward="γ ∂L/∂y")
    y = (gamma * xhat + beta).named("y", forward="γ x̂ + β", backward=LOSS_GRADIENT[setup.loss])
    if setup.loss == "linear":
        return (target * y).sum().named("L", forward="Σ c y")
    return engine.half_sse(y, target).named("L", forward="½ Σ (y − t)²")


def _answer(inputs: dict[str, Any], setup: Setup, **variant: Any) -> tuple[Tensor, float]:
    loss = _build(inputs, setup, **variant)
    return loss, asked_gradient(loss, DISPLAY[setup.wrt], setup.index)


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    x = np.asarray(inputs["x"], dtype=np.float64)
    d = x - x.mean()
    y = inputs["gamma"] * d / np.sqrt((d**2).mean() + setup.eps) + inputs["beta"]
    target = inputs[setup.target]
    if setup.loss == "linear":
        return float((target * y).sum())
    return float(0.5 * ((y - target) ** 2).sum())


def _judged(built: tuple[Tensor, float]) -> tuple[bool, tuple[Tensor, float]]:
    """A draw's graph and answer, and whether the answer is large enough to teach."""
    return abs(built[1]) >= SMALLEST_ANSWER, built


def _slips(inputs: dict[str, Any], setup: Setup, answer: float) -> dict[str, float]:
    """Likely wrong answers, each from the engine on a graph that repeats the slip."""
    slips = {"sign flipped": -answer}
    if setup.wrt == "beta":
        return distinct_slips(slips, answer)
    slips["variance divided by m − 1 instead of m"] = _answer(inputs, setup, ddof=1)[1]
    if setup.wrt == "x":
        constants = {"μ", "σ²"}
        slips["μ and σ² treated as constants"] = _answer(inputs, setup, frozen=constants)[1]
        slips["the path through σ² forgotten"] = _answer(inputs, setup, frozen={"σ²"})[1]
    return distinct_slips(slips, answer)


def _question(setup: Setup, inputs: dict[str, Any]) -> str:
    m, eps = setup.batch, setup.eps
    eps_text = "ε = 0" if eps == 0.0 else "ε = 10⁻⁵"
    wanted = DISPLAY[setup.wrt] + format_index(setup.index)
    note = f" {INDEX_NOTE}" if setup.index else ""
    lines = [
        f"Batch normalization in training mode normalizes one feature over a mini-batch of "
        f"m = {m} values x₀, …, x{str(m - 1).translate(SUBSCRIPTS)} with the batch's own "
        "statistics:",
        "  μ = (1/m) Σᵢ xᵢ",
        "  σ² = (1/m) Σᵢ (xᵢ − μ)²   (the biased variance: divide by m, not m − 1)",
        f"  x̂ᵢ = (xᵢ − μ) / √(σ² + ε), with {eps_text}",
        "  yᵢ = γ x̂ᵢ + β",
        "  " + LOSS_TEXT[setup.loss],
        "μ and σ² are computed from this batch, so they depend on every xᵢ.",
        "Inputs:",
        f"  x = {fmt_array(inputs['x'])}",
        f"  γ = {fmt(inputs['gamma'])}",
        f"  β = {fmt(inputs['beta'])}",
        f"  {setup.target} = {fmt_array(inputs[setup.target])}",
        f"Compute ∂L/∂{wanted}{note}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    inputs, (loss, answer) = resample_keeping(
        rng,
        lambda r: _draw_inputs(r, difficulty, setup),
        # A zero gradient (e.g. ∂L/∂β when the cᵢ cancel) teaches little; draw again.
        lambda v: _judged(_answer(v, setup)),
    )
    check_derivative(lambda v: _loss_value(v, setup), inputs, setup.wrt, setup.index, answer)
    notes = statistic_notes(loss, after_backward=True) if setup.wrt == "x" else {}
    solution = worked_solution(loss, DISPLAY[setup.wrt], setup.index, answer, notes)
    return Exercise(
        generator="batchnorm-backward",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs),
        spec={
            "loss": setup.loss,
            "loss_formula": LOSS_FORMULA[setup.loss],
            "eps": setup.eps,
            "variance": "biased (divide by m)",
            "mode": "training",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=solution,
        slips=_slips(inputs, setup, answer) if extras_wanted() else {},
    )
