"""rnn-bptt: backpropagation through time over two steps of a tanh RNN.

    a₁ = W h0 + U x1 + b,  h1 = tanh(a₁)
    a₂ = W h1 + U x2 + b,  h2 = tanh(a₂)
    L = ½ Σ (h2 − y)²

Vectors are columns; W (H×H) is the recurrent matrix, U (H×D) the input matrix. Asks
∂L/∂W[i, j], ∂L/∂U[i, j], ∂L/∂b[i] or ∂L/∂h0[i]. The lesson: W, U and b are shared
by both steps, so their gradients add a term from each step,
∂L/∂W = ∂L/∂a₂ h1ᵀ + ∂L/∂a₁ h0ᵀ, with ∂L/∂a₁ = (Wᵀ ∂L/∂a₂) ⊙ (1 − h1²).

By hand H = 2 and D = 1, and the question lists h1 and h2, which need tanh.
"""

from __future__ import annotations

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
    draw_all,
    extras_wanted,
    fmt,
    format_index,
    guided_steps,
    input_lines,
    json_inputs,
    named_nodes,
    pick,
    random_index,
    slips_apart,
    useful_values,
    worked_solution,
)
from drill.exercises.screening import resample_keeping

WRT = ("W", "U", "b", "h0")
SHARED = ("W", "U", "b")
# Each step's share of a shared weight's gradient is at least this fraction of the answer,
# so that leaving a step out is told apart from the answer at a 1% tolerance.
STEP_SHARE = 0.05
HAND_LIMIT = 2.0  # by hand |a| ≤ 2: tanh stays away from ±1, where 1 − h² loses digits

PARAMS: dict[str, tuple[Any, ...]] = {"wrt": WRT}


@dataclass(frozen=True)
class Setup:
    hidden: int
    inputs: int
    wrt: str
    index: tuple[int, ...]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        H, D = self.hidden, self.inputs
        return {"W": (H, H), "U": (H, D), "b": (H,), "h0": (H,), "x1": (D,), "x2": (D,)}


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    # The shared weights are the lesson: they come up three times as often as h0.
    wrt = choose(rng, params, "wrt", ("W", "W", "U", "b", "h0"))
    hidden, inputs = (2, 1) if hand else (pick(rng, (2, 3)), pick(rng, (1, 2)))
    shape = Setup(hidden, inputs, wrt, ()).shapes()[wrt]
    return Setup(hidden, inputs, wrt, random_index(rng, shape))


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    shapes = setup.shapes()
    wanted = (
        ("W", shapes["W"], -1.0, 1.0, True),
        ("U", shapes["U"], -1.0, 1.0, True),
        ("b", shapes["b"], -0.5, 0.5, False),
        ("h0", shapes["h0"], -1.0, 1.0, True),
        ("x1", shapes["x1"], -2.0, 2.0, True),
        ("x2", shapes["x2"], -2.0, 2.0, True),
        ("y", shapes["h0"], -1.0, 1.0, False),
    )
    return draw_all(rng, difficulty, wanted)


def _build(inputs: dict[str, Any], setup: Setup, untied: bool = False) -> Tensor:
    """The loss node, named for the trace.

    `untied` gives step 1 its own copies of W, U and b (leaves named W@1, U@1, b@1), so
    one backward pass tells each step's share of a shared weight's gradient apart.
    """
    leaves = {name: Tensor(value, name=name) for name, value in inputs.items()}
    W, U, b, h0 = leaves["W"], leaves["U"], leaves["b"], leaves["h0"]
    W.backward_note = "∂L/∂a2 h1ᵀ + ∂L/∂a1 h0ᵀ"
    U.backward_note = "∂L/∂a2 x2ᵀ + ∂L/∂a1 x1ᵀ"
    b.backward_note = "∂L/∂a2 + ∂L/∂a1"
    h0.backward_note = "Wᵀ ∂L/∂a1"
    if untied:
        W1, U1, b1 = (Tensor(leaves[name].value, name=f"{name}@1") for name in SHARED)
    else:
        W1, U1, b1 = W, U, b
    a1 = (W1 @ h0 + U1 @ leaves["x1"] + b1).named(
        "a1", forward="W h0 + U x1 + b", backward="∂L/∂h1 ⊙ (1 − h1²)"
    )
    h1 = engine.tanh(a1).named("h1", forward="tanh(a1)", backward="Wᵀ ∂L/∂a2")
    a2 = (W @ h1 + U @ leaves["x2"] + b).named(
        "a2", forward="W h1 + U x2 + b", backward="∂L/∂h2 ⊙ (1 − h2²)"
    )
    h2 = engine.tanh(a2).named("h2", forward="tanh(a2)", backward="h2 − y")
    return engine.half_sse(h2, leaves["y"]).named("L", forward="½ Σ (h2 − y)²")


def _answer(inputs: dict[str, Any], setup: Setup) -> tuple[Tensor, float]:
    loss = _build(inputs, setup)
    return loss, asked_gradient(loss, setup.wrt, setup.index)


def _answer_and_shares(
    inputs: dict[str, Any], setup: Setup
) -> tuple[Tensor, float, tuple[float, float]]:
    """The answer's graph after its backward pass, the answer, and (share of step 1,
    share of step 2) in it; for h0, which only step 1 reads, (the answer, 0).

    Each step's share of a shared weight's gradient is the one product its step's matmul
    (or sum, for b) adds into it: ∂L/∂a₂ times h1 or x2 at step 2, ∂L/∂a₁ times h0 or x1
    at step 1. So the answer's own graph tells them apart, as an untied graph's backward
    pass does (`_build(untied=True)`, which a test compares with this)."""
    loss, answer = _answer(inputs, setup)
    nodes = named_nodes(loss)
    if setup.wrt not in SHARED:
        return loss, answer, (answer, 0.0)
    i = setup.index[0]
    grads = (nodes["a1"].grad[i], nodes["a2"].grad[i])
    if setup.wrt == "b":
        factors = (1.0, 1.0)
    else:
        j = setup.index[1]
        read = ("h0", "h1") if setup.wrt == "W" else ("x1", "x2")
        factors = tuple(nodes[name].value[j] for name in read)
    # 0.0 + …: the gradient a backward pass starts from, as the untied graph's leaves.
    step1, step2 = (float(0.0 + grad * factor) for grad, factor in zip(grads, factors, strict=True))
    return loss, answer, (step1, step2)


def _slips(
    loss: Tensor, setup: Setup, answer: float, shares: tuple[float, float]
) -> dict[str, float]:
    """Likely wrong answers, from the graph of the answer after its backward pass (which
    one of them changes: read the solution off the graph first)."""
    slips = {"sign flipped": -answer}
    nodes = named_nodes(loss)
    step1, step2 = shares
    if setup.wrt in SHARED:
        slips["only the last step (the weights are used at both steps)"] = step2
        slips["only the first step"] = step1
    # tanh′ left out at step 1: ∂L/∂h1 passed straight to a1, then step 2's own share.
    nodes["a1"].backward(seed=nodes["h1"].grad.copy())
    grad = float(nodes[setup.wrt].grad[setup.index])
    slips["1 − h1² left out at step 1"] = grad + (step2 if setup.wrt in SHARED else 0.0)
    return slips_apart(slips, answer)


def _pre_activations(inputs: dict[str, Any]) -> np.ndarray:
    """a1 and a2, with NumPy alone (cheap enough to screen every draw)."""
    W, U, b = (np.asarray(inputs[name]) for name in SHARED)
    a1 = W @ np.asarray(inputs["h0"]) + U @ np.asarray(inputs["x1"]) + b
    a2 = W @ np.tanh(a1) + U @ np.asarray(inputs["x2"]) + b
    return np.concatenate([a1, a2])


def _loss_value(inputs: dict[str, Any]) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    a2 = _pre_activations(inputs)[len(inputs["b"]) :]
    return float(0.5 * ((np.tanh(a2) - inputs["y"]) ** 2).sum())


def _hand_values(loss: Tensor) -> list[tuple[str, float]]:
    nodes = named_nodes(loss)
    values = []
    for name in ("h1", "h2"):
        values += [(f"{name}[{i}]", float(v)) for i, v in enumerate(nodes[name].value)]
    return values


def _question(setup: Setup, inputs: dict[str, Any], hint: str) -> str:
    H, D = setup.hidden, setup.inputs
    lines = [
        f"A tanh recurrent network, run for two steps; vectors are columns, hidden size "
        f"{H}, input size {D}:",
        "  a1 = W h0 + U x1 + b,   h1 = tanh(a1)",
        "  a2 = W h1 + U x2 + b,   h2 = tanh(a2)",
        "  L = ½ Σᵢ (h2ᵢ − yᵢ)²",
        "The same W, U and b are used at both steps.",
        "Inputs:",
        *input_lines(inputs),
        *([hint] if hint else []),
        f"Compute ∂L/∂{setup.wrt}{format_index(setup.index)} {INDEX_NOTE}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    hand = difficulty is Difficulty.HAND

    def judge(inputs: dict) -> tuple[bool, Any]:
        if hand and (np.abs(_pre_activations(inputs)) > HAND_LIMIT).any():
            return False, None
        built = _answer_and_shares(inputs, setup)
        shares = built[2]
        answer = sum(shares)
        if abs(answer) < SMALLEST_ANSWER:
            return False, built
        # Both steps must count for a shared weight, or forgetting one goes unpunished.
        smallest = max(STEP_SHARE * abs(answer), SMALLEST_ANSWER / 2)
        return setup.wrt not in SHARED or min(map(abs, shares)) > smallest, built

    inputs, (loss, answer, shares) = resample_keeping(
        rng, lambda r: _draw_inputs(r, difficulty, setup), judge
    )
    check_derivative(_loss_value, inputs, setup.wrt, setup.index, answer)
    notes = {}
    if setup.wrt in SHARED:
        step1, step2 = shares
        notes[setup.wrt] = (
            f"{setup.wrt} is used at both steps: entry {format_index(setup.index)} gets "
            f"{fmt(step2, 6)} from step 2 and {fmt(step1, 6)} from step 1"
        )
    solution = worked_solution(loss, setup.wrt, setup.index, answer, notes)
    steps = guided_steps(loss, setup.wrt, setup.index, answer)
    hint = useful_values(_hand_values(loss)) if hand else ""
    return Exercise(
        generator="rnn-bptt",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, hint),
        spec={
            "steps": 2,
            "activation": "tanh",
            "convention": "a_t = W h_(t−1) + U x_t + b, h_t = tanh(a_t), t = 1, 2",
            "loss": "L = ½ Σ (h2 − y)²",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=solution,
        slips=_slips(loss, setup, answer, shares) if extras_wanted() else {},
        steps=steps,
    )
