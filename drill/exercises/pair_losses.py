"""dpo-loss and infonce-loss: losses that score one answer against the others.

DPO (Rafailov et al., 2023) trains a policy π_θ on a preferred answer y_w and a rejected
one y_l, against a frozen reference π_ref:
    h = β · [(ln π_θ(y_w) − ln π_ref(y_w)) − (ln π_θ(y_l) − ln π_ref(y_l))]
    L = −ln σ(h) = ln(1 + e^(−h))
with sequence log-probabilities in nats; ∂L/∂ln π_θ(y_w) = −β σ(−h).

InfoNCE (van den Oord et al., 2018; CLIP and SimCLR's loss) scores a query q against
keys k_0, …, k_(n−1), one of them the positive:
    s_j = (q · k_j) / τ,  L = −ln( e^(s_pos) / Σ_j e^(s_j) )
a softmax cross-entropy over similarities; ∂L/∂q = Σ_j (softmax(s)_j − [j = pos]) k_j / τ.

Values and gradients come from the engine, gradients checked by central differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    ASKED_LOSS,
    HINT_ARGUMENT_DIGITS,
    INDEX_NOTE,
    SMALLEST_ANSWER,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    draws,
    fmt,
    input_lines,
    json_inputs,
    one_hot,
    pick,
    random_index,
    resample,
    tabulate,
    useful_values,
    value_solution,
    worked_solution,
)
from drill.exercises.screening import resample_keeping
from drill.exercises.slips import telling_slips

PARAMS_BY_NAME: dict[str, dict[str, tuple[Any, ...]]] = {
    "dpo-loss": {"asked": ("loss", "gradient")},
    "infonce-loss": {"asked": ("loss", "gradient")},
}

# --- dpo-loss --------------------------------------------------------------------------------

LOGPROBS = ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected")
DPO_RULE = (
    "h = β · [(policy_chosen − ref_chosen) − (policy_rejected − ref_rejected)], "
    "L = −ln σ(h) = ln(1 + e^(−h))"
)


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _dpo_graph(inputs: dict[str, Any], beta: float) -> Tensor:
    t = {name: Tensor(inputs[name], name=name) for name in LOGPROBS}
    t["policy_chosen"].backward_note = "∂L/∂r_w"
    t["policy_rejected"].backward_note = "∂L/∂r_l"
    r_w = (t["policy_chosen"] - t["ref_chosen"]).named(
        "r_w", forward="policy_chosen − ref_chosen", backward="β · ∂L/∂h"
    )
    r_l = (t["policy_rejected"] - t["ref_rejected"]).named(
        "r_l", forward="policy_rejected − ref_rejected", backward="−β · ∂L/∂h"
    )
    h = (beta * (r_w - r_l)).named("h", forward="β · (r_w − r_l)", backward="−σ(−h)")
    return engine.softplus(-h).named("L", forward="ln(1 + e^(−h))")


def _dpo_inputs(rng: np.random.Generator, hand: bool) -> dict[str, float]:
    if hand:
        policy = rng.integers(-40, -4, size=2).astype(float)
        ref = policy - rng.integers(-4, 5, size=2)
    else:
        policy = np.round(rng.uniform(-80.0, -10.0, size=2), 2)
        ref = np.round(policy - rng.uniform(-6.0, 6.0, size=2), 2)
    return {
        "policy_chosen": float(policy[0]),
        "policy_rejected": float(policy[1]),
        "ref_chosen": float(ref[0]),
        "ref_rejected": float(ref[1]),
    }


def _margin(inputs: dict[str, float]) -> float:
    return (inputs["policy_chosen"] - inputs["ref_chosen"]) - (
        inputs["policy_rejected"] - inputs["ref_rejected"]
    )


def dpo_loss(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    asked = choose(rng, params, "asked", ("loss", "gradient"))
    beta = pick(rng, (0.1, 0.5, 1.0) if hand else (0.05, 0.1, 0.2, 0.5))
    low = 0.1 if hand else 0.05
    inputs = resample(
        rng,
        lambda r: _dpo_inputs(r, hand),
        lambda v: low <= abs(beta * _margin(v)) <= 3.0,
    )
    h = beta * _margin(inputs)
    loss = _dpo_graph(inputs, beta)
    wrt = pick(rng, ("policy_chosen", "policy_rejected"))
    if asked == "loss":
        answer = loss.item()
        solution = value_solution(loss, answer)
        asked_json: dict[str, Any] = dict(ASKED_LOSS)
        slips = {
            "β left out": _softplus(-_margin(inputs)),
            "reference log-probabilities left out": _softplus(
                -beta * (inputs["policy_chosen"] - inputs["policy_rejected"])
            ),
            "chosen and rejected swapped (−ln σ(−h))": _softplus(h),
            "σ(h) given instead of −ln σ(h)": _sigmoid(h),
        }
    else:
        answer = asked_gradient(loss, wrt)
        check_derivative(lambda v: _softplus(-beta * _margin(v)), inputs, wrt, (), answer)
        solution = worked_solution(loss, wrt, (), answer)
        asked_json = asked_derivative(wrt, ())
        sign = -1.0 if wrt == "policy_chosen" else 1.0
        slips = {
            "sign flipped": -answer,
            "β left out": sign * _sigmoid(-h),
            "σ(h) in place of σ(−h)": sign * beta * _sigmoid(h),
        }
    hint = _dpo_hint(h, _margin(inputs), asked) if hand else ""
    return Exercise(
        generator="dpo-loss",
        seed=0,
        difficulty=difficulty,
        question=_dpo_question(inputs, beta, asked, wrt, hint),
        spec={"beta": beta, "loss": DPO_RULE, "log": "natural", "asked": asked},
        inputs=inputs,
        asked=asked_json,
        answer=answer,
        solution=solution,
        slips=telling_slips(slips, answer),
    )


def _softplus(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _dpo_hint(h: float, margin: float, asked: str) -> str:
    """ln σ (for the loss) or σ (for the gradient) at h and at two values a slip would use."""
    arguments = sorted({h, -h, margin})
    if asked == "loss":
        return useful_values(tabulate("ln σ({})", lambda v: math.log(_sigmoid(v)), arguments))
    return useful_values(tabulate("σ({})", _sigmoid, arguments))


def _dpo_question(inputs: dict[str, float], beta: float, asked: str, wrt: str, hint: str) -> str:
    wanted = "the loss L" if asked == "loss" else f"∂L/∂{wrt}"
    return "\n".join(
        [
            "DPO trains a policy π_θ on a prompt with a preferred answer y_w (chosen) and a "
            "dispreferred one y_l (rejected), against a frozen reference model π_ref.",
            "Sequence log-probabilities (natural log):",
            f"  policy_chosen = ln π_θ(y_w) = {fmt(inputs['policy_chosen'])}",
            f"  policy_rejected = ln π_θ(y_l) = {fmt(inputs['policy_rejected'])}",
            f"  ref_chosen = ln π_ref(y_w) = {fmt(inputs['ref_chosen'])}",
            f"  ref_rejected = ln π_ref(y_l) = {fmt(inputs['ref_rejected'])}",
            f"With β = {fmt(beta)}:",
            "  h = β · [(policy_chosen − ref_chosen) − (policy_rejected − ref_rejected)]",
            "  L = −ln σ(h) = ln(1 + e^(−h)), where σ(h) = 1 / (1 + e^(−h))",
            *([hint] if hint else []),
            f"Compute {wanted}.",
        ]
    )


# --- infonce-loss ----------------------------------------------------------------------------


def _infonce_graph(inputs: dict[str, Any], tau: float, positive: int) -> Tensor:
    q = Tensor(inputs["q"], name="q")
    q.backward_note = "Kᵀ ∂L/∂s / τ"
    keys = Tensor(inputs["K"], name="K")
    s = ((keys @ q) / tau).named("s", forward="K q / τ", backward="softmax(s) − y")
    y = one_hot(len(inputs["K"]), positive)
    log_p = engine.log_softmax(s).named("log p", forward="log softmax(s)")
    return (-(Tensor(y, name="y") * log_p).sum()).named("L", forward="−log p[pos]")


def infonce_loss(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    asked = choose(rng, params, "asked", ("loss", "gradient"))
    tau = pick(rng, (1.0, 0.5) if hand else (0.1, 0.2, 0.5, 1.0))
    d = 2 if hand else pick(rng, (3, 4))
    n = 3 if hand else pick(rng, (3, 4, 5))
    positive = int(rng.integers(n))
    index = random_index(rng, (d,))

    def draw_inputs(r: np.random.Generator) -> dict[str, np.ndarray]:
        q, K = draws(r, difficulty, ((d,), -1.0, 1.0, True), ((n, d), -1.0, 1.0, True))
        return {"q": q, "K": K}

    def teaches(v: dict) -> tuple[bool, tuple[Tensor, float]]:
        """An answer away from 0, and a positive that weighs in its own denominator; with
        the graph and the answer, kept for the accepted draw."""
        loss = _infonce_graph(v, tau, positive)
        answer = loss.item() if asked == "loss" else asked_gradient(loss, "q", index)
        s = v["K"] @ v["q"] / tau
        p = np.exp(s - s.max())
        share = p[positive] / p.sum()
        return abs(answer) >= SMALLEST_ANSWER and 0.05 <= share <= 0.95, (loss, answer)

    inputs, (loss, answer) = resample_keeping(rng, draw_inputs, teaches)
    s = inputs["K"] @ inputs["q"] / tau
    if asked == "loss":
        solution = value_solution(loss, answer)
        asked_json: dict[str, Any] = dict(ASKED_LOSS)
        negatives = np.delete(s, positive)
        slips = {
            "temperature left out": _cross_entropy(s * tau, positive),
            "positive left out of the denominator": float(
                -s[positive] + np.log(np.exp(negatives).sum())
            ),
            "log base 10 instead of the natural log": answer / math.log(10.0),
        }
    else:
        check_derivative(
            lambda v: _cross_entropy(v["K"] @ v["q"] / tau, positive), inputs, "q", index, answer
        )
        solution = worked_solution(loss, "q", index, answer)
        asked_json = asked_derivative("q", index)
        p = np.exp(s - s.max())
        p /= p.sum()
        slips = {
            "sign flipped": -answer,
            "1/τ left out": answer * tau,
            "the positive key's −k_pos term left out": float(inputs["K"][:, index[0]] @ p / tau),
        }
    hint = useful_values(_infonce_values(s, asked)) if hand else ""
    return Exercise(
        generator="infonce-loss",
        seed=0,
        difficulty=difficulty,
        question=_infonce_question(inputs, tau, positive, asked, index, hint),
        spec={
            "temperature": tau,
            "positive": positive,
            "similarity": "dot product",
            "loss": "s_j = q · k_j / τ, L = −ln(e^(s_pos) / Σ_j e^(s_j))",
            "asked": asked,
        },
        inputs=json_inputs(inputs),
        asked=asked_json,
        answer=answer,
        solution=solution,
        slips=telling_slips(slips, answer),
    )


def _cross_entropy(s: np.ndarray, positive: int) -> float:
    top = s.max()
    return float(top + np.log(np.exp(s - top).sum()) - s[positive])


def _infonce_values(s: np.ndarray, asked: str) -> list[tuple[str, float]]:
    """e^(s_j) for each distinct similarity, and for the loss ln of their sum."""
    values = tabulate("e^({})", np.exp, s)
    if asked == "loss":
        total = float(np.exp(s).sum())
        values.append((f"ln(Σⱼ e^(sⱼ)) = ln({fmt(total, HINT_ARGUMENT_DIGITS)})", math.log(total)))
    return values


def _infonce_question(
    inputs: dict, tau: float, positive: int, asked: str, index: tuple[int, ...], hint: str
) -> str:
    n = len(inputs["K"])
    wanted = "the loss L" if asked == "loss" else f"∂L/∂q[{index[0]}] {INDEX_NOTE}"
    return "\n".join(
        [
            f"A contrastive (InfoNCE) loss scores a query q against n = {n} keys, the rows "
            f"k_0, …, k_{n - 1} of K; the positive is k_{positive} (rows counted from 0), the "
            "others are negatives.",
            f"  s_j = (q · k_j) / τ, with temperature τ = {fmt(tau)}",
            f"  L = −ln( e^(s_{positive}) / Σ_j e^(s_j) ), natural log",
            "Inputs:",
            *input_lines(inputs),
            *([hint] if hint else []),
            f"Compute {wanted}.",
        ]
    )


GENERATE: dict[str, Callable[..., Exercise]] = {
    "dpo-loss": dpo_loss,
    "infonce-loss": infonce_loss,
}
