"""Convolution arithmetic in exact integers: output sizes and receptive fields.

Both generators ask for one integer, graded exactly. The arithmetic is all integer
(floor division), so there is no rounding to argue about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.common import pick

OUTPUT_SIZE_FORMULA = "out = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1"


def _exact(
    name: str, difficulty: Difficulty, *, answer: int, slips: dict[str, int], **fields: Any
) -> Exercise:
    """An exercise with an integer answer, graded exactly; slips equal to it are dropped."""
    return Exercise(
        generator=name,
        seed=0,
        difficulty=difficulty,
        answer=answer,
        tolerance=Tolerance(exact=True),
        slips={text: value for text, value in slips.items() if value != answer},
        **fields,
    )


# --- conv-output-size --------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A sliding window along one axis: kernel k, stride s, padding p per side, dilation d."""

    k: int
    s: int
    p: int = 0
    d: int = 1

    @property
    def span(self) -> int:
        """How many input positions the dilated kernel covers: d·(k − 1) + 1."""
        return self.d * (self.k - 1) + 1

    def output_size(self, n: int) -> int:
        return (n + 2 * self.p - self.span) // self.s + 1


def _draw_window(rng: np.random.Generator, layer: str, dilated: bool, hand: bool) -> Window:
    if layer == "pool":
        k = pick(rng, (2, 3))
        return Window(k=k, s=pick(rng, (2, k) if hand else (1, 2, 3)), p=pick(rng, (0, k // 2)))
    # Dilation spaces a kernel's taps apart; a 1×1 kernel has one tap, so it needs k ≥ 2.
    k = pick(rng, ((3, 5) if dilated else (1, 3, 5)) if hand else (3, 5, 7, 11))
    d = pick(rng, (2, 3) if hand else (2, 3, 4)) if dilated else 1
    s = pick(rng, (1, 2) if hand else (1, 2, 3, 4))
    return Window(k=k, s=s, p=int(rng.integers(0, (d * (k - 1)) // 2 + 2)), d=d)


def conv_output_size(
    rng: np.random.Generator,
    difficulty: Difficulty,
    layer: str | None = None,
    dilation: bool | None = None,
) -> Exercise:
    hand = difficulty is Difficulty.HAND
    layer = layer or pick(rng, ("conv", "conv", "pool"))
    dilated = layer == "conv" and (dilation if dilation is not None else rng.random() < 0.3)
    while True:
        window = _draw_window(rng, layer, dilated, hand)
        n = int(rng.integers(5, 33) if hand else rng.integers(16, 513))
        if n + 2 * window.p >= window.span:
            break
    return _exact(
        "conv-output-size",
        difficulty,
        question=_output_size_question(layer, window, n),
        spec={"layer": layer, "formula": OUTPUT_SIZE_FORMULA},
        inputs={"n": n, "k": window.k, "s": window.s, "p": window.p, "d": window.d},
        asked={"value": "output_size"},
        answer=window.output_size(n),
        solution=_output_size_solution(window, n),
        slips=_output_size_slips(window, n),
    )


def _padding_text(layer: str, p: int) -> str:
    if not p:
        return "no padding"
    if layer == "pool":
        # Max pooling pads with −∞ (or skips the pad), never with zeros: a zero could
        # beat negative inputs and change the output.
        return f"padding {p} on every side (max pooling pads with −∞, so padded cells never win)"
    return f"zero padding {p} on every side"


def _output_size_question(layer: str, w: Window, n: int) -> str:
    padding = _padding_text(layer, w.p)
    if layer == "pool":
        what = f"A {w.k}×{w.k} max-pooling layer with stride {w.s} and {padding}"
    else:
        dilation = f", dilation {w.d} (kernel taps {w.d} apart)" if w.d > 1 else ""
        what = f"A convolution with a {w.k}×{w.k} kernel, stride {w.s}, {padding}{dilation}"
    return (
        f"{what} is applied to a {n}×{n} input. With input size n, kernel k, stride s, "
        f"padding p per side and dilation d (d = 1 means none), the output size is\n"
        f"    {OUTPUT_SIZE_FORMULA}\n"
        f"What is the output height?"
    )


def _output_size_solution(w: Window, n: int) -> list[str]:
    inner = n + 2 * w.p - w.span
    return [
        f"span of the kernel = d·(k − 1) + 1 = {w.d}·({w.k} − 1) + 1 = {w.span}",
        f"n + 2p − span = {n} + 2·{w.p} − {w.span} = {inner}",
        f"⌊{inner} / {w.s}⌋ = {inner // w.s}",
        f"output height = {inner // w.s} + 1 = {w.output_size(n)}",
    ]


def _output_size_slips(w: Window, n: int) -> dict[str, int]:
    inner = n + 2 * w.p - w.span
    return {
        "padding left out": Window(w.k, w.s, 0, w.d).output_size(n),
        "padding added on one side only": (n + w.p - w.span) // w.s + 1,
        "the + 1 left out": inner // w.s,
        "dilation ignored": Window(w.k, w.s, w.p, 1).output_size(n),
        "rounded up instead of down": -(-inner // w.s) + 1,
    }


# --- receptive-field ---------------------------------------------------------------------

RECURRENCE = "r_l = r_(l−1) + (span_l − 1)·j_(l−1),  j_l = j_(l−1)·s_l,  with r_0 = j_0 = 1"


@dataclass(frozen=True)
class Layer:
    kind: str  # "conv" or "pool"
    window: Window

    def describe(self) -> str:
        w = self.window
        name = "conv" if self.kind == "conv" else "max-pool"
        dilation = f", dilation {w.d}" if w.d > 1 else ""
        return f"{name} {w.k}×{w.k}, stride {w.s}{dilation}"

    def to_dict(self) -> dict[str, Any]:
        w = self.window
        return {"kind": self.kind, "k": w.k, "s": w.s, "d": w.d}


def _draw_stack(rng: np.random.Generator, depth: int, dilated: bool, hand: bool) -> list[Layer]:
    stack: list[Layer] = []
    for _ in range(depth):
        if stack and rng.random() < 0.35:
            k = pick(rng, (2, 3))
            stack.append(Layer("pool", Window(k=k, s=2)))
            continue
        k = pick(rng, (3, 3, 5) if hand else (3, 5, 7))
        d = pick(rng, (1, 2) if hand else (1, 2, 4)) if dilated else 1
        s = pick(rng, (1, 1, 2))
        stack.append(Layer("conv", Window(k=k, s=s, d=d)))
    if dilated and all(layer.window.d == 1 for layer in stack):
        first = stack[0].window
        stack[0] = Layer("conv", Window(k=first.k, s=first.s, d=2))
    return stack


def _receptive_fields(stack: Sequence[Layer]) -> list[tuple[int, int]]:
    """(r_l, j_l) after each layer, by the forward recurrence."""
    r, j = 1, 1
    out = []
    for layer in stack:
        r, j = r + (layer.window.span - 1) * j, j * layer.window.s
        out.append((r, j))
    return out


def receptive_field(
    rng: np.random.Generator,
    difficulty: Difficulty,
    layers: int | None = None,
    dilation: bool | None = None,
) -> Exercise:
    hand = difficulty is Difficulty.HAND
    depth = layers or int(rng.integers(2, 4) if hand else rng.integers(3, 6))
    dilated = dilation if dilation is not None else rng.random() < 0.25
    stack = _draw_stack(rng, depth, dilated, hand)
    fields = _receptive_fields(stack)
    return _exact(
        "receptive-field",
        difficulty,
        question=_receptive_field_question(stack),
        spec={"recurrence": RECURRENCE, "span": "d·(k − 1) + 1"},
        inputs={"layers": [layer.to_dict() for layer in stack]},
        asked={"value": "receptive_field"},
        answer=fields[-1][0],
        solution=_receptive_field_solution(stack, fields),
        slips=_receptive_field_slips(stack),
    )


def _receptive_field_question(stack: Sequence[Layer]) -> str:
    listing = "\n".join(f"  {i}. {layer.describe()}" for i, layer in enumerate(stack, 1))
    return (
        f"An image goes through these layers, in order:\n{listing}\n"
        "How many input pixels wide is the receptive field of one unit of the last layer? "
        "Padding does not change it. With kernel k_l, stride s_l and dilation d_l "
        "(span_l = d_l·(k_l − 1) + 1; d = 1 when none is listed), and j the distance in input "
        f"pixels between neighbouring units:\n    {RECURRENCE}"
    )


def _receptive_field_solution(
    stack: Sequence[Layer], fields: Sequence[tuple[int, int]]
) -> list[str]:
    lines = []
    r_prev, j_prev = 1, 1
    for i, (layer, (r, j)) in enumerate(zip(stack, fields, strict=True), 1):
        span = layer.window.span
        lines.append(
            f"layer {i} ({layer.describe()}): r = {r_prev} + ({span} − 1)·{j_prev} = {r}, "
            f"j = {j_prev}·{layer.window.s} = {j}"
        )
        r_prev, j_prev = r, j
    lines.append(f"receptive field = {fields[-1][0]}")
    return lines


def _receptive_field_slips(stack: Sequence[Layer]) -> dict[str, int]:
    undilated = [Layer(s.kind, Window(s.window.k, s.window.s)) for s in stack]
    return {
        "strides ignored (kernel sizes simply added)": 1
        + sum(layer.window.span - 1 for layer in stack),
        "dilation ignored": _receptive_fields(undilated)[-1][0],
        "the jump taken after the layer's own stride": _late_jump(stack),
    }


def _late_jump(stack: Sequence[Layer]) -> int:
    r, j = 1, 1
    for layer in stack:
        j *= layer.window.s
        r += (layer.window.span - 1) * j
    return r


PARAMS_BY_NAME = {
    "conv-output-size": {"layer": ("conv", "pool"), "dilation": (True, False)},
    "receptive-field": {"layers": (2, 3, 4, 5, 6), "dilation": (True, False)},
}

GENERATE = {"conv-output-size": conv_output_size, "receptive-field": receptive_field}
