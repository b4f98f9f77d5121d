"""adam-step and sgd-momentum: one optimizer update of a small linear model's weights.

The gradient is the engine's backward pass through a stated loss, checked against
central differences; the update rule, written out in the question, is then applied to
the one component asked for. The asked number is the new weight, and since a step can
be small next to the weight itself, an answer counts when it is within 1% of the step.
By hand, a later Adam step lists β1^t, β2^t and √v̂, the values that need a calculator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from drill.engine import Tensor, half_sse, trace
from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.common import (
    INDEX_NOTE,
    backward_lines,
    check_derivative,
    choose,
    distinct_slips,
    draw,
    draws,
    fmt,
    forward_lines,
    input_lines,
    json_inputs,
    names_between,
    pick,
    resample,
    useful_values,
)
from drill.exercises.screening import resample_keeping

PARAMS_BY_NAME = {
    "adam-step": {"step": ("first", "later")},
    "sgd-momentum": {"weight_decay": (True, False)},
}

STEP_SHARE = 0.01  # an answer is right within this share of the step's size
DISPLAY_SHARE = 1e-5


# --- the shared loss: a linear model on one example --------------------------------------


def regression_loss(values: Mapping[str, Any], decay: float = 0.0) -> tuple[Tensor, Tensor]:
    """L = ½(w·x − y)² (+ (λ/2)‖w‖² when `decay` λ > 0), as named engine nodes; (L, w)."""
    w = Tensor(values["w"]).named("w", backward=_w_rule(decay))
    x, y = Tensor(values["x"], "x"), Tensor(values["y"], "y")
    prediction = (w @ x).named("ŷ", forward="w·x", backward="ŷ − y")
    if decay == 0.0:
        return half_sse(prediction, y).named("L", forward="½(ŷ − y)²"), w
    error = half_sse(prediction, y).named("E", forward="½(ŷ − y)²")
    penalty = (0.5 * decay * (w**2).sum()).named("R", forward="(λ/2)·‖w‖²")
    return (error + penalty).named("L", forward="E + R"), w


def _w_rule(decay: float) -> str:
    return "(ŷ − y)·x + λ·w" if decay else "(ŷ − y)·x"


def _loss_text(decay: float) -> str:
    if decay:
        return f"L = ½(ŷ − y)² + (λ/2)·‖w‖² with ŷ = w·x and λ = {fmt(decay)}"
    return "L = ½(ŷ − y)² with ŷ = w·x"


@dataclass(frozen=True)
class Problem:
    values: dict[str, np.ndarray]  # w, x, y
    grad: np.ndarray  # ∂L/∂w from the engine
    solution: list[str]  # forward and backward lines from the trace


class Drawn(NamedTuple):
    """Values drawn for the linear model, with the graph that judged them after its
    backward pass, and ∂L/∂w from it: what `_solve` needs, built once."""

    values: dict[str, np.ndarray]  # w, x, y
    loss: Tensor
    grad: np.ndarray


def _draw_values(rng: np.random.Generator, difficulty: Difficulty, decay: float) -> Drawn:
    """w, x and y with every component of ∂L/∂w clearly away from 0 (each step has a sign)."""
    size = 2 if difficulty is Difficulty.HAND else 3
    floor = 0.25 if difficulty is Difficulty.HAND else 0.05

    def draw_once(r: np.random.Generator) -> dict[str, np.ndarray]:
        w, x, y = draws(
            r,
            difficulty,
            ((size,), -2.0, 2.0, True),
            ((size,), -2.0, 2.0, True),
            ((), -2.0, 2.0, False),
        )
        return {"w": w, "x": x, "y": y}

    def judge(values: dict[str, np.ndarray]) -> tuple[bool, tuple[Tensor, np.ndarray]]:
        loss, w = regression_loss(values, decay)
        loss.backward()
        grad = w.grad.copy()
        return bool((np.abs(grad) >= floor).all()), (loss, grad)

    values, (loss, grad) = resample_keeping(rng, draw_once, judge)
    return Drawn(values, loss, grad)


def _loss_value(values: Mapping[str, Any], decay: float) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    w = np.asarray(values["w"])
    error = float(w @ values["x"] - values["y"])
    return 0.5 * error**2 + 0.5 * decay * float((w**2).sum())


def _solve(drawn: Drawn, decay: float) -> Problem:
    """The engine's gradient, checked by central differences, with its worked lines."""
    values, loss, grad = drawn
    for i in range(grad.size):
        check_derivative(lambda v: _loss_value(v, decay), values, "w", (i,), float(grad[i]))
    entries = trace(loss)
    path = names_between(loss, "w")
    return Problem(values, grad, [*forward_lines(entries), *backward_lines(entries, "w", path)])


def _exercise(
    name: str,
    difficulty: Difficulty,
    problem: Problem,
    index: int,
    new_value: float,
    *,
    question: str,
    spec: dict[str, Any],
    state: Mapping[str, np.ndarray],
    update: list[str],
    slips: Mapping[str, float],
) -> Exercise:
    """The exercise asking for the new w[index]; graded to within 1% of the step."""
    new_value, old = float(new_value), float(problem.values["w"][index])
    # The floor keeps the answer shown to 6 significant figures right when steps are tiny.
    tolerance = max(STEP_SHARE * abs(new_value - old), DISPLAY_SHARE * abs(new_value), 1e-9)
    # A slip the grader would accept as right explains nothing.
    telling = {text: v for text, v in slips.items() if abs(v - new_value) > 2 * tolerance}
    return Exercise(
        generator=name,
        seed=0,
        difficulty=difficulty,
        question=question,
        spec=spec,
        inputs=json_inputs({**problem.values, **state}),
        asked={"value": "w_new", "index": [index]},
        answer=new_value,
        tolerance=Tolerance(rel=0.0, abs=tolerance),
        solution=[*problem.solution, *update],
        slips=distinct_slips(telling, new_value),
    )


def _factor(x: float, digits: int = 6) -> str:
    """A number as a factor or addend: negatives in parentheses, "0.5·(-1)"."""
    text = fmt(x, digits)
    return f"({text})" if text.startswith("-") else text


def _ask(index: int) -> str:
    return (
        f"What is the new value of w[{index}] {INDEX_NOTE}? "
        "An answer within 1% of the step's size counts."
    )


# --- adam-step ---------------------------------------------------------------------------

ADAM_RULES = [
    "  m ← β1·m + (1 − β1)·g",
    "  v ← β2·v + (1 − β2)·g²",
    "  m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)",
    "  w ← w − η·m̂ / (√v̂ + ε)",
]
EPS_TEXT = "1e-8"
# β2^t lies close to 1 and 1 − β2^t is what counts, so the hint keeps one more figure.
ADAM_HINT_DIGITS = 6


@dataclass(frozen=True)
class AdamUpdate:
    """One Adam update of one component: what went in and every intermediate."""

    w: float
    g: float
    m_old: float
    v_old: float
    m: float
    v: float
    m_hat: float
    v_hat: float
    w_new: float


@dataclass(frozen=True)
class Adam:
    lr: float
    t: int
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def update(self, w: float, g: float, m_old: float, v_old: float) -> AdamUpdate:
        """One component's update, by the rules written in the question."""
        w, g, m_old, v_old = float(w), float(g), float(m_old), float(v_old)
        m = self.beta1 * m_old + (1 - self.beta1) * g
        v = self.beta2 * v_old + (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1**self.t)
        v_hat = v / (1 - self.beta2**self.t)
        w_new = w - self.lr * m_hat / (math.sqrt(v_hat) + self.eps)
        return AdamUpdate(w, g, m_old, v_old, m, v, m_hat, v_hat, w_new)

    def to_spec(self) -> dict[str, Any]:
        return {
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "lr": self.lr,
            "t": self.t,
            "loss": _loss_text(0.0),
            "rule": " ; ".join(rule.strip() for rule in ADAM_RULES),
        }


def adam_step(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    # At t = 1 the step is ±η whatever the gradient, so most exercises come later.
    first = choose(rng, params, "step", ("first", "later", "later")) == "first"
    problem = _solve(_draw_values(rng, difficulty, 0.0), 0.0)
    size = problem.grad.size
    if first:
        t, m, v = 1, np.zeros(size), np.zeros(size)
    else:
        t = int(rng.integers(2, 6 if hand else 21))
        m, v = _moments_after(rng, difficulty, problem.grad, t - 1)
    adam = Adam(lr=pick(rng, (0.5, 0.25, 0.1) if hand else (0.1, 0.05, 0.01)), t=t)
    i = int(rng.integers(size))
    update = adam.update(float(problem.values["w"][i]), float(problem.grad[i]), m[i], v[i])
    return _exercise(
        "adam-step",
        difficulty,
        problem,
        i,
        update.w_new,
        question=_adam_question(problem, adam, {"m": m, "v": v}, i, _adam_hint(adam, update, hand)),
        spec=adam.to_spec(),
        state={"m": m, "v": v},
        update=_adam_lines(adam, update, i),
        slips=_adam_slips(adam, update),
    )


MOMENT_DIGITS = 4  # significant figures of m and v: the question prints them exactly


def _moments_after(
    rng: np.random.Generator, difficulty: Difficulty, grad: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """m and v after `steps` earlier Adam steps, from zero, on gradients of today's scale:
    the moments a real run would carry, rounded to what the question shows."""
    adam = Adam(lr=0.0, t=1)
    m, v = np.zeros_like(grad), np.zeros_like(grad)
    # Each earlier gradient is g times a factor in [−1, 2] other than 1: with a constant
    # gradient m̂/√v̂ would be ±1 and the step ±η again, whatever the gradient.
    factors = draw(rng, difficulty, (steps, grad.size), -1.0, 2.0, nonzero=True)
    factors = np.where(factors == 1.0, 1.5, factors)
    for earlier in grad * factors:
        m = adam.beta1 * m + (1 - adam.beta1) * earlier
        v = adam.beta2 * v + (1 - adam.beta2) * earlier**2
    return _shown(m), _shown(v)


def _shown(values: np.ndarray) -> np.ndarray:
    return np.array([float(f"{x:.{MOMENT_DIGITS}g}") for x in values])


def _adam_hint(adam: Adam, u: AdamUpdate, hand: bool) -> str:
    """β1^t, β2^t and √v̂ by hand, after the first step (at t = 1, √v̂ = |g|)."""
    if not hand or adam.t == 1:
        return ""
    t = adam.t
    values = [
        (f"β1^t = {adam.beta1}^{t}", adam.beta1**t),
        (f"β2^t = {adam.beta2}^{t}", adam.beta2**t),
        (f"√v̂ = √{fmt(u.v_hat, ADAM_HINT_DIGITS)}", math.sqrt(u.v_hat)),
    ]
    return useful_values(values, ADAM_HINT_DIGITS)


def _adam_question(
    problem: Problem, adam: Adam, moments: Mapping[str, np.ndarray], index: int, hint: str
) -> str:
    if adam.t == 1:
        state = "This is its first step, t = 1, with m and v starting at zero."
        lines = input_lines(problem.values)
    else:
        state = (
            f"This is step t = {adam.t}; m and v above are the moments the {adam.t - 1} "
            "earlier steps left (from m = v = 0)."
        )
        lines = input_lines({**problem.values, **moments})
    return "\n".join(
        [
            f"A linear model is trained on one example with the loss {_loss_text(0.0)}:",
            *lines,
            f"Adam updates w with g = ∂L/∂w, elementwise (β1 = {adam.beta1}, "
            f"β2 = {adam.beta2}, ε = {EPS_TEXT}, learning rate η = {fmt(adam.lr)}):",
            *ADAM_RULES,
            state,
            *([hint] if hint else []),
            _ask(index),
        ]
    )


def _adam_lines(adam: Adam, u: AdamUpdate, i: int) -> list[str]:
    b1, b2, t = adam.beta1, adam.beta2, adam.t
    return [
        f"Adam step t = {t} on component {i}, with g = {fmt(u.g, 6)}:",
        f"  m = {b1}·{_factor(u.m_old)} + {fmt(1 - b1)}·{_factor(u.g)} = {fmt(u.m, 6)}",
        f"  v = {b2}·{_factor(u.v_old)} + {fmt(1 - b2)}·{_factor(u.g)}² = {fmt(u.v, 6)}",
        f"  m̂ = {fmt(u.m, 6)} / (1 − {b1}^{t}) = {fmt(u.m_hat, 6)}",
        f"  v̂ = {fmt(u.v, 6)} / (1 − {b2}^{t}) = {fmt(u.v_hat, 6)}",
        f"  w[{i}] = {fmt(u.w)} − {fmt(adam.lr)}·{_factor(u.m_hat)} / "
        f"(√{fmt(u.v_hat, 6)} + {EPS_TEXT}) = {fmt(u.w_new, 6)}",
    ]


def _adam_slips(adam: Adam, u: AdamUpdate) -> dict[str, float]:
    return {
        "bias correction left out": u.w - adam.lr * u.m / (math.sqrt(u.v) + adam.eps),
        "step added instead of subtracted": 2 * u.w - u.w_new,
        "plain gradient step w − η·g": u.w - adam.lr * u.g,
        "square root of v̂ left out": u.w - adam.lr * u.m_hat / (u.v_hat + adam.eps),
    }


# --- sgd-momentum ------------------------------------------------------------------------

SGD_RULES = ["  v ← μ·v + (g + λ·w)", "  w ← w − η·v"]
# The momentum and the decay must each change the step by at least this share, or the
# exercise would not test them (the grader allows 1%).
TELLING_SHARE = 0.05


@dataclass(frozen=True)
class Momentum:
    mu: float
    decay: float
    lr: float

    def velocity(self, v_old: float, g_total: float) -> float:
        """The new buffer; `g_total` = g + λ·w, the gradient of the penalized loss."""
        return self.mu * v_old + g_total

    def new_weight(self, w: float, v_new: float) -> float:
        return w - self.lr * v_new

    def to_spec(self) -> dict[str, Any]:
        return {
            "momentum": self.mu,
            "weight_decay": self.decay,
            "lr": self.lr,
            "loss": _loss_text(self.decay),
            "rule": " ; ".join(rule.strip() for rule in SGD_RULES),
        }


def sgd_momentum(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    decayed = params.get("weight_decay", True)
    sgd = Momentum(
        mu=pick(rng, (0.5,) if hand else (0.9, 0.95, 0.99)),
        decay=pick(rng, (0.5, 0.25) if hand else (0.1, 0.05, 0.01)) if decayed else 0.0,
        lr=pick(rng, (0.5, 0.1) if hand else (0.1, 0.05, 0.01)),
    )
    i = int(rng.integers(2 if hand else 3))

    def draw_once(r: np.random.Generator) -> tuple[Drawn, np.ndarray]:
        drawn = _draw_values(r, difficulty, sgd.decay)
        return drawn, draw(r, difficulty, drawn.values["w"].shape, -1.0, 1.0, nonzero=True)

    def telling(candidate: tuple[Drawn, np.ndarray]) -> bool:
        drawn, v_old = candidate
        v_new = abs(sgd.velocity(v_old[i], drawn.grad[i]))
        carried, decayed_part = abs(sgd.mu * v_old[i]), abs(sgd.decay * drawn.values["w"][i])
        return bool(
            v_new > 0
            and carried >= TELLING_SHARE * v_new
            and (sgd.decay == 0 or decayed_part >= TELLING_SHARE * v_new)
        )

    drawn, velocity = resample(rng, draw_once, telling)
    problem = _solve(drawn, sgd.decay)
    w, g_total, v_old = (float(a[i]) for a in (problem.values["w"], problem.grad, velocity))
    v_new = sgd.velocity(v_old, g_total)  # the engine's gradient already holds λ·w
    w_new = sgd.new_weight(w, v_new)
    return _exercise(
        "sgd-momentum",
        difficulty,
        problem,
        i,
        w_new,
        question=_sgd_question(problem, velocity, sgd, i),
        spec=sgd.to_spec(),
        state={"v": velocity},
        update=_sgd_lines(sgd, i, w, g_total, v_old, v_new, w_new),
        slips=_sgd_slips(sgd, w, g_total, v_old, w_new),
    )


def _sgd_question(problem: Problem, velocity: np.ndarray, sgd: Momentum, index: int) -> str:
    if sgd.decay:
        gradient = (
            f"L2 weight decay λ = {fmt(sgd.decay)} enters through the gradient: with "
            "g = ∂(½(ŷ − y)²)/∂w, the momentum buffer takes g + λ·w, which is ∂L/∂w of the "
            "loss above."
        )
    else:
        gradient = "There is no weight decay (λ = 0), so g + λ·w is just g = ∂L/∂w."
    return "\n".join(
        [
            f"A linear model is trained on one example with the loss {_loss_text(sgd.decay)}:",
            *input_lines({**problem.values, "v": velocity}),
            f"SGD with momentum μ = {fmt(sgd.mu)} and learning rate η = {fmt(sgd.lr)} updates w "
            "elementwise, v being the momentum buffer above:",
            *SGD_RULES,
            gradient,
            _ask(index),
        ]
    )


def _sgd_lines(
    sgd: Momentum, i: int, w: float, g_total: float, v_old: float, v_new: float, w_new: float
) -> list[str]:
    return [
        f"Momentum step on component {i}, with g + λ·w = ∂L/∂w[{i}] = {fmt(g_total, 6)}:",
        f"  v = {fmt(sgd.mu)}·{_factor(v_old)} + {_factor(g_total)} = {fmt(v_new, 6)}",
        f"  w[{i}] = {fmt(w)} − {fmt(sgd.lr)}·{_factor(v_new)} = {fmt(w_new, 6)}",
    ]


def _sgd_slips(
    sgd: Momentum, w: float, g_total: float, v_old: float, w_new: float
) -> dict[str, float]:
    g = g_total - sgd.decay * w  # the gradient of ½(ŷ − y)² alone
    return {
        "weight decay left out": sgd.new_weight(w, sgd.velocity(v_old, g)),
        "weight decay subtracted instead of added": sgd.new_weight(
            w, sgd.velocity(v_old, g - sgd.decay * w)
        ),
        "old velocity left out (plain SGD)": sgd.new_weight(w, g_total),
        "momentum μ not applied to the old velocity": sgd.new_weight(w, v_old + g_total),
        "step added instead of subtracted": 2 * w - w_new,
    }


GENERATE: dict[str, Callable[..., Exercise]] = {
    "adam-step": adam_step,
    "sgd-momentum": sgd_momentum,
}
