"""conv2d-backward: one element of ∂L/∂W or ∂L/∂x of a 2-D convolution layer.

One example, channels first: x (C, H, W), kernels W (O, C, kh, kw), no bias, stride s,
zero padding p. The layer computes a cross-correlation, as deep-learning libraries do
(the kernel is not flipped):

    y[o, i, j] = Σ_c Σ_u Σ_v W[o, c, u, v] · x_padded[c, i·s + u, j·s + v]

and L = Σ G ⊙ y, so G = ∂L/∂y is the gradient arriving from above. The lessons: a weight
is used at every output position, so ∂L/∂W sums G against the input patches; an input
pixel feeds every output whose window covers it, so ∂L/∂x sums G against the kernel
entries that touched it (a "full" convolution with the flipped kernel).
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
    check_derivative,
    choose,
    draw_all,
    extras_wanted,
    fmt,
    fmt_array,
    format_index,
    json_inputs,
    pick,
    random_index,
    slips_apart,
)
from drill.exercises.screening import resample_keeping

WRT = ("W", "x")
PARAMS: dict[str, tuple[Any, ...]] = {"wrt": WRT}
MAX_TERMS_SHOWN = 12


@dataclass(frozen=True)
class Setup:
    channels: int
    out_channels: int
    size: int  # H = W
    kernel: int
    stride: int
    padding: int
    wrt: str
    index: tuple[int, ...]

    @property
    def out_size(self) -> int:
        return (self.size + 2 * self.padding - self.kernel) // self.stride + 1

    def shapes(self) -> dict[str, tuple[int, ...]]:
        c, o, n, k, m = self.channels, self.out_channels, self.size, self.kernel, self.out_size
        return {"x": (c, n, n), "W": (o, c, k, k), "G": (o, m, m)}

    def windows_over(self, position: int) -> int:
        """How many windows cover input row (or column) `position` (0 when a stride
        larger than the kernel skips it)."""
        padded = position + self.padding
        return sum(0 <= padded - i * self.stride < self.kernel for i in range(self.out_size))

    def at(self, out: str, k: str) -> str:
        """The input row (or column) under kernel entry `k` of output `out`: "i·2 + u − 1"."""
        step = f"{out}·{self.stride}" if self.stride > 1 else out
        return f"{step} + {k}" + (f" − {self.padding}" if self.padding else "")


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    wrt = choose(rng, params, "wrt", WRT)
    if difficulty is Difficulty.HAND:
        layer = (1, 1, pick(rng, (3, 4)), 2, 1, 0)
    else:
        while True:
            channels, out_channels = pick(rng, (1, 2)), pick(rng, (1, 2))
            size, kernel = pick(rng, (4, 5)), pick(rng, (2, 3))
            stride, padding = pick(rng, (1, 2)), pick(rng, (0, 1))
            layer = (channels, out_channels, size, kernel, stride, padding)
            if (size + 2 * padding - kernel) // stride + 1 >= 2:
                break
    setup = Setup(*layer, wrt, ())
    if wrt == "W":
        return Setup(*layer, wrt, random_index(rng, setup.shapes()["W"]))
    # An input pixel under several windows: its gradient sums several outputs' shares.
    cover = [setup.windows_over(i) for i in range(setup.size)]
    rows = [i for i in range(setup.size) if cover[i] >= 2] or [
        i for i in range(setup.size) if cover[i]
    ]
    channel = int(rng.integers(setup.channels))
    return Setup(*layer, wrt, (channel, pick(rng, rows), pick(rng, rows)))


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    shapes = setup.shapes()
    wanted = (
        ("x", shapes["x"], -2.0, 2.0, False),
        ("W", shapes["W"], -1.0, 1.0, True),
        ("G", shapes["G"], -1.0, 1.0, True),
    )
    return draw_all(rng, difficulty, wanted)


def _loss(inputs: dict[str, Any], setup: Setup, flip: bool = False) -> tuple[Tensor, dict]:
    """L and the leaves; `flip` turns the kernel around (a slip's true convolution)."""
    x, W = Tensor(inputs["x"], name="x"), Tensor(inputs["W"], name="W")
    kernel = W[:, :, ::-1, ::-1] if flip else W
    y = engine.conv2d(x, kernel, stride=setup.stride, padding=setup.padding)
    return (y * inputs["G"]).sum(), {"x": x, "W": W, "y": y}


def _answer(inputs: dict[str, Any], setup: Setup, flip: bool = False) -> float:
    return _answer_and_output(inputs, setup, flip)[0]


def _answer_and_output(
    inputs: dict[str, Any], setup: Setup, flip: bool = False
) -> tuple[float, np.ndarray]:
    """The asked gradient, and y (the solution shows it)."""
    loss, leaves = _loss(inputs, setup, flip)
    loss.backward()
    return float(leaves[setup.wrt].grad[setup.index]), leaves["y"].value


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared. y sums
    over the kernel's offsets: at offset (u, v), W[:, :, u, v] meets the input entries
    x[c, i·s + u, j·s + v] of every output position (i, j) at once."""
    k, s, m = setup.kernel, setup.stride, setup.out_size
    x, W = _padded(inputs["x"], setup.padding), np.asarray(inputs["W"])
    span = s * (m - 1) + 1  # the rows (and columns) an offset's entries spread over
    y = sum(
        W[:, :, u, v] @ x[:, u : u + span : s, v : v + span : s].reshape(x.shape[0], m * m)
        for u in range(k)
        for v in range(k)
    )
    return float((y.reshape(-1, m, m) * inputs["G"]).sum())


def _padded(x: Any, padding: int) -> np.ndarray:
    """x (C, H, W) with `padding` zeros on every side of each channel (np.pad's zeros)."""
    x = np.asarray(x)
    if not padding:
        return x
    channels, height, width = x.shape
    padded = np.zeros((channels, height + 2 * padding, width + 2 * padding))
    padded[:, padding : padding + height, padding : padding + width] = x
    return padded


def _terms(inputs: dict[str, Any], setup: Setup) -> list[tuple[str, float, float]]:
    """The products the asked gradient sums: (label, G entry, other factor)."""
    s, p, m = setup.stride, setup.padding, setup.out_size
    x = _padded(inputs["x"], p)
    G, W = np.asarray(inputs["G"]), np.asarray(inputs["W"])
    terms = []
    if setup.wrt == "W":
        o, c, u, v = setup.index
        for i in range(m):
            for j in range(m):
                row, col = i * s + u - p, j * s + v - p  # in x's own indices
                if 0 <= row < setup.size and 0 <= col < setup.size:  # else a padded zero
                    label = f"G[{o},{i},{j}]·x[{c},{row},{col}]"
                    terms.append((label, G[o, i, j], x[c, row + p, col + p]))
        return terms
    c, row, col = setup.index
    for o in range(setup.out_channels):
        for i in range(m):
            for j in range(m):
                u, v = row + p - i * s, col + p - j * s
                if 0 <= u < setup.kernel and 0 <= v < setup.kernel:
                    terms.append((f"G[{o},{i},{j}]·W[{o},{c},{u},{v}]", G[o, i, j], W[o, c, u, v]))
    return terms


def _solution(inputs: dict[str, Any], setup: Setup, answer: float, y: np.ndarray) -> list[str]:
    wanted = f"∂L/∂{setup.wrt}{format_index(setup.index)}"
    lines = ["Forward pass (not needed for the gradient: L is linear in y):"]
    lines += [f"  y[{o}] = {fmt_array(y[o])}" for o in range(setup.out_channels)]
    lines.append("L = Σ G ⊙ y, so ∂L/∂y = G.")
    p = setup.padding
    if setup.wrt == "W":
        o, c, u, v = setup.index
        lines.append(
            f"W[{o},{c},{u},{v}] multiplies x[{c}, {setup.at('i', str(u))}, "
            f"{setup.at('j', str(v))}] in every output y[{o}, i, j], so {wanted} = "
            f"Σᵢⱼ G[{o},i,j] · that input" + (" (padded zeros add nothing):" if p else ":")
        )
    else:
        c, row, col = setup.index
        lines.append(
            f"x[{c},{row},{col}] is under kernel entry W[o,{c},u,v] in output y[o,i,j] when "
            f"{setup.at('i', 'u')} = {row} and {setup.at('j', 'v')} = {col}, so {wanted} "
            "sums G[o,i,j] · W[o,c,u,v] over those outputs:"
        )
    terms = _terms(inputs, setup)
    shown = terms[:MAX_TERMS_SHOWN]
    lines += [f"  {label} = {fmt(g)}·{_factor(f)}" for label, g, f in shown]
    if len(terms) > len(shown):
        lines.append(f"  … and {len(terms) - len(shown)} more terms")
    if len(terms) > 1:
        lines.append(f"  sum: {signed_sum([g * f for _, g, f in terms])} = {fmt(answer, 6)}")
    return [*lines, f"So {wanted} = {fmt(answer, 6)}."]


def _factor(x: float) -> str:
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def signed_sum(values: list[float]) -> str:
    """ "0.5 − 0.25 + 1": a sum written with its signs, as by hand."""
    text = fmt(values[0])
    for value in values[1:]:
        text += f" − {fmt(-value)}" if value < 0 else f" + {fmt(value)}"
    return text


def _slips(inputs: dict[str, Any], setup: Setup, answer: float) -> dict[str, float]:
    slips = {"sign flipped": -answer}
    if setup.wrt == "W":
        o, c, u, v = setup.index
        k = setup.kernel
        flipped = Setup(**{**setup.__dict__, "index": (o, c, k - 1 - u, k - 1 - v)})
        slips["kernel flipped (true convolution instead of cross-correlation)"] = _answer(
            inputs, flipped
        )
    else:
        slips["kernel not flipped when sending the gradient back to x"] = _answer(
            inputs, setup, flip=True
        )
        terms = _terms(inputs, setup)
        if len(terms) > 1:
            _, g, f = terms[0]
            slips["one output counted: x feeds every window that covers it"] = g * f
    return slips_apart(slips, answer)


def _question(setup: Setup, inputs: dict[str, Any]) -> str:
    C, n_out, n, k, s, p = (
        setup.channels,
        setup.out_channels,
        setup.size,
        setup.kernel,
        setup.stride,
        setup.padding,
    )
    m = setup.out_size
    padding = "no padding" if p == 0 else f"zero padding {p} on every side"
    lines = [
        f"A 2-D convolution layer, channels first: input x ({C}×{n}×{n}), kernels W "
        f"({n_out}×{C}×{k}×{k}), no bias, stride {s}, {padding}, so y is {n_out}×{m}×{m}. "
        "As in deep-learning libraries it is a cross-correlation (the kernel is not flipped):",
        f"  y[o, i, j] = Σ_c Σ_u Σ_v W[o, c, u, v] · x[c, {setup.at('i', 'u')}, "
        f"{setup.at('j', 'v')}]" + ("   (x is 0 outside its edges)" if p else ""),
        "  L = Σ G ⊙ y, so G = ∂L/∂y is the gradient arriving from above",
        "Inputs:",
    ]
    x, W, G = (np.asarray(inputs[name]) for name in ("x", "W", "G"))
    lines += [f"  x[{c}] = {fmt_array(x[c])}" for c in range(C)]
    lines += [f"  W[{o},{c}] = {fmt_array(W[o, c])}" for o in range(n_out) for c in range(C)]
    lines += [f"  G[{o}] = {fmt_array(G[o])}" for o in range(n_out)]
    lines.append(f"Compute ∂L/∂{setup.wrt}{format_index(setup.index)} {INDEX_NOTE}.")
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)

    def judge(inputs: dict) -> tuple[bool, tuple[float, np.ndarray]]:
        answer, y = _answer_and_output(inputs, setup)
        return abs(answer) >= SMALLEST_ANSWER, (answer, y)

    inputs, (answer, y) = resample_keeping(rng, lambda r: _draw_inputs(r, difficulty, setup), judge)
    check_derivative(lambda v: _loss_value(v, setup), inputs, setup.wrt, setup.index, answer)
    return Exercise(
        generator="conv2d-backward",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs),
        spec={
            "stride": setup.stride,
            "padding": setup.padding,
            "bias": False,
            "convention": "cross-correlation: y[o,i,j] = Σ_c Σ_u Σ_v W[o,c,u,v] · "
            "x[c, i·stride + u − padding, j·stride + v − padding], zero padding",
            "layout": "x (C, H, W), W (O, C, kh, kw), G (O, H′, W′)",
            "loss": "L = Σ G ⊙ y",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=_solution(inputs, setup, answer, y),
        slips=_slips(inputs, setup, answer) if extras_wanted() else {},
    )
