"""training-flops and lora-params: the arithmetic of training and adapting a large model.

Training compute: a dense transformer with N parameters trained on D tokens costs about
C ≈ 6·N·D floating-point operations (2·N·D for the forward pass, twice that for the
backward pass). Chinchilla's compute-optimal rule puts about 20 tokens per parameter,
D ≈ 20·N, so a budget C gives N = √(C / 120) and D = 20·N. Wall-clock time divides C by
the cluster's sustained rate: GPUs · peak FLOP/s · MFU (model FLOPs utilisation).

LoRA freezes each adapted weight W of shape (d_out, d_in) and trains ΔW = B A, with B of
shape (d_out, r) and A of shape (r, d_in): r·(d_in + d_out) parameters per matrix, no
bias. With grouped-query attention W_k and W_v are narrower than W_q.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.common import (
    choose,
    fmt,
    fmt_count,
    fmt_sci,
    pick,
)
from drill.exercises.registry import BadParams
from drill.exercises.slips import telling_slips

PARAMS_BY_NAME: dict[str, dict[str, tuple[Any, ...]]] = {
    "training-flops": {"ask": ("flops", "tokens", "compute-optimal", "time")},
    "lora-params": {"scope": ("matrix", "model"), "targets": ("qv", "qkvo", "all")},
}

FLOPS_PER_PARAM_TOKEN = 6
TOKENS_PER_PARAM = 20
SECONDS_PER_DAY = 86_400


# --- training-flops ------------------------------------------------------------------------


def training_flops(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    default = (
        ("flops", "tokens", "compute-optimal")
        if hand
        else tuple(PARAMS_BY_NAME["training-flops"]["ask"])
    )
    ask = choose(rng, params, "ask", default)
    build = {
        "flops": _flops,
        "tokens": _tokens,
        "compute-optimal": _compute_optimal,
        "time": _time,
    }[ask]
    question, inputs, asked, answer, solution, slips = build(rng, hand)
    return Exercise(
        generator="training-flops",
        seed=0,
        difficulty=difficulty,
        question=question,
        spec={
            "ask": ask,
            "rule": "C = 6 · N · D",
            "tokens_per_param": TOKENS_PER_PARAM,
            "unit": {"flops": "FLOPs", "time": "days"}.get(ask, asked["value"]),
        },
        inputs=inputs,
        asked=asked,
        answer=answer,
        solution=solution,
        slips=telling_slips(slips, answer),
    )


RULE_TEXT = (
    "Use C ≈ 6·N·D FLOPs for N parameters and D training tokens (2·N·D for the forward "
    "pass, 4·N·D for the backward pass)."
)
CHINCHILLA_TEXT = (
    f"Chinchilla's compute-optimal rule trains on about D = {TOKENS_PER_PARAM}·N tokens."
)


def _model_size(rng: np.random.Generator, hand: bool) -> float:
    if hand:
        return pick(rng, (1, 2, 3, 7)) * 10.0 ** pick(rng, (8, 9, 10))
    return pick(rng, (1.3, 2.7, 6.7, 8, 13, 34, 70, 175, 405)) * 1e9


def _tokens_count(rng: np.random.Generator, hand: bool) -> float:
    if hand:
        return pick(rng, (1, 2, 3, 5)) * 10.0 ** pick(rng, (10, 11, 12))
    return pick(rng, (0.3, 1, 1.4, 2, 3.6, 15)) * 1e12


def _flops(rng: np.random.Generator, hand: bool):
    n, d = _model_size(rng, hand), _tokens_count(rng, hand)
    c = FLOPS_PER_PARAM_TOKEN * n * d
    question = (
        f"A dense transformer with N = {fmt_sci(n)} parameters is trained on D = {fmt_sci(d)} "
        f"tokens. {RULE_TEXT} How many FLOPs does training take? Answers within 1% count."
    )
    solution = [f"C = 6 · N · D = 6 · {fmt_sci(n)} · {fmt_sci(d)} = {fmt_sci(c)}."]
    slips = {
        "forward pass only (2·N·D)": 2 * n * d,
        "backward pass counted like the forward pass (4·N·D)": 4 * n * d,
        "N·D without the factor 6": n * d,
    }
    return question, {"params": n, "tokens": d}, {"value": "flops"}, c, solution, slips


def _tokens(rng: np.random.Generator, hand: bool):
    n = _model_size(rng, hand)
    d = TOKENS_PER_PARAM * n
    question = (
        f"{CHINCHILLA_TEXT} How many training tokens are compute-optimal for a model with "
        f"N = {fmt_sci(n)} parameters? Answers within 1% count."
    )
    solution = [f"D = {TOKENS_PER_PARAM} · N = {TOKENS_PER_PARAM} · {fmt_sci(n)} = {fmt_sci(d)}."]
    slips = {
        "N divided by 20 instead of multiplied": n / TOKENS_PER_PARAM,
        "6·N, the FLOPs per token, given instead": FLOPS_PER_PARAM_TOKEN * n,
    }
    inputs = {"params": n, "tokens_per_param": TOKENS_PER_PARAM}
    return question, inputs, {"value": "tokens"}, d, solution, slips


def _compute_optimal(rng: np.random.Generator, hand: bool):
    if hand:
        n = pick(rng, (1, 2, 3, 5, 7)) * 10.0 ** pick(rng, (8, 9, 10))
        c = FLOPS_PER_PARAM_TOKEN * TOKENS_PER_PARAM * n * n
    else:
        c = pick(rng, (1, 2, 3, 5, 6)) * 10.0 ** int(rng.integers(20, 26))
        n = math.sqrt(c / (FLOPS_PER_PARAM_TOKEN * TOKENS_PER_PARAM))
    d = TOKENS_PER_PARAM * n
    wanted = pick(rng, ("params", "tokens"))
    what = "parameters N should the model have" if wanted == "params" else "tokens D should it see"
    question = (
        f"A training budget is C = {fmt_sci(c)} FLOPs. {RULE_TEXT} {CHINCHILLA_TEXT} "
        f"Spending the whole budget compute-optimally, how many {what}? Answers within 1% count."
    )
    solution = [
        f"C = 6·N·D with D = {TOKENS_PER_PARAM}·N gives C = 120·N²",
        f"N = √(C / 120) = √({fmt_sci(c)} / 120) = √{fmt_sci(c / 120)} = {fmt_sci(n)}",
    ]
    if wanted == "params":
        solution[-1] += "."
        answer = n
        slips = {
            "D = N assumed (N = √(C/6))": math.sqrt(c / FLOPS_PER_PARAM_TOKEN),
            "square root left out (C/120)": c / 120,
            "the token count D given instead": d,
        }
    else:
        solution.append(f"D = {TOKENS_PER_PARAM} · N = {fmt_sci(d)}.")
        answer = d
        slips = {
            "the parameter count N given instead": n,
            "D = N assumed (D = √(C/6))": math.sqrt(c / FLOPS_PER_PARAM_TOKEN),
        }
    inputs = {"compute": c, "tokens_per_param": TOKENS_PER_PARAM}
    return question, inputs, {"value": wanted}, answer, solution, slips


def _time(rng: np.random.Generator, hand: bool):
    n, d = _model_size(rng, hand), _tokens_count(rng, hand)
    if hand:
        gpus, peak, mfu = pick(rng, (1000, 2000, 4000, 10000)), 1e15, pick(rng, (0.4, 0.5))
    else:
        gpus = pick(rng, (256, 512, 1024, 2048, 4096, 8192, 16384))
        peak = pick(rng, (312e12, 989e12))
        mfu = pick(rng, (0.3, 0.35, 0.4, 0.45, 0.5, 0.55))
    c = FLOPS_PER_PARAM_TOKEN * n * d
    rate = gpus * peak * mfu
    seconds = c / rate
    days = seconds / SECONDS_PER_DAY
    question = (
        f"A dense transformer with N = {fmt_sci(n)} parameters is trained on D = {fmt_sci(d)} "
        f"tokens on {fmt_count(gpus)} GPUs, each with a peak of {fmt_sci(peak)} FLOP/s, at a "
        f"model FLOPs utilisation (MFU) of {fmt(mfu)}: the share of the peak spent on the "
        f"model's FLOPs. {RULE_TEXT} How many days does training take (1 day = 86,400 s)? "
        "Answers within 1% count."
    )
    solution = [
        f"C = 6 · {fmt_sci(n)} · {fmt_sci(d)} = {fmt_sci(c)} FLOPs",
        f"Sustained rate: {fmt_count(gpus)} · {fmt_sci(peak)} · {fmt(mfu)} = {fmt_sci(rate)} "
        "FLOP/s",
        f"Time: {fmt_sci(c)} / {fmt_sci(rate)} = {fmt_sci(seconds)} s",
        f"In days: {fmt_sci(seconds)} / 86,400 = {fmt(days, 6)}.",
    ]
    slips = {
        "MFU left out (the peak taken as sustained)": days * mfu,
        "forward pass only (2·N·D)": days / 3,
        "hours given instead of days": days * 24,
        "seconds given instead of days": seconds,
    }
    inputs = {"params": n, "tokens": d, "gpus": gpus, "peak_flops_per_gpu": peak, "mfu": mfu}
    return question, inputs, {"value": "days"}, days, solution, slips


# --- lora-params ----------------------------------------------------------------------------

TARGETS = {
    "qv": ("q", "v"),
    "qkvo": ("q", "k", "v", "o"),
    "all": ("q", "k", "v", "o", "gate", "up", "down"),
}
MATRIX_NAME = {m: f"W_{m}" for m in ("q", "k", "v", "o", "gate", "up", "down")}


@dataclass(frozen=True)
class Model:
    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    d_ff: int

    def shape(self, matrix: str) -> tuple[int, int]:
        """(d_out, d_in) of one projection."""
        q_width, kv_width = self.heads * self.head_dim, self.kv_heads * self.head_dim
        return {
            "q": (q_width, self.d_model),
            "k": (kv_width, self.d_model),
            "v": (kv_width, self.d_model),
            "o": (self.d_model, q_width),
            "gate": (self.d_ff, self.d_model),
            "up": (self.d_ff, self.d_model),
            "down": (self.d_model, self.d_ff),
        }[matrix]


def lora_count(shapes: dict[str, tuple[int, int]], rank: int, layers: int) -> int:
    return layers * sum(rank * (d_out + d_in) for d_out, d_in in shapes.values())


def lora_params(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    scope = choose(rng, params, "scope", ("matrix", "model", "model"))
    rank = pick(rng, (1, 2, 4, 8) if hand else (4, 8, 16, 32, 64))
    if scope == "matrix":
        if params.get("targets") is not None:
            raise BadParams("lora-params: 'targets' applies to scope 'model', not to one matrix")
        sizes = (64, 128, 256, 512, 1000) if hand else (768, 1024, 2048, 4096, 5120, 11008)
        shapes = {"W": (pick(rng, sizes), pick(rng, sizes))}
        layers, model, targets = 1, None, ("W",)
        question = _matrix_question(shapes["W"], rank)
    else:
        model = _draw_model(rng, hand)
        layers = model.layers
        targets = TARGETS[choose(rng, params, "targets", ("qv", "qv", "qkvo", "all"))]
        shapes = {MATRIX_NAME[m]: model.shape(m) for m in targets}
        question = _model_question(model, targets, rank)
    answer = lora_count(shapes, rank, layers)
    per_layer = lora_count(shapes, rank, 1)
    slips = {
        "only A (r·d_in) counted": layers * sum(rank * d_in for _, d_in in shapes.values()),
        "r·d_out·d_in, a full matrix per rank": layers
        * sum(rank * o * i for o, i in shapes.values()),
        "the frozen weights counted too": answer + layers * sum(o * i for o, i in shapes.values()),
    }
    if layers > 1:
        slips["one layer only"] = per_layer
    if model is not None and model.kv_heads != model.heads and {"k", "v"} & set(targets):
        wide = {
            name: (model.d_model, d_in) if name in ("W_k", "W_v") else (d_out, d_in)
            for name, (d_out, d_in) in shapes.items()
        }
        slips["W_k and W_v taken as d_model wide (GQA ignored)"] = lora_count(wide, rank, layers)
    spec: dict[str, Any] = {
        "scope": scope,
        "rule": "ΔW = B A, B of shape (d_out, r), A of shape (r, d_in): r·(d_in + d_out) per "
        "matrix, no bias; base weights frozen",
    }
    inputs: dict[str, Any] = {
        "rank": rank,
        "layers": layers,
        "matrices": {name: list(shape) for name, shape in shapes.items()},
    }
    if model is not None:
        spec["targets"] = [MATRIX_NAME[m] for m in targets]
        inputs["model"] = {
            "d_model": model.d_model,
            "heads": model.heads,
            "kv_heads": model.kv_heads,
            "head_dim": model.head_dim,
            "d_ff": model.d_ff,
        }
    return Exercise(
        generator="lora-params",
        seed=0,
        difficulty=difficulty,
        question=question,
        spec=spec,
        inputs=inputs,
        asked={"value": "trainable_parameters"},
        answer=answer,
        tolerance=Tolerance(exact=True),
        solution=_lora_solution(shapes, rank, layers, answer),
        slips=telling_slips(slips, answer, Tolerance(exact=True)),
    )


def _draw_model(rng: np.random.Generator, hand: bool) -> Model:
    if hand:
        d_model = pick(rng, (64, 128, 256, 512))
        heads = pick(rng, (2, 4, 8))
        kv_heads = heads // pick(rng, (1, 2))
        return Model(
            pick(rng, (2, 4, 8, 10)), d_model, heads, kv_heads, d_model // heads, 4 * d_model
        )
    d_model, heads, d_ff = pick(
        rng,
        (
            (2048, 16, 5632),
            (2048, 32, 8192),
            (4096, 32, 11008),
            (4096, 32, 14336),
            (5120, 40, 13824),
            (8192, 64, 28672),
        ),
    )
    kv_heads = heads // pick(rng, (1, 4, 8))
    return Model(
        pick(rng, (16, 22, 24, 32, 40, 80)), d_model, heads, kv_heads, d_model // heads, d_ff
    )


LORA_RULE = (
    "LoRA freezes each adapted weight W of shape (d_out, d_in) and trains ΔW = B A, with B "
    "of shape (d_out, r) and A of shape (r, d_in); it adds no biases."
)


def _matrix_question(shape: tuple[int, int], rank: int) -> str:
    d_out, d_in = shape
    return (
        f"A linear layer y = W x has W of shape (d_out, d_in) = ({d_out}, {d_in}). {LORA_RULE} "
        f"With rank r = {rank}, how many trainable parameters does LoRA add to this layer?"
    )


def _model_question(model: Model, targets: tuple[str, ...], rank: int) -> str:
    attention = (
        f"{model.heads} attention heads (kv_heads = heads = {model.heads})"
        if model.kv_heads == model.heads
        else f"{model.heads} query heads and {model.kv_heads} key/value heads (grouped-query "
        "attention)"
    )
    names = [MATRIX_NAME[m] for m in targets]
    adapted = ", ".join(names[:-1]) + f" and {names[-1]}"
    return "\n".join(
        [
            f"A transformer has {model.layers} layers, d_model = {fmt_count(model.d_model)} and "
            f"{attention} of dimension {model.head_dim}. In every layer:",
            "  W_q has shape (heads · head_dim, d_model); W_k and W_v have shape "
            "(kv_heads · head_dim, d_model); W_o has shape (d_model, heads · head_dim);",
            f"  the gated MLP has W_gate and W_up of shape (d_ff, d_model) and W_down of shape "
            f"(d_model, d_ff), with d_ff = {fmt_count(model.d_ff)}.",
            LORA_RULE,
            f"LoRA with rank r = {rank} adapts {adapted} in every layer. How many trainable "
            "parameters does it add to the whole model?",
        ]
    )


def _lora_solution(
    shapes: dict[str, tuple[int, int]], rank: int, layers: int, answer: int
) -> list[str]:
    lines = [
        f"{name} ({d_out}×{d_in}): r·(d_in + d_out) = {rank}·({d_in} + {d_out}) = "
        f"{fmt_count(rank * (d_in + d_out))}"
        for name, (d_out, d_in) in shapes.items()
    ]
    per_layer = lora_count(shapes, rank, 1)
    if len(shapes) > 1:
        lines.append(f"Per layer: {fmt_count(per_layer)}")
    if layers > 1:
        lines.append(f"{layers} layers: {layers} · {fmt_count(per_layer)} = {answer}.")
    else:
        lines.append(f"Trainable parameters = {answer}.")
    return lines


GENERATE: dict[str, Callable[..., Exercise]] = {
    "training-flops": training_flops,
    "lora-params": lora_params,
}
