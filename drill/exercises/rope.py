"""rope-rotation: rotary position embedding (Su et al., RoFormer, 2021).

A vector x of even size d is cut into adjacent pairs (x[2i], x[2i+1]), and at position p
pair i turns by the angle p·θᵢ, with θᵢ = base^(−2i/d):

    x′[2i]   = x[2i] cos(pθᵢ) − x[2i+1] sin(pθᵢ)
    x′[2i+1] = x[2i] sin(pθᵢ) + x[2i+1] cos(pθᵢ)

Asks the rotated query R_m q (a vector), or the attention score (R_m q)·(R_n k), which
depends on the positions only through m − n: per pair it is
(q₀k₀ + q₁k₁) cos((m − n)θ) + (q₀k₁ − q₁k₀) sin((m − n)θ). That is the lesson.

By hand d is 2 or 4 with base 100 (θ = 1 and 0.1), and the question lists the cosines
and sines it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    choose,
    draw,
    draws,
    extras_wanted,
    fmt,
    fmt_array,
    input_lines,
    json_inputs,
    pick,
    resample,
    slips_apart,
    useful_values,
)

ASKED = ("rotated", "score")
HAND_BASE = 100
CALC_BASE = 10_000
SMALLEST_SCORE = 0.05

PARAMS: dict[str, tuple[Any, ...]] = {"asked": ASKED}

ROTATION = (
    "x′[2i] = x[2i] cos(pθᵢ) − x[2i+1] sin(pθᵢ), x′[2i+1] = x[2i] sin(pθᵢ) + x[2i+1] cos(pθᵢ)"
)


@dataclass(frozen=True)
class Setup:
    asked: str
    d: int
    base: int
    m: int  # the query's position
    n: int  # the key's position (score only)

    def thetas(self, exponent: float = 2.0) -> np.ndarray:
        """θᵢ = base^(−2i/d) for each pair i (`exponent` 1 gives a slip's base^(−i/d))."""
        return float(self.base) ** (-exponent * np.arange(self.d // 2) / self.d)


def rotate(x: Any, position: float, thetas: np.ndarray, layout: str = "adjacent") -> np.ndarray:
    """x rotated pair by pair by position·θᵢ; `layout` "half" pairs xᵢ with x[i + d/2]
    (the rotate-half layout of some libraries), only for a slip."""
    x = np.asarray(x, dtype=np.float64)
    half = x.size // 2
    first, second = (x[0::2], x[1::2]) if layout == "adjacent" else (x[:half], x[half:])
    angle = position * thetas
    cos, sin = np.cos(angle), np.sin(angle)
    new_first = first * cos - second * sin
    new_second = first * sin + second * cos
    out = np.empty_like(x)
    if layout == "adjacent":
        out[0::2], out[1::2] = new_first, new_second
    else:
        out[:half], out[half:] = new_first, new_second
    return out


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    asked = choose(rng, params, "asked", ASKED)
    d = pick(rng, (2, 4)) if hand else pick(rng, (4, 6, 8))
    highest = 4 if hand else 64
    m = int(rng.integers(1, highest + 1))
    n = int(rng.integers(0, m)) if asked == "score" else 0
    return Setup(asked, d, HAND_BASE if hand else CALC_BASE, m, n)


def _answer(inputs: dict[str, Any], setup: Setup) -> Any:
    thetas = setup.thetas()
    q = rotate(inputs["q"], setup.m, thetas)
    if setup.asked == "rotated":
        return q
    return float(q @ rotate(inputs["k"], setup.n, thetas))


def _angles(setup: Setup) -> np.ndarray:
    """The angles whose cosine and sine the work needs: mθᵢ, or (m − n)θᵢ for a score."""
    shift = setup.m - (setup.n if setup.asked == "score" else 0)
    return shift * setup.thetas()


def _hand_values(setup: Setup) -> list[tuple[str, float]]:
    values = []
    for angle in _angles(setup):
        label = fmt(angle, 6)
        values += [(f"cos({label})", float(np.cos(angle))), (f"sin({label})", float(np.sin(angle)))]
    return values


def _slips(inputs: dict[str, Any], setup: Setup, answer: Any) -> dict[str, Any]:
    thetas, m, n = setup.thetas(), setup.m, setup.n
    q = np.asarray(inputs["q"])
    if setup.asked == "rotated":
        slips = {
            "turned the wrong way (the signs of the sines flipped)": rotate(q, -m, thetas),
            "angle θᵢ alone: not multiplied by the position": rotate(q, 1, thetas),
        }
        if setup.d >= 4:
            slips["pairs (xᵢ, x[i + d/2]) of the rotate-half layout instead of adjacent pairs"] = (
                rotate(q, m, thetas, "half")
            )
            slips["θᵢ = base^(−i/d) instead of base^(−2i/d)"] = rotate(q, m, setup.thetas(1.0))
        return slips_apart(slips, answer)
    k = np.asarray(inputs["k"])
    slips = {
        "no rotation: the plain dot product q·k": float(q @ k),
        "only q rotated (k left at position 0)": float(rotate(q, m, thetas) @ k),
        "k turned the wrong way: the angle (m + n)θ": float(
            rotate(q, m, thetas) @ rotate(k, -n, thetas)
        ),
    }
    if setup.d >= 4:
        half = rotate(q, m, thetas, "half") @ rotate(k, n, thetas, "half")
        slips["pairs (xᵢ, x[i + d/2]) of the rotate-half layout instead of adjacent pairs"] = float(
            half
        )
    return slips_apart(slips, answer)


def _question(setup: Setup, inputs: dict[str, Any], hint: str) -> str:
    d, base = setup.d, setup.base
    thetas = ", ".join(fmt(t, 6) for t in setup.thetas())
    lines = [
        f"Rotary position embedding (RoPE) with d = {d} and base {base}: a vector x is cut "
        "into adjacent pairs (x[2i], x[2i+1]), and at position p pair i turns by the angle "
        "p·θᵢ (in radians), with θᵢ = base^(−2i/d):",
        "  x′[2i]   = x[2i] cos(pθᵢ) − x[2i+1] sin(pθᵢ)",
        "  x′[2i+1] = x[2i] sin(pθᵢ) + x[2i+1] cos(pθᵢ)",
        f"Here θ = [{thetas}].",
        "Inputs:",
        *input_lines({name: inputs[name] for name in ("q", "k") if name in inputs}),
    ]
    if setup.asked == "rotated":
        lines += [
            f"The query q sits at position m = {setup.m}.",
            *([hint] if hint else []),
            f"Compute the rotated query q′ = R_{setup.m} q (a vector of {d} numbers).",
        ]
    else:
        lines += [
            f"The query q sits at position m = {setup.m}, the key k at position n = {setup.n}.",
            *([hint] if hint else []),
            "Compute the attention score q′·k′ of the rotated query and key, before any scaling.",
        ]
    return "\n".join(lines)


def _pair_lines(name: str, x: Any, position: int, thetas: np.ndarray) -> list[str]:
    """How each pair of `x` turns at `position`, with the cosine and sine used."""
    x = np.asarray(x, dtype=np.float64)
    lines = []
    for i, theta in enumerate(thetas):
        angle = position * theta
        c, s = fmt(np.cos(angle), 6), fmt(np.sin(angle), 6)
        first, second = rotate(x[2 * i : 2 * i + 2], angle, np.ones(1))
        a, b = fmt(x[2 * i]), _factor(x[2 * i + 1])
        lines.append(
            f"{name} pair {i}: angle {position}·{fmt(theta, 6)} = {fmt(angle, 6)}, "
            f"cos = {c}, sin = {s}: ({a}·cos − {b}·sin, {a}·sin + {b}·cos) = "
            f"({fmt(first, 6)}, {fmt(second, 6)})"
        )
    return lines


def _factor(x: float) -> str:
    """A number as the second factor of a product: negatives in parentheses."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def _solution(inputs: dict[str, Any], setup: Setup, answer: Any) -> list[str]:
    thetas = setup.thetas()
    q_rot = rotate(inputs["q"], setup.m, thetas)
    lines = _pair_lines("q", inputs["q"], setup.m, thetas)
    lines.append(f"q′ = R_{setup.m} q = {fmt_array(q_rot, 6)}")
    if setup.asked == "rotated":
        return [*lines, f"So q′ = {fmt_array(answer, 6)}."]
    q, k = np.asarray(inputs["q"]), np.asarray(inputs["k"])
    k_rot = rotate(k, setup.n, thetas)
    lines += _pair_lines("k", k, setup.n, thetas)
    lines.append(f"k′ = R_{setup.n} k = {fmt_array(k_rot, 6)}")
    lines.append(f"q′·k′ = {fmt(answer, 6)}")
    shift = setup.m - setup.n
    per_pair = []
    for i, angle in enumerate(shift * thetas):
        q0, q1, k0, k1 = q[2 * i], q[2 * i + 1], k[2 * i], k[2 * i + 1]
        term = (q0 * k0 + q1 * k1) * np.cos(angle) + (q0 * k1 - q1 * k0) * np.sin(angle)
        per_pair.append(fmt(term, 6))
    lines.append(
        f"Only m − n = {shift} matters: per pair, (q₀k₀ + q₁k₁) cos((m − n)θ) + "
        f"(q₀k₁ − q₁k₀) sin((m − n)θ) = {', '.join(per_pair)}, which sum to the same score."
    )
    return [*lines, f"So q′·k′ = {fmt(answer, 6)}."]


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)

    def draw_inputs(r: np.random.Generator) -> dict:
        vector = ((setup.d,), -2.0, 2.0, False)
        if setup.asked == "score":
            q, k = draws(r, difficulty, vector, vector)
            return {"q": q, "k": k}
        return {"q": draw(r, difficulty, *vector)}

    def acceptable(values: dict) -> bool:
        # Each pair must move: a pair of zeros turns into zeros whatever the angle.
        pairs = np.asarray(values["q"]).reshape(-1, 2)
        if not (np.abs(pairs).sum(axis=1) > 0).all():
            return False
        return setup.asked == "rotated" or abs(_answer(values, setup)) >= SMALLEST_SCORE

    values = resample(rng, draw_inputs, acceptable)
    answer = _answer(values, setup)
    answer = answer.tolist() if setup.asked == "rotated" else answer
    hint = useful_values(_hand_values(setup)) if difficulty is Difficulty.HAND else ""
    positions = {"m": setup.m} | ({"n": setup.n} if setup.asked == "score" else {})
    return Exercise(
        generator="rope-rotation",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, values, hint),
        spec={
            "asked": setup.asked,
            "d": setup.d,
            "base": setup.base,
            "pairs": "adjacent: (x[2i], x[2i+1])",
            "theta": "θᵢ = base^(−2i/d), angles in radians",
            "rotation": ROTATION,
        },
        inputs=json_inputs(values) | positions,
        asked={"value": "R_m q" if setup.asked == "rotated" else "(R_m q)·(R_n k)"},
        answer=answer,
        solution=_solution(values, setup, answer),
        slips=_slips(values, setup, answer) if extras_wanted() else {},
    )
