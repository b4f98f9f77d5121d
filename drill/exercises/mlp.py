"""mlp-backward: one weight or bias gradient in a network with one hidden layer.

z1 = W1 x + b1, h1 = f(z1), z2 = W2 h1 + b2 (the output is linear), then a loss on z2.
Inputs keep fixed names (x, W1, b1, W2, b2, y) so anyone can recheck an exercise.

By hand the default is a ReLU network with a squared error. A deck may pin σ, tanh or a
softmax output: the question then lists the values of σ, tanh and e^ that the work
needs, and σ or tanh inputs stay within ±3, where their rounded values keep f′ accurate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    INDEX_NOTE,
    SMALLEST_ANSWER,
    DrawPlan,
    Walk,
    activation_text,
    activation_values,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    clear_of_kinks,
    derivative_note,
    distinct_slips,
    draw_plan,
    extras_wanted,
    format_index,
    input_lines,
    json_inputs,
    one_hot,
    random_index,
    resample,
    solution_from,
    steps_from,
    tabulate,
    unsaturated,
    useful_values,
    walk,
)
from drill.exercises.registry import BadParams

ACTIVATIONS = ("relu", "sigmoid", "tanh")
LOSSES = ("mse", "half_sse", "cross_entropy")
PARAMETERS = ("W1", "b1", "W2", "b2")
SIZES = (1, 2, 3, 4)

PARAMS: dict[str, tuple[Any, ...]] = {
    "activation": ACTIVATIONS,
    "loss": LOSSES,
    "wrt": PARAMETERS,
    "inputs": SIZES,
    "hidden": SIZES,
    "outputs": SIZES,
}

LOSS_TEXT = {
    "mse": "L = (1/n) Σᵢ (z2ᵢ − yᵢ)², the mean squared error over the n = {n} output(s)",
    "half_sse": "L = ½ Σᵢ (z2ᵢ − yᵢ)²",
    "cross_entropy": (
        "L = −Σᵢ yᵢ log softmax(z2)ᵢ, with softmax(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), "
        "natural log, and y one-hot"
    ),
}
LOSS_FORMULA = {
    "mse": "(1/n) Σ (z2 − y)²",
    "half_sse": "½ Σ (z2 − y)²",
    "cross_entropy": "−Σ y log softmax(z2)",
}
# ∂L/∂z2 for each loss, as the solution states it.
LOSS_GRADIENT_TEXT = {
    "mse": "(2/n)(z2 − y)",
    "half_sse": "z2 − y",
    "cross_entropy": "softmax(z2) − y",
}


@dataclass(frozen=True)
class Setup:
    activation: str
    loss: str
    sizes: tuple[int, int, int]  # inputs, hidden units, outputs
    wrt: str
    index: tuple[int, ...]

    def shape_of(self, name: str) -> tuple[int, ...]:
        return shapes(self.sizes)[name]


def shapes(sizes: tuple[int, int, int]) -> dict[str, tuple[int, ...]]:
    """The shape of each input for a network of (inputs, hidden units, outputs)."""
    n_in, n_hidden, n_out = sizes
    return {
        "x": (n_in,),
        "W1": (n_hidden, n_in),
        "b1": (n_hidden,),
        "W2": (n_out, n_hidden),
        "b2": (n_out,),
        "y": (n_out,),
    }


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    # By hand, relu with a squared error needs no exponentials; decks may pin others,
    # and the question then lists the values of tanh, σ or e^ that they need.
    activation = choose(rng, params, "activation", ("relu",) if hand else ACTIVATIONS)
    loss = choose(rng, params, "loss", LOSSES[:2] if hand else LOSSES)
    n_in = choose(rng, params, "inputs", (2,) if hand else (2, 3))
    n_hidden = choose(rng, params, "hidden", (2,) if hand else (2, 3))
    smallest_out = 2 if loss == "cross_entropy" else 1
    n_out = choose(rng, params, "outputs", (smallest_out,) if hand else (smallest_out, 2, 3))
    if loss == "cross_entropy" and n_out < 2:
        raise BadParams("mlp-backward: cross_entropy needs at least 2 outputs")
    wrt = choose(rng, params, "wrt", PARAMETERS)
    sizes = (n_in, n_hidden, n_out)
    return Setup(activation, loss, sizes, wrt, random_index(rng, shapes(sizes)[wrt]))


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    cross_entropy = setup.loss == "cross_entropy"
    inputs = _input_plan(setup.sizes, cross_entropy).draw(rng, difficulty)
    if cross_entropy:
        n_out = setup.sizes[2]
        inputs["y"] = one_hot(n_out, int(rng.integers(n_out)))
    return inputs


@functools.cache
def _input_plan(sizes: tuple[int, int, int], cross_entropy: bool) -> DrawPlan:
    """The inputs drawn for a network of `sizes`, in order (y apart for a softmax: one-hot)."""
    shape = shapes(sizes)
    return draw_plan(
        (
            ("x", shape["x"], -2.0, 2.0, True),
            ("W1", shape["W1"], -1.5, 1.5, True),
            ("b1", shape["b1"], -1.0, 1.0, False),
            ("W2", shape["W2"], -1.5, 1.5, True),
            ("b2", shape["b2"], -1.0, 1.0, False),
            *(() if cross_entropy else (("y", shape["y"], -2.0, 2.0, False),)),
        )
    )


def _build(inputs: dict[str, Any], setup: Setup) -> Tensor:
    """The loss node of the network applied to `inputs`, its nodes named for the trace."""
    leaves = {name: Tensor(value, name=name) for name, value in inputs.items()}
    net = engine.MLP(
        [
            engine.Linear(leaves["W1"], leaves["b1"], "1"),
            engine.Linear(leaves["W2"], leaves["b2"], "2"),
        ],
        setup.activation,
    )
    z2 = net(leaves["x"])
    z2.backward_note = LOSS_GRADIENT_TEXT[setup.loss]
    loss = engine.LOSSES[setup.loss](z2, leaves["y"])
    return loss.named("L", forward=LOSS_FORMULA[setup.loss])


def _slips(inputs: dict[str, Any], setup: Setup, answer: float) -> dict[str, float]:
    """Likely wrong answers, each from a backward pass that repeats the slip."""
    z1, h1, z2 = _forward(inputs, setup)
    y, n = inputs["y"], setup.sizes[2]
    seeds = {}  # a wrong ∂L/∂z2, pushed back through the same network
    if setup.loss == "mse":
        seeds["1/n missing from the mean squared error"] = 2.0 * (z2 - y)
        seeds["factor 2 of the square missing"] = (z2 - y) / n
    if setup.loss == "cross_entropy":
        seeds["y not subtracted from softmax(z2)"] = _softmax(z2)
    slips = {"sign flipped": -answer}
    for description, seed in seeds.items():
        slips[description] = _pushed_back(inputs, setup, z1, h1, seed)
    if setup.activation == "relu" and setup.wrt in ("W1", "b1"):
        # ∂L/∂h1 passed to z1 as if relu′ were always 1.
        dz2 = _loss_gradient(z2, y, setup.loss)
        unmasked = _pushed_back(inputs, setup, z1, h1, dz2, slope=np.ones(z1.shape))
        slips["ReLU mask forgotten"] = unmasked
    return distinct_slips(slips, answer)


def _hand_values(walked: Walk, setup: Setup) -> list[tuple[str, float]]:
    """σ(z1ᵢ) or tanh(z1ᵢ), and e^(z2ᵢ) for the softmax: what pen and paper cannot give."""
    values = activation_values(setup.activation, walked.entry("z1").value)
    if setup.loss == "cross_entropy":
        values += tabulate("e^({})", np.exp, walked.entry("z2").value)
    return values


def _question(setup: Setup, inputs: dict[str, Any], hint: str) -> str:
    n_out = setup.sizes[2]
    f = setup.activation
    lines = [
        "A network with one hidden layer; vectors are columns and a layer computes "
        "z = W x + b with W of shape (out, in):",
        "  z1 = W1 x + b1",
        f"  h1 = {f}(z1), elementwise, where {activation_text(f)}",
        "  z2 = W2 h1 + b2   (the output layer is linear: no activation)",
        "  " + LOSS_TEXT[setup.loss].format(n=n_out),
        "Inputs:",
        *input_lines(inputs),
        *([hint] if hint else []),
        f"Compute ∂L/∂{setup.wrt}{format_index(setup.index)} {INDEX_NOTE}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    inputs = resample(
        rng,
        lambda r: _draw_inputs(r, difficulty, setup),
        lambda candidate: _acceptable(candidate, setup, difficulty),
    )
    loss = _build(inputs, setup)  # one graph: its trace is the worked solution
    loss.backward()
    walked = walk(loss, setup.wrt)  # read once, for the answer, the solution and the steps
    answer = float(walked.entry(setup.wrt).grad[setup.index])
    check_derivative(lambda v: _numpy_loss(v, setup), inputs, setup.wrt, setup.index, answer)
    z1 = walked.entry("z1").value
    slope = _slope(setup.activation, z1, walked.entry("h1").value)  # f′(z1), as the engine has it
    notes = {"z1": derivative_note(setup.activation, "z1", z1, values=slope)}
    hint = useful_values(_hand_values(walked, setup)) if difficulty is Difficulty.HAND else ""
    return Exercise(
        generator="mlp-backward",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, hint),
        spec={"activation": setup.activation, "loss": setup.loss, "convention": "z = W x + b"},
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=solution_from(walked, setup.index, answer, notes),
        slips=_slips(inputs, setup, answer) if extras_wanted() else {},
        steps=steps_from(walked, setup.index, answer),
    )


def _acceptable(inputs: dict[str, Any], setup: Setup, difficulty: Difficulty) -> bool:
    """A draw worth asking about: clear of ReLU kinks, unsaturated by hand, and an answer
    that is not (about) zero."""
    z1 = _hidden_input(inputs)  # a draw that meets a kink costs no more than z1
    if setup.activation == "relu" and not clear_of_kinks([z1]):
        return False
    if difficulty is Difficulty.HAND and not unsaturated(setup.activation, z1):
        return False
    z1, h1, z2 = _forward(inputs, setup, z1)
    # A zero gradient teaches little, and one that is zero but for floating-point
    # noise (a softmax's p − y cancelling across two outputs) cannot be graded.
    dz2 = _loss_gradient(z2, inputs["y"], setup.loss)
    return abs(_pushed_back(inputs, setup, z1, h1, dz2)) >= SMALLEST_ANSWER


def _answer(inputs: dict[str, Any], setup: Setup) -> tuple[Tensor, float]:
    loss = _build(inputs, setup)
    return loss, asked_gradient(loss, setup.wrt, setup.index)


# -- the same network in plain NumPy -------------------------------------------------------
# Drawing an exercise takes about three candidates, and each used to be judged by building
# the engine's graph and running its backward pass: now only the accepted one gets a
# graph, whose trace the worked solution needs. The central-difference check runs its two
# forward passes here too, sharing no code with the engine that produced the answer
# (benchmarks/README.md: five graphs per exercise became one).


def _hidden_input(inputs: dict[str, Any]) -> np.ndarray:
    """z1 = W1 x + b1."""
    return inputs["W1"] @ inputs["x"] + inputs["b1"]


def _forward(
    inputs: dict[str, Any], setup: Setup, z1: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """z1, h1 and z2 of the network on `inputs` (`z1` when it is known already)."""
    if z1 is None:
        z1 = _hidden_input(inputs)
    if setup.activation == "relu":
        h1 = np.maximum(z1, 0.0)
    elif setup.activation == "tanh":
        h1 = np.tanh(z1)
    else:  # sigmoid, in the form whose exponential cannot overflow
        e = np.exp(-np.abs(z1))
        h1 = np.where(z1 >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return z1, h1, inputs["W2"] @ h1 + inputs["b2"]


def _numpy_loss(inputs: dict[str, Any], setup: Setup) -> float:
    """L for `inputs`, the loss LOSS_TEXT states."""
    _, _, z2 = _forward(inputs, setup)
    y = inputs["y"]
    squares = (z2 - y) ** 2
    if setup.loss == "mse":
        return float(squares.sum()) / z2.size
    if setup.loss == "half_sse":
        return 0.5 * float(squares.sum())
    shifted = z2 - z2.max()
    return float(-np.sum(y * (shifted - np.log(np.sum(np.exp(shifted))))))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _loss_gradient(z2: np.ndarray, y: np.ndarray, loss: str) -> np.ndarray:
    """∂L/∂z2, as LOSS_GRADIENT_TEXT states it (y one-hot for the cross-entropy)."""
    if loss == "mse":
        return 2.0 * (z2 - y) / z2.size
    if loss == "half_sse":
        return z2 - y
    return _softmax(z2) - y


def _pushed_back(
    inputs: dict[str, Any],
    setup: Setup,
    z1: np.ndarray,
    h1: np.ndarray,
    dz2: np.ndarray,
    slope: np.ndarray | None = None,
) -> float:
    """The asked entry of the gradient that `dz2` (some ∂L/∂z2) gives, back through the
    network; `slope` stands in for f′(z1) (a slip that forgets the ReLU's mask)."""
    # A weight's entry [i, j] is its layer's ∂L/∂z[i] times its input [j]: the one
    # product of the outer product that the question asks for.
    if setup.wrt in ("W2", "b2"):
        return _entry(dz2, h1, setup)
    if slope is None:
        slope = _slope(setup.activation, z1, h1)
    return _entry((inputs["W2"].T @ dz2) * slope, inputs["x"], setup)


def _entry(dz: np.ndarray, layer_input: np.ndarray, setup: Setup) -> float:
    """The asked entry of a layer's bias gradient `dz`, or of its weight gradient, the
    outer product of `dz` and the layer's input."""
    if setup.wrt.startswith("b"):
        return float(dz[setup.index[0]])
    i, j = setup.index
    return float(dz[i] * layer_input[j])


def _slope(activation: str, z1: np.ndarray, h1: np.ndarray) -> np.ndarray:
    """f′(z1), from h1 = f(z1) where the engine takes it from there too."""
    if activation == "relu":
        return (z1 > 0).astype(np.float64)
    if activation == "tanh":
        return 1.0 - h1**2
    return h1 * (1.0 - h1)
