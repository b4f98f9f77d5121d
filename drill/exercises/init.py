"""weight-init: the scale of Xavier (Glorot) normal and uniform, and He (Kaiming) normal.

Each scheme is a variance rule: Xavier keeps Var(w) = 2 / (fan_in + fan_out), He keeps
Var(w) = 2 / fan_in. The normal schemes ask for the standard deviation σ; the uniform one
for the limit a of U(−a, a), whose variance is a²/3. For a convolution the fans count the
kernel taps: fan_in = C_in·k·k and fan_out = C_out·k·k.

For `hand` the layer sizes are chosen so the answer is a unit fraction 1/m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import pick, plural

PARAMS = {"scheme": ("xavier-normal", "xavier-uniform", "he-normal"), "layer": ("dense", "conv")}


@dataclass(frozen=True)
class Scheme:
    title: str
    symbol: str  # what is asked: σ or a
    numerator: int  # the scale is √(numerator / fans)
    both_fans: bool  # fans = fan_in + fan_out, else fan_in alone
    draws: str

    def fans(self, fan_in: int, fan_out: int) -> int:
        return fan_in + fan_out if self.both_fans else fan_in

    def scale(self, fan_in: int, fan_out: int) -> float:
        return math.sqrt(self.numerator / self.fans(fan_in, fan_out))

    @property
    def rule(self) -> str:
        fans = "(fan_in + fan_out)" if self.both_fans else "fan_in"
        return f"{self.symbol} = √({self.numerator} / {fans})"


_NORMAL = "N(0, σ²), the normal distribution with mean 0 and standard deviation σ"
_UNIFORM = "U(−a, a), the uniform distribution on [−a, a]"

SCHEMES = {
    "xavier-normal": Scheme("Xavier (Glorot) normal", "σ", 2, True, _NORMAL),
    "xavier-uniform": Scheme("Xavier (Glorot) uniform", "a", 6, True, _UNIFORM),
    "he-normal": Scheme("He (Kaiming) normal, the rule for ReLU layers", "σ", 2, False, _NORMAL),
}


@dataclass(frozen=True)
class Shape:
    """A dense layer (k = 0) or a convolution with k×k kernels; `n_in`, `n_out` units/channels."""

    n_in: int
    n_out: int
    k: int = 0

    @property
    def taps(self) -> int:
        return self.k * self.k if self.k else 1

    @property
    def fan_in(self) -> int:
        return self.n_in * self.taps

    @property
    def fan_out(self) -> int:
        return self.n_out * self.taps

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_in": self.n_in, "n_out": self.n_out}
        if self.k:
            out["k"] = self.k
        return out


def _split(rng: np.random.Generator, total: int) -> tuple[int, int]:
    """Two positive integers adding up to `total` (≥ 2)."""
    first = int(rng.integers(1, total))
    return first, total - first


def _hand_shape(rng: np.random.Generator, scheme: Scheme, conv: bool) -> Shape:
    """A layer whose answer is 1/m: the fans must be numerator·m²."""
    while True:
        m = pick(rng, (2, 3, 4, 5, 6, 8, 10))
        k = pick(rng, (1, 3)) if conv else 0
        taps = k * k if k else 1
        fans = scheme.numerator * m * m
        if fans % taps == 0 and fans // taps >= 2:
            break
    units = fans // taps
    if scheme.both_fans:
        n_in, n_out = _split(rng, units)
    else:
        n_in, n_out = units, int(rng.integers(1, 2 * units + 1))
    return Shape(n_in, n_out, k)


def _calc_shape(rng: np.random.Generator, conv: bool) -> Shape:
    if conv:
        channels = (3, 16, 32, 48, 64, 96, 128, 256, 512)
        return Shape(pick(rng, channels), pick(rng, channels[1:]), pick(rng, (3, 5, 7)))
    units = (10, 64, 100, 128, 200, 256, 300, 512, 784, 1000, 1024, 2048)
    return Shape(pick(rng, units), pick(rng, units))


def generate(
    rng: np.random.Generator,
    difficulty: Difficulty,
    scheme: str | None = None,
    layer: str | None = None,
) -> Exercise:
    scheme_name = scheme or pick(rng, tuple(SCHEMES))
    rule = SCHEMES[scheme_name]
    conv = (layer or pick(rng, ("dense", "dense", "conv"))) == "conv"
    if difficulty is Difficulty.HAND:
        shape = _hand_shape(rng, rule, conv)
    else:
        shape = _calc_shape(rng, conv)
    answer = rule.scale(shape.fan_in, shape.fan_out)
    return Exercise(
        generator="weight-init",
        seed=0,
        difficulty=difficulty,
        question=_question(rule, shape),
        spec={"scheme": scheme_name, "layer": "conv" if conv else "dense", "rule": rule.rule},
        inputs={**shape.to_dict(), "fan_in": shape.fan_in, "fan_out": shape.fan_out},
        asked={"value": "sigma" if rule.symbol == "σ" else "limit"},
        answer=answer,
        solution=_solution(rule, shape, answer),
        slips=_slips(rule, shape, answer),
    )


def _question(rule: Scheme, shape: Shape) -> str:
    if shape.k:
        layer = (
            f"A 2-D convolution has {plural(shape.n_in, 'input channel')}, "
            f"{plural(shape.n_out, 'output channel')} and {shape.k}×{shape.k} kernels. "
            "For a convolution, fan_in = C_in·k·k and fan_out = C_out·k·k."
        )
    else:
        layer = (
            f"A dense layer has fan_in = {plural(shape.n_in, 'input')} and "
            f"fan_out = {plural(shape.n_out, 'output')}."
        )
    return (
        f"{layer} Its weights are initialized with {rule.title}: each is drawn from "
        f"{rule.draws}, where {rule.rule}. What is {rule.symbol}?"
    )


def _solution(rule: Scheme, shape: Shape, answer: float) -> list[str]:
    lines = []
    if shape.k:
        taps = f"{shape.k}·{shape.k}"
        lines.append(f"fan_in = {shape.n_in}·{taps} = {shape.fan_in}")
        lines.append(f"fan_out = {shape.n_out}·{taps} = {shape.fan_out}")
    fans = rule.fans(shape.fan_in, shape.fan_out)
    if rule.both_fans:
        lines.append(f"fan_in + fan_out = {shape.fan_in} + {shape.fan_out} = {fans}")
    ratio = rule.numerator / fans
    lines.append(f"{rule.numerator} / {fans} = {ratio:.6g}")
    lines.append(f"{rule.symbol} = √{ratio:.6g} = {answer:.6g}")
    return lines


def _slips(rule: Scheme, shape: Shape, answer: float) -> dict[str, float]:
    fans = rule.fans(shape.fan_in, shape.fan_out)
    swapped = 6 if rule.numerator == 2 else 2
    slips = {
        "the square root left out (that is the variance)": rule.numerator / fans,
        "fan_in alone used": math.sqrt(rule.numerator / shape.fan_in),
        "fan_in + fan_out used": math.sqrt(rule.numerator / (shape.fan_in + shape.fan_out)),
        "normal and uniform rules mixed up (2 and 6 swapped)": math.sqrt(swapped / fans),
        "1 / fan_in used (LeCun)": math.sqrt(1 / shape.fan_in),
    }
    if shape.k:
        slips["kernel taps left out of the fans"] = rule.scale(shape.n_in, shape.n_out)
    # Keep only slips that give a different number than the answer.
    return {text: value for text, value in slips.items() if not math.isclose(value, answer)}
