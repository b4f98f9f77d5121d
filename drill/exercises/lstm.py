"""lstm-gates: one step of an LSTM cell, forward or backward.

Vectors are columns; the four gates are stacked in the order i, f, g, o (as PyTorch
does), each a block of H rows of W (4H×D), U (4H×H) and b (4H):

    z = W x + U h_prev + b,  split into z_i, z_f, z_g, z_o
    i = σ(z_i),  f = σ(z_f),  g = tanh(z_g),  o = σ(z_o)
    c = f ⊙ c_prev + i ⊙ g,   h = o ⊙ tanh(c)

Asks c or h (the forward step), or, for L = Σ g_h ⊙ h with g_h = ∂L/∂h arriving from
above, ∂L/∂c_prev[k] or ∂L/∂b[r]. The lessons: the cell state is updated additively, so
∂L/∂c_prev = ∂L/∂c ⊙ f, the gradient highway; and each gate's bias gradient carries
its own σ′ or tanh′.

By hand H = D = 1 and the question lists σ and tanh at each pre-activation, and tanh(c).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    SMALLEST_ANSWER,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    draw_all,
    extras_wanted,
    fmt,
    fmt_array,
    guided_steps,
    input_lines,
    json_inputs,
    named_nodes,
    pick,
    slips_apart,
    useful_values,
    worked_solution,
)
from drill.exercises.screening import resample_keeping

ASKED = ("c", "h", "c_prev", "b")
GATES = ("i", "f", "g", "o")
HAND_LIMIT = 2.0  # by hand |z| ≤ 2 and |c| ≤ 2: σ and tanh stay readable

PARAMS: dict[str, tuple[Any, ...]] = {"asked": ASKED}

GATE_TEXT = {
    "i": "the input gate",
    "f": "the forget gate",
    "g": "the candidate cell value",
    "o": "the output gate",
}


@dataclass(frozen=True)
class Setup:
    asked: str
    hidden: int
    inputs: int
    index: int  # the entry of c, h or c_prev; for b, the row (gate block · H + unit)

    @property
    def backward(self) -> bool:
        return self.asked in ("c_prev", "b")

    def gate_of(self, row: int) -> str:
        return GATES[row // self.hidden]


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    asked = choose(rng, params, "asked", ASKED)
    hidden, inputs = (1, 1) if hand else (pick(rng, (1, 2)), pick(rng, (1, 2)))
    rows = 4 * hidden if asked == "b" else hidden
    return Setup(asked, hidden, inputs, int(rng.integers(rows)))


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    H, D = setup.hidden, setup.inputs
    wanted = (
        ("x", (D,), -2.0, 2.0, True),
        ("h_prev", (H,), -1.0, 1.0, True),
        ("c_prev", (H,), -2.0, 2.0, True),
        ("W", (4 * H, D), -1.0, 1.0, False),
        ("U", (4 * H, H), -1.0, 1.0, False),
        ("b", (4 * H,), -1.0, 1.0, False),
    )
    if setup.backward:
        wanted += (("g_h", (H,), -2.0, 2.0, True),)
    return draw_all(rng, difficulty, wanted)


def _build(inputs: dict[str, Any], setup: Setup) -> Tensor:
    """The asked node's root: L = Σ g_h ⊙ h for a gradient, else h (c is on the way)."""
    leaves = {name: Tensor(value, name=name) for name, value in inputs.items()}
    H = setup.hidden
    leaves["b"].backward_note = "∂L/∂z"
    leaves["c_prev"].backward_note = "∂L/∂c ⊙ f"
    z = (leaves["W"] @ leaves["x"] + leaves["U"] @ leaves["h_prev"] + leaves["b"]).named(
        "z",
        forward="W x + U h_prev + b",
        backward="[∂L/∂i ⊙ i(1 − i); ∂L/∂f ⊙ f(1 − f); ∂L/∂g ⊙ (1 − g²); ∂L/∂o ⊙ o(1 − o)]",
    )
    blocks = {name: z[k * H : (k + 1) * H] for k, name in enumerate(GATES)}
    i = engine.sigmoid(blocks["i"]).named("i", forward="σ(z_i)", backward="∂L/∂c ⊙ g")
    f = engine.sigmoid(blocks["f"]).named("f", forward="σ(z_f)", backward="∂L/∂c ⊙ c_prev")
    g = engine.tanh(blocks["g"]).named("g", forward="tanh(z_g)", backward="∂L/∂c ⊙ i")
    o = engine.sigmoid(blocks["o"]).named("o", forward="σ(z_o)", backward="∂L/∂h ⊙ t")
    c = (f * leaves["c_prev"] + i * g).named(
        "c", forward="f ⊙ c_prev + i ⊙ g", backward="∂L/∂t ⊙ (1 − t²)"
    )
    t = engine.tanh(c).named("t", forward="tanh(c)", backward="∂L/∂h ⊙ o")
    h = (o * t).named("h", forward="o ⊙ t", backward="g_h")
    if not setup.backward:
        return h
    return (leaves["g_h"] * h).sum().named("L", forward="Σ g_h ⊙ h")


def _values(root: Tensor) -> dict[str, np.ndarray]:
    """The value of each named node of the graph."""
    return {name: node.value for name, node in named_nodes(root).items()}


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    H = setup.hidden
    z = inputs["W"] @ inputs["x"] + inputs["U"] @ inputs["h_prev"] + inputs["b"]
    i, f, o = (1.0 / (1.0 + np.exp(-z[k * H : (k + 1) * H])) for k in (0, 1, 3))
    c = f * inputs["c_prev"] + i * np.tanh(z[2 * H : 3 * H])
    return float((inputs["g_h"] * o * np.tanh(c)).sum())


def _answer(inputs: dict[str, Any], setup: Setup) -> tuple[Tensor, float]:
    root = _build(inputs, setup)
    if setup.backward:
        return root, asked_gradient(root, setup.asked, (setup.index,))
    return root, float(named_nodes(root)[setup.asked].value[setup.index])


def _slips(
    inputs: dict[str, Any], v: dict[str, np.ndarray], setup: Setup, answer: float
) -> dict[str, float]:
    """Likely wrong answers, from the inputs and the values `v` of the graph's nodes."""
    k = setup.index
    i, f, g, o, c, tc = (v[name] for name in ("i", "f", "g", "o", "c", "t"))
    c_prev = np.asarray(inputs["c_prev"])
    slips: dict[str, float] = {"sign flipped": -answer}
    if setup.asked in ("c", "h"):
        swapped = i * c_prev + f * g
        raw = np.asarray(inputs["W"]) @ inputs["x"] + np.asarray(inputs["U"]) @ inputs["h_prev"]
        z = raw + np.asarray(inputs["b"])
        H = setup.hidden
        untanh = f * c_prev + i * z[2 * H : 3 * H]
        if setup.asked == "c":
            slips["forget and input gates swapped: i ⊙ c_prev + f ⊙ g"] = swapped[k]
            slips["candidate g taken without its tanh"] = untanh[k]
            slips["c_prev not carried over: c = i ⊙ g"] = (i * g)[k]
        else:
            slips["tanh(c) left out: h = o ⊙ c"] = (o * c)[k]
            slips["forget and input gates swapped: i ⊙ c_prev + f ⊙ g"] = (o * np.tanh(swapped))[k]
        return slips_apart(slips, answer)
    g_h = np.asarray(inputs["g_h"])
    dc = g_h * o * (1 - tc**2)
    if setup.asked == "c_prev":
        slips["forget gate left out: ∂L/∂c_prev = ∂L/∂c"] = dc[k]
        slips["1 − tanh²(c) left out"] = (g_h * o * f)[k]
        slips["output gate left out"] = (g_h * (1 - tc**2) * f)[k]
        return slips_apart(slips, answer)
    gate, unit = setup.gate_of(k), k % setup.hidden
    upstream = {"i": dc * g, "f": dc * c_prev, "g": dc * i, "o": g_h * tc}[gate]
    value = {"i": i, "f": f, "g": g, "o": o}[gate]
    local = 1 - value**2 if gate == "g" else value * (1 - value)
    slips[f"{'tanh' if gate == 'g' else 'σ'}′ of the gate left out"] = upstream[unit]
    if gate != "g":
        slips["σ′ taken as σ(z)(1 + σ(z))"] = (upstream * value * (1 + value))[unit]
    if gate in ("i", "f", "g"):
        slips["1 − tanh²(c) left out on the way to c"] = (upstream / (1 - tc**2) * local)[unit]
    return slips_apart(slips, answer)


def _hand_values(v: dict[str, np.ndarray], setup: Setup) -> list[tuple[str, float]]:
    """σ or tanh of each gate's pre-activation (σ(0) = 1/2 and tanh(0) = 0 need no table),
    and tanh(c) unless c itself is asked; each label once. `v`: the nodes' values."""
    values: dict[str, float] = {}
    for name in GATES:
        z = v["z"][GATES.index(name) * setup.hidden]
        if z != 0.0:
            symbol = "tanh" if name == "g" else "σ"
            values[f"{symbol}({fmt(z, 6)})"] = float(v[name][0])
    if setup.asked != "c":
        values[f"tanh({fmt(v['c'][0], 6)})"] = float(v["t"][0])
    return list(values.items())


def _question(setup: Setup, inputs: dict[str, Any], hint: str) -> str:
    H, D = setup.hidden, setup.inputs
    lines = [
        f"One step of an LSTM cell; vectors are columns, hidden size {H}, input size {D}. "
        "The gates are stacked in the order i, f, g, o: rows 0…H−1 of W, U and b belong "
        "to i, the next H rows to f, then g, then o.",
        "  z = W x + U h_prev + b, split into z_i, z_f, z_g, z_o",
        "  i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o), with σ(z) = 1 / (1 + e^(−z))",
        "  c = f ⊙ c_prev + i ⊙ g",
        "  t = tanh(c), h = o ⊙ t",
    ]
    if setup.backward:
        lines.append("  L = Σ g_h ⊙ h, so g_h = ∂L/∂h is the gradient arriving from above")
    lines += ["Inputs:", *input_lines(inputs), *([hint] if hint else [])]
    k = setup.index
    if setup.asked == "b":
        gate = setup.gate_of(k)
        lines.append(
            f"Compute ∂L/∂b[{k}], the bias of {GATE_TEXT[gate]} {gate} "
            f"(unit {k % H}; indices start at 0)."
        )
    elif setup.asked == "c_prev":
        lines.append(f"Compute ∂L/∂c_prev[{k}] (indices start at 0).")
    else:
        lines.append(f"Compute the new {setup.asked}[{k}] (indices start at 0).")
    return "\n".join(lines)


def _forward_solution(root: Tensor, setup: Setup, answer: float) -> list[str]:
    lines = ["Forward pass:"]
    for name, node in named_nodes(root).items():
        if node.op != "leaf" and node.forward_note:
            lines.append(f"  {name} = {node.forward_note} = {fmt_array(node.value)}")
        if name == setup.asked:
            break
    return [*lines, f"So {setup.asked}[{setup.index}] = {fmt(answer, 6)}."]


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    hand = difficulty is Difficulty.HAND

    def judge(inputs: dict) -> tuple[bool, tuple[Tensor, float]]:
        root, answer = _answer(inputs, setup)
        v = named_nodes(root)
        if hand and (
            (np.abs(v["z"].value) > HAND_LIMIT).any() or (np.abs(v["c"].value) > HAND_LIMIT).any()
        ):
            return False, (root, answer)
        return abs(answer) >= SMALLEST_ANSWER, (root, answer)

    inputs, (root, answer) = resample_keeping(
        rng, lambda r: _draw_inputs(r, difficulty, setup), judge
    )
    values = _values(root)
    index = (setup.index,)
    if setup.backward:
        check_derivative(lambda v: _loss_value(v, setup), inputs, setup.asked, index, answer)
        solution = worked_solution(root, setup.asked, index, answer)
        steps = guided_steps(root, setup.asked, index, answer, skip={"h"})
        asked = asked_derivative(setup.asked, index)
    else:
        solution, steps = _forward_solution(root, setup, answer), ()
        asked = {"value": setup.asked, "index": [setup.index]}
    hint = useful_values(_hand_values(values, setup)) if hand else ""
    spec = {
        "gate_order": "i, f, g, o",
        "convention": "z = W x + U h_prev + b; i, f, o = σ(z_i, z_f, z_o); g = tanh(z_g); "
        "c = f ⊙ c_prev + i ⊙ g; h = o ⊙ tanh(c)",
        "asked": setup.asked,
    }
    if setup.backward:
        spec["loss"] = "L = Σ g_h ⊙ h"
    return Exercise(
        generator="lstm-gates",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, hint),
        spec=spec,
        inputs=json_inputs(inputs),
        asked=asked,
        answer=answer,
        solution=solution,
        slips=_slips(inputs, values, setup, answer) if extras_wanted() else {},
        steps=steps,
    )
