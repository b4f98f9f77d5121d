"""attention-backward and attention-weights: scaled dot-product attention for one head.

Rows are positions. With queries Q (n×d), keys K (m×d) and values V (m×dv):

    S = Q Kᵀ · scale (+ the causal mask: −∞ where j > i)   scale = 1/√d unless stated
    P = softmax of each row of S
    O = P V

attention-weights asks one query's row of P (or of O): the forward pass, where the lesson
is the scale and the mask. attention-backward asks one entry of ∂L/∂Q, ∂L/∂K or ∂L/∂V for
L = Σ G ⊙ O, so G = ∂L/∂O is the gradient arriving from above; the lesson is the softmax
backward, ∂L/∂Sᵢⱼ = Pᵢⱼ (∂L/∂Pᵢⱼ − Σₖ Pᵢₖ ∂L/∂Pᵢₖ).

By hand d is 1 or 4, so that 1/√d is exact, and the question lists e^s for each score
the softmax needs.
"""

from __future__ import annotations

import math
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
    fmt_array,
    format_index,
    guided_steps,
    input_lines,
    json_inputs,
    named_nodes,
    pick,
    random_index,
    resample,
    slips_apart,
    tabulate,
    useful_values,
    worked_solution,
)
from drill.exercises.screening import resample_keeping

WRT = ("Q", "K", "V")
HAND_DIMS = (1, 4)  # 1/√d exact
PARAMS_BACKWARD: dict[str, tuple[Any, ...]] = {"causal": (True, False), "wrt": WRT}
PARAMS_WEIGHTS: dict[str, tuple[Any, ...]] = {
    "causal": (True, False),
    "asked": ("weights", "output"),
}
CONVENTION = "O = softmax_rows(Q Kᵀ · scale + mask) V"
LOSS = "L = Σ G ⊙ O"


@dataclass(frozen=True)
class Setup:
    n: int  # queries
    m: int  # keys
    d: int
    dv: int
    causal: bool

    @property
    def scale(self) -> float:
        return 1.0 / math.sqrt(self.d)

    @property
    def allowed(self) -> np.ndarray:
        """Which keys each query may see: all of them, or j ≤ i under the causal mask."""
        if self.causal:
            return np.tril(np.ones((self.n, self.m), dtype=bool))
        return np.ones((self.n, self.m), dtype=bool)


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    causal = choose(rng, params, "causal", (False, True))
    d = pick(rng, HAND_DIMS) if hand else pick(rng, (2, 3, 4))
    if hand:
        n = m = 2 if d == 4 else pick(rng, (2, 3))
        dv = 2
    else:
        n = pick(rng, (2, 3))
        m = n if causal else pick(rng, (2, 3))
        dv = pick(rng, (1, 2, 3))
    return Setup(n, m, d, dv, causal)


def _draw_qkv(
    rng: np.random.Generator, difficulty: Difficulty, setup: Setup, with_g: bool = False
) -> dict:
    """Q, K and V (and G, the gradient from above, after them `with_g`), in one draw."""
    hand = difficulty is Difficulty.HAND
    bound = 1.0 if hand else 2.0  # by hand, scores stay small enough to exponentiate
    wanted = (  # by hand, no zeros in Q or K: a zero row would give uniform weights
        ("Q", (setup.n, setup.d), -bound, bound, hand),
        ("K", (setup.m, setup.d), -bound, bound, hand),
        ("V", (setup.m, setup.dv), -2.0, 2.0, False),
    )
    if with_g:
        wanted += (("G", (setup.n, setup.dv), -2.0, 2.0, False),)
    return draw_all(rng, difficulty, wanted)


def _scores(setup: Setup, leaves: dict[str, Tensor], scale: float) -> Tensor:
    """S = Q Kᵀ · scale, named; the mask is applied on the way to P (see _masked), so
    every step of a guided exercise is a finite number a person can type."""
    note = "P ⊙ (∂L/∂P − rowsum(P ⊙ ∂L/∂P))" + (", 0 where masked" if setup.causal else "")
    return ((leaves["Q"] @ leaves["K"].T) * scale).named("S", forward="Q Kᵀ · scale", backward=note)


def _masked(S: Tensor, setup: Setup) -> Tensor:
    """S with −∞ where the causal mask hides a key (S itself without a mask)."""
    return engine.where(setup.allowed, S, -np.inf) if setup.causal else S


def _forward(inputs: dict[str, Any], setup: Setup, scale: float | None = None):
    """(leaves, S, P, O) for these inputs, O None without V; `scale` overrides 1/√d for a
    slip."""
    leaves = {name: Tensor(value, name=name) for name, value in inputs.items()}
    leaves["Q"].backward_note = "∂L/∂S K · scale"
    leaves["K"].backward_note = "∂L/∂Sᵀ Q · scale"
    S = _scores(setup, leaves, setup.scale if scale is None else scale)
    masked = " over the keys j ≤ i (the mask)" if setup.causal else ""
    P = engine.softmax(_masked(S, setup), axis=-1).named(
        "P", forward=f"softmax of each row of S{masked}", backward="∂L/∂O Vᵀ"
    )
    if "V" not in leaves:
        return leaves, S, P, None
    leaves["V"].backward_note = "Pᵀ ∂L/∂O"
    out = (P @ leaves["V"]).named("O", forward="P V", backward="G")
    return leaves, S, P, out


def _loss(inputs: dict[str, Any], setup: Setup, scale: float | None = None) -> Tensor:
    leaves, _, _, out = _forward(inputs, setup, scale)
    return (leaves["G"] * out).sum().named("L", forward="Σ G ⊙ O")


def _score_values(inputs: dict[str, Any], setup: Setup, rows: Any = slice(None)) -> np.ndarray:
    """The unmasked scores of `rows`."""
    S = np.asarray(inputs["Q"]) @ np.asarray(inputs["K"]).T * setup.scale
    return S[rows][setup.allowed[rows]]


def _needed_scores(inputs: dict[str, Any], setup: Setup, rows: Any = slice(None)) -> np.ndarray:
    """The scores whose e^s a softmax by hand needs: unmasked, non-zero, in a row that sees
    more than one key (a row with one key has weight 1 whatever its score)."""
    crowded = setup.allowed.sum(axis=1) > 1
    S = np.asarray(inputs["Q"]) @ np.asarray(inputs["K"]).T * setup.scale
    keep = setup.allowed & crowded[:, None] & (S != 0.0)
    return S[rows][keep[rows]]


def _hint(inputs: dict[str, Any], setup: Setup, rows: Any = slice(None)) -> str:
    return useful_values(tabulate("e^({})", np.exp, _needed_scores(inputs, setup, rows)))


def _definition_lines(setup: Setup) -> list[str]:
    scale = f"scale = 1/√d = {fmt(setup.scale)} (d = {setup.d})"
    lines = [f"  S = Q Kᵀ · scale, with {scale}"]
    if setup.causal:
        lines.append(
            "  causal mask: position i attends only to positions j ≤ i, so Sᵢⱼ = −∞ for j > i"
        )
    lines += [
        "  P = softmax of each row of S: Pᵢⱼ = e^(Sᵢⱼ) / Σₖ e^(Sᵢₖ), with e^(−∞) = 0",
        "  O = P V",
    ]
    return lines


def _intro(setup: Setup, values: bool = True) -> str:
    listed = f"queries Q ({setup.n}×{setup.d}), keys K ({setup.m}×{setup.d})"
    if values:
        listed += f", values V ({setup.m}×{setup.dv})"
    return f"Scaled dot-product attention for one head, one row per position: {listed}."


# -- attention-backward ---------------------------------------------------------------------


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    S = np.asarray(inputs["Q"]) @ np.asarray(inputs["K"]).T * setup.scale
    S = np.where(setup.allowed, S, -np.inf)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    P = e / e.sum(axis=-1, keepdims=True)
    return float((np.asarray(inputs["G"]) * (P @ np.asarray(inputs["V"]))).sum())


def _slips_backward(inputs: dict[str, Any], loss: Tensor, setup: Setup, wrt: str, index, answer):
    """Likely wrong answers; `loss` is the answer's graph after its backward pass, which
    one of them changes (read the solution off it first)."""
    slips = {"sign flipped": -answer}
    unscaled = _loss(inputs, setup, scale=1.0)
    slips["scale 1/√d left out (forward and backward)"] = asked_gradient(unscaled, wrt, index)
    if setup.causal:
        open_setup = Setup(setup.n, setup.m, setup.d, setup.dv, causal=False)
        slips["causal mask ignored"] = asked_gradient(_loss(inputs, open_setup), wrt, index)
    nodes = named_nodes(loss)
    if wrt == "V":
        P, G = nodes["P"].value, nodes["G"].value
        if setup.n == setup.m:
            slips["P G instead of Pᵀ G"] = float((P @ G)[index])
    else:
        P, dP = nodes["P"].value, nodes["P"].grad
        slips["scale left out of the backward pass only"] = answer / setup.scale
        # ∂L/∂S = P ⊙ ∂L/∂P alone: the softmax treated as if it were elementwise.
        nodes["S"].backward(seed=P * dP)
        slips["the −Σₖ Pᵢₖ ∂L/∂Pᵢₖ term of the softmax backward forgotten"] = float(
            nodes[wrt].grad[index]
        )
    return slips_apart(slips, answer)


def _notes_backward(loss: Tensor, wrt: str) -> dict[str, str]:
    nodes = named_nodes(loss)
    P, dP = nodes["P"].value, nodes["P"].grad
    row_sums = (P * dP).sum(axis=-1)
    notes = {
        "S": f"rowsum(P ⊙ ∂L/∂P) = {fmt_array(row_sums)}: each row of P sums to 1, so "
        "raising one score lowers the others' weights"
    }
    if wrt == "V":
        notes["V"] = "each value row j collects Σᵢ Pᵢⱼ Gᵢ: the weight every query gave it"
    return notes


def generate_backward(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    wrt = choose(rng, params, "wrt", WRT)
    shapes = {"Q": (setup.n, setup.d), "K": (setup.m, setup.d), "V": (setup.m, setup.dv)}
    index = random_index(rng, shapes[wrt])
    if setup.causal and wrt == "Q" and index[0] == 0:
        # Query 0 sees only key 0: its weight is 1 whatever Q[0] is, so ∂L/∂Q[0] = 0.
        index = (int(rng.integers(1, setup.n)), index[1])

    def draw_inputs(r: np.random.Generator) -> dict:
        return _draw_qkv(r, difficulty, setup, with_g=True)

    def judge(inputs: dict) -> tuple[bool, tuple[Tensor, float]]:
        loss = _loss(inputs, setup)
        answer = asked_gradient(loss, wrt, index)
        return abs(answer) >= SMALLEST_ANSWER, (loss, answer)

    inputs, (loss, answer) = resample_keeping(rng, draw_inputs, judge)
    check_derivative(lambda v: _loss_value(v, setup), inputs, wrt, index, answer)
    solution = worked_solution(loss, wrt, index, answer, _notes_backward(loss, wrt))
    steps = guided_steps(loss, wrt, index, answer, skip={"O"})
    hint = _hint(inputs, setup) if difficulty is Difficulty.HAND else ""
    lines = [
        _intro(setup),
        *_definition_lines(setup),
        "  L = Σᵢⱼ Gᵢⱼ Oᵢⱼ, so G = ∂L/∂O is the gradient arriving from above",
        "Inputs:",
        *input_lines(inputs),
        *([hint] if hint else []),
        f"Compute ∂L/∂{wrt}{format_index(index)} {INDEX_NOTE}.",
    ]
    return Exercise(
        generator="attention-backward",
        seed=0,
        difficulty=difficulty,
        question="\n".join(lines),
        spec={
            "causal": setup.causal,
            "scale": setup.scale,
            "convention": CONVENTION,
            "loss": LOSS,
            "softmax": "over each row (the keys)",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(wrt, index),
        answer=answer,
        solution=solution,
        slips=_slips_backward(inputs, loss, setup, wrt, index, answer) if extras_wanted() else {},
        steps=steps,
    )


# -- attention-weights ---------------------------------------------------------------------


def _row(P: np.ndarray, inputs: dict[str, Any], row: int) -> np.ndarray:
    """Row `row` of P, or of O = P V when the inputs hold V."""
    return (P @ np.asarray(inputs["V"]) if "V" in inputs else P)[row]


def _slips_weights(inputs, setup: Setup, row: int, answer) -> dict:
    _, S, _, _ = _forward(inputs, setup)
    _, _, unscaled, _ = _forward(inputs, setup, scale=1.0)
    slips: dict[str, Any] = {
        "scale 1/√d left out": _row(unscaled.value, inputs, row),
        "softmax taken down each column (over the queries) instead of along the row": _row(
            engine.softmax(_masked(S, setup), axis=0).value, inputs, row
        ),
    }
    if setup.causal:
        open_setup = Setup(setup.n, setup.m, setup.d, setup.dv, causal=False)
        _, _, unmasked, _ = _forward(inputs, open_setup)
        slips["causal mask ignored"] = _row(unmasked.value, inputs, row)
        # The mask turned around: i sees j ≥ i (a row's last key is always allowed).
        turned = np.triu(np.ones((setup.n, setup.m), dtype=bool))
        raw = np.asarray(inputs["Q"]) @ np.asarray(inputs["K"]).T * setup.scale
        P = engine.softmax(engine.where(turned, raw, -np.inf)).value
        slips["mask turned around (j ≥ i kept)"] = _row(P, inputs, row)
    if "V" in inputs:
        scores = np.where(setup.allowed, S.value, 0.0)
        slips["scores used as weights, no softmax"] = _row(scores, inputs, row)
    return slips_apart(slips, answer)


def _solution_weights(inputs, setup: Setup, row: int, answer) -> list[str]:
    _, S, P, out = _forward(inputs, setup)
    k, visible = row, setup.allowed[row]
    s_row = np.where(visible, S.value[row], -np.inf)
    e = np.where(visible, np.exp(np.where(visible, s_row, 0.0)), 0.0)
    lines = [f"S[{k}] = Q[{k}] Kᵀ · {fmt(setup.scale)} = {_masked_text(s_row)}"]
    if setup.causal:
        lines.append(f"The mask leaves keys 0…{k} to position {k}; e^(−∞) = 0.")
    lines += [
        f"e^(S[{k}]) = {fmt_array(e)}, sum {fmt(e.sum(), 6)}",
        f"P[{k}] = e^(S[{k}]) / {fmt(e.sum(), 6)} = {fmt_array(P.value[k], 6)}",
    ]
    if out is None:
        return [*lines, "A row of weights sums to 1.", f"So P[{k}] = {fmt_array(answer, 6)}."]
    return [
        *lines,
        f"O[{k}] = P[{k}] V = Σⱼ P[{k}, j] V[j] = {fmt_array(out.value[k], 6)}",
        f"So O[{k}] = {fmt_array(answer, 6)}.",
    ]


def _masked_text(values: np.ndarray) -> str:
    return "[" + ", ".join("−∞" if v == -np.inf else fmt(v) for v in values) + "]"


def generate_weights(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    output = choose(rng, params, "asked", ("weights", "weights", "output")) == "output"
    # Under the mask, row 0 sees only itself: its weights are [1, 0, …] whatever the scores.
    row = int(rng.integers(1 if setup.causal else 0, setup.n))

    def acceptable(inputs: dict) -> bool:
        # Scores of one row all equal give uniform weights whatever the scale: redraw.
        scores = _score_values(inputs, setup, row)
        return len(set(scores.tolist())) == len(scores)

    inputs = resample(rng, lambda r: _draw_qkv(r, difficulty, setup), acceptable)
    if not output:
        del inputs["V"]
    _, _, P, out = _forward(inputs, setup)
    answer = (P if out is None else out).value[row] + 0.0
    what = f"the output O[{row}]" if output else f"the attention weights P[{row}]"
    hint = _hint(inputs, setup, row) if difficulty is Difficulty.HAND else ""
    definitions = _definition_lines(setup)
    lines = [
        _intro(setup, values=output),
        *(definitions if output else definitions[:-1]),
        "Inputs:",
        *input_lines(inputs),
        *([hint] if hint else []),
        f"Compute {what} of query {row} (a vector; indices start at 0).",
    ]
    convention = CONVENTION if output else "P = softmax_rows(Q Kᵀ · scale + mask)"
    return Exercise(
        generator="attention-weights",
        seed=0,
        difficulty=difficulty,
        question="\n".join(lines),
        spec={
            "causal": setup.causal,
            "scale": setup.scale,
            "convention": convention,
            "softmax": "over each row (the keys)",
            "asked": "output" if output else "weights",
        },
        inputs=json_inputs(inputs),
        asked={"value": "O" if output else "P", "index": [row]},
        answer=answer.tolist(),
        solution=_solution_weights(inputs, setup, row, answer),
        slips=_slips_weights(inputs, setup, row, answer) if extras_wanted() else {},
    )


GENERATE = {"attention-backward": generate_backward, "attention-weights": generate_weights}
PARAMS_BY_NAME = {"attention-backward": PARAMS_BACKWARD, "attention-weights": PARAMS_WEIGHTS}
