"""kv-cache-memory and training-memory: how many bytes a transformer needs to serve or train.

The KV cache holds, for every layer, key/value head and token, one key and one value
vector: bytes = 2 · layers · kv_heads · head_dim · seq_len · batch · bytes_per_value.
Grouped-query attention (several query heads per key/value head) and multi-query
attention (one key/value head) shrink it; only the key/value heads count.

Training memory counts the model's states per parameter, leaving activations out. Under
mixed precision with Adam: bf16 weights and gradients (2 + 2 bytes), an fp32 master copy
of the weights (4) and Adam's two fp32 moments (4 + 4), 16 bytes in all. ZeRO splits
some of these states evenly across the data-parallel GPUs: stage 1 the optimizer states
(master weights and moments), stage 2 also the gradients, stage 3 also the weights.

Exact integer arithmetic throughout; by hand every size is a power of 2 (KV cache) or of
10 (training), so the unit conversion is exact too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Answer, Difficulty, Exercise, Tolerance
from drill.exercises.common import choose, fmt, fmt_count, fmt_sci, pick, plural
from drill.exercises.slips import telling_slips

PARAMS_BY_NAME: dict[str, dict[str, tuple[Any, ...]]] = {
    "kv-cache-memory": {"attention": ("mha", "gqa", "mqa"), "unit": ("bytes", "MiB", "GiB")},
    "training-memory": {
        "precision": ("mixed", "fp32"),
        "optimizer": ("adam", "sgd-momentum"),
        "zero": (0, 1, 2, 3),
    },
}

BINARY_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
DECIMAL_UNITS = {"GB": 10**9, "GiB": 2**30}
UNIT_TEXT = {
    "MiB": "MiB (1 MiB = 2²⁰ bytes)",
    "GiB": "GiB (1 GiB = 2³⁰ bytes)",
    "GB": "GB (1 GB = 10⁹ bytes)",
    "bytes": "bytes",
}
# The unit a person confuses with each one: the other side of the 2¹⁰ / 10³ divide.
CONFUSED_UNIT = {"MiB": ("MB", 10**6), "GiB": ("GB", 10**9), "GB": ("GiB", 2**30)}
DTYPE = {1: "fp8", 2: "bf16", 4: "fp32"}


def _exact_or_float(total_bytes: int, unit: str, units: Mapping[str, int]) -> Answer:
    if unit == "bytes":
        return int(total_bytes)
    return total_bytes / units[unit]


# --- kv-cache-memory ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cache:
    layers: int
    heads: int  # query heads
    kv_heads: int
    head_dim: int
    seq_len: int
    batch: int
    bytes_per_value: int

    @property
    def per_token_layer(self) -> int:
        return 2 * self.kv_heads * self.head_dim * self.bytes_per_value

    @property
    def per_token(self) -> int:
        return self.per_token_layer * self.layers

    @property
    def total(self) -> int:
        return self.per_token * self.seq_len * self.batch

    def inputs(self) -> dict[str, int]:
        return {
            "layers": self.layers,
            "kv_heads": self.kv_heads,
            "head_dim": self.head_dim,
            "seq_len": self.seq_len,
            "batch": self.batch,
            "bytes_per_value": self.bytes_per_value,
        }


def _hand_cache(rng: np.random.Generator, attention: str) -> Cache:
    if attention == "mha":
        kv = heads = pick(rng, (2, 4, 8, 16))
    elif attention == "gqa":
        kv = pick(rng, (2, 4, 8))
        heads = kv * pick(rng, (2, 4, 8))
    else:
        kv, heads = 1, pick(rng, (4, 8, 16))
    return Cache(
        layers=pick(rng, (2, 4, 8, 16, 32)),
        heads=heads,
        kv_heads=kv,
        head_dim=pick(rng, (64, 128)),
        seq_len=pick(rng, (512, 1024, 2048, 4096)),
        batch=pick(rng, (1, 2, 4, 8)),
        bytes_per_value=pick(rng, (1, 2, 2, 4)),
    )


def _calc_cache(rng: np.random.Generator, attention: str) -> Cache:
    heads = pick(rng, (16, 24, 32, 40, 48, 64, 96, 128))
    if attention == "mha":
        kv = heads
    elif attention == "gqa":
        kv = heads // pick(rng, [g for g in (2, 4, 8) if heads % g == 0 and heads // g > 1])
    else:
        kv = 1
    return Cache(
        layers=pick(rng, (24, 28, 32, 40, 48, 60, 80, 126)),
        heads=heads,
        kv_heads=kv,
        head_dim=pick(rng, (64, 80, 96, 128, 256)),
        seq_len=pick(rng, (2048, 3000, 4096, 8192, 16384, 32768, 100000, 131072)),
        batch=pick(rng, (1, 2, 4, 8, 16, 32, 64)),
        bytes_per_value=pick(rng, (1, 2, 2, 4)),
    )


def _hand_unit(total: int) -> str:
    return "GiB" if total >= 2**30 else "MiB"


def kv_cache_memory(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    attention = choose(rng, params, "attention", ("mha", "gqa", "gqa", "mqa"))
    cache = (_hand_cache if hand else _calc_cache)(rng, attention)
    default_units = (_hand_unit(cache.total),) if hand else ("GiB", "GiB", "bytes")
    unit = choose(rng, params, "unit", default_units)
    answer = _exact_or_float(cache.total, unit, BINARY_UNITS)
    tolerance = Tolerance(exact=True) if unit == "bytes" else Tolerance()
    scale = BINARY_UNITS[unit]
    slips = {}
    if cache.heads != cache.kv_heads:  # first: the lesson of GQA and MQA
        slips["query heads counted instead of key/value heads"] = (
            cache.total / cache.kv_heads * cache.heads / scale
        )
    slips["keys only: the factor 2 for keys and values left out"] = cache.total / 2 / scale
    slips["bits per value used as bytes"] = cache.total * 8 / scale
    slips["batch left out"] = cache.total / cache.batch / scale
    if unit in CONFUSED_UNIT:
        other, size = CONFUSED_UNIT[unit]
        slips[f"{other} ({fmt_sci(size)} bytes) used instead of {unit}"] = cache.total / size
    return Exercise(
        generator="kv-cache-memory",
        seed=0,
        difficulty=difficulty,
        question=_cache_question(cache, attention, unit),
        spec={
            "attention": attention,
            "heads": cache.heads,
            "dtype": DTYPE[cache.bytes_per_value],
            "unit": unit,
            "formula": "bytes = 2 · layers · kv_heads · head_dim · seq_len · batch · "
            "bytes_per_value",
        },
        inputs=cache.inputs(),
        asked={"value": "kv_cache_memory"},
        answer=answer,
        tolerance=tolerance,
        solution=_cache_solution(cache, unit, answer),
        slips=telling_slips(slips, answer, tolerance),
    )


def _attention_text(cache: Cache, attention: str) -> str:
    if attention == "mha":
        return f"multi-head attention with {cache.heads} heads, each with its own keys and values"
    if attention == "mqa":
        return f"multi-query attention: its {cache.heads} query heads share one key/value head"
    group = cache.heads // cache.kv_heads
    return (
        f"grouped-query attention with {cache.heads} query heads and {cache.kv_heads} "
        f"key/value heads, each shared by {group} query heads"
    )


def _cache_question(cache: Cache, attention: str, unit: str) -> str:
    dtype = DTYPE[cache.bytes_per_value]
    sequences = "one sequence" if cache.batch == 1 else f"a batch of {cache.batch} sequences"
    return "\n".join(
        [
            f"A decoder-only transformer has {cache.layers} layers; each uses "
            f"{_attention_text(cache, attention)}, with head dimension {cache.head_dim}.",
            "While generating, it caches for every layer, every key/value head and every "
            f"token one key vector and one value vector of {cache.head_dim} values each, "
            f"stored in {dtype} ({cache.bytes_per_value} "
            f"byte{'s' if cache.bytes_per_value > 1 else ''} per value).",
            f"How much memory does the KV cache take for {sequences} of "
            f"{fmt_count(cache.seq_len)} tokens{'' if cache.batch == 1 else ' each'}? "
            f"Give it in {UNIT_TEXT[unit]}.",
        ]
    )


def _cache_solution(cache: Cache, unit: str, answer: Answer) -> list[str]:
    lines = [
        f"Per token and layer: 2 (key and value) · {cache.kv_heads} key/value heads · "
        f"{cache.head_dim} values · {cache.bytes_per_value} bytes = "
        f"{fmt_count(cache.per_token_layer)} bytes",
        f"Per token: {fmt_count(cache.per_token_layer)} · {cache.layers} layers = "
        f"{fmt_count(cache.per_token)} bytes",
    ]
    whole = (
        f"{fmt_count(cache.per_token)} · {fmt_count(cache.seq_len)} tokens · "
        f"{plural(cache.batch, 'sequence')}"
    )
    if cache.heads != cache.kv_heads:
        lines.insert(
            0,
            f"Only the {cache.kv_heads} key/value heads are cached, not the "
            f"{cache.heads} query heads.",
        )
    if unit == "bytes":
        lines.append(f"Whole cache, in bytes: {whole} = {cache.total}.")
    else:
        power = {"MiB": "2²⁰", "GiB": "2³⁰"}[unit]
        lines.append(f"Whole cache: {whole} = {fmt_count(cache.total)} bytes")
        lines.append(f"In {unit}: {fmt_count(cache.total)} / {power} = {fmt(answer, 6)}.")
    return lines


# --- training-memory ---------------------------------------------------------------------

OPTIMIZER_STATES = ("master_weights", "adam_m", "adam_v", "momentum")
SHARDED_BY_STAGE = {
    0: (),
    1: OPTIMIZER_STATES,
    2: (*OPTIMIZER_STATES, "gradients"),
    3: (*OPTIMIZER_STATES, "gradients", "weights"),
}
STATE_TEXT = {
    "weights": "the weights used in the forward and backward passes",
    "gradients": "the gradients",
    "master_weights": "an fp32 master copy of the weights, which the optimizer updates",
    "adam_m": "Adam's first moment m",
    "adam_v": "Adam's second moment v",
    "momentum": "the momentum buffer",
}


@dataclass(frozen=True)
class Training:
    params: int
    gpus: int
    zero: int
    bytes_per_param: Mapping[str, int]

    @property
    def sharded(self) -> tuple[str, ...]:
        return tuple(s for s in SHARDED_BY_STAGE[self.zero] if s in self.bytes_per_param)

    def state_bytes(self, state: str) -> float:
        share = self.gpus if state in self.sharded else 1
        return self.params * self.bytes_per_param[state] / share

    def total(self, states: tuple[str, ...] | None = None) -> float:
        return sum(self.state_bytes(s) for s in states or tuple(self.bytes_per_param))


def _bytes_per_param(precision: str, optimizer: str) -> dict[str, int]:
    low = 2 if precision == "mixed" else 4
    states = {"weights": low, "gradients": low}
    if precision == "mixed":
        states["master_weights"] = 4
    if optimizer == "adam":
        states |= {"adam_m": 4, "adam_v": 4}
    else:
        states["momentum"] = 4
    return states


def training_memory(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    precision = choose(rng, params, "precision", ("mixed", "mixed", "fp32"))
    optimizer = choose(rng, params, "optimizer", ("adam", "adam", "sgd-momentum"))
    zero = choose(rng, params, "zero", (0, 0, 1, 2, 3))
    if hand:
        n = pick(rng, (1, 2, 3, 7, 13, 70)) * 10**9
        gpus = pick(rng, (4, 8, 10, 16)) if zero else 1
        unit = "GB"
    else:
        n = int(pick(rng, (1.3, 2.7, 6.7, 8, 13, 34, 70, 175, 405)) * 10**9)
        gpus = pick(rng, (8, 16, 32, 64, 128, 256, 512)) if zero else 1
        unit = pick(rng, ("GB", "GiB"))
    run = Training(n, gpus, zero, _bytes_per_param(precision, optimizer))
    answer = run.total() / DECIMAL_UNITS[unit]
    scale = DECIMAL_UNITS[unit]
    slips = {"weights alone": run.state_bytes("weights") / scale}
    if "master_weights" in run.bytes_per_param:
        states = tuple(s for s in run.bytes_per_param if s != "master_weights")
        slips["fp32 master weights left out"] = run.total(states) / scale
    if optimizer == "adam":
        states = tuple(s for s in run.bytes_per_param if s != "adam_v")
        slips["only one of Adam's two moments counted"] = run.total(states) / scale
    if zero:
        whole = Training(n, 1, 0, run.bytes_per_param)
        slips["ZeRO's sharding left out"] = whole.total() / scale
        every = Training(n, gpus, 3, run.bytes_per_param)
        slips["every state split across the GPUs"] = every.total() / scale
    other, size = CONFUSED_UNIT[unit]
    slips[f"{other} used instead of {unit}"] = run.total() / size
    return Exercise(
        generator="training-memory",
        seed=0,
        difficulty=difficulty,
        question=_training_question(run, precision, optimizer, unit),
        spec={
            "precision": precision,
            "optimizer": optimizer,
            "zero_stage": zero,
            "sharded": list(run.sharded),
            "unit": unit,
            "excludes": "activations, temporary buffers and fragmentation",
            "formula": "Σ_state params · bytes_per_param[state] / (gpus if state is sharded "
            "else 1)",
        },
        inputs={"params": n, "gpus": gpus, "bytes_per_param": dict(run.bytes_per_param)},
        asked={"value": "training_memory"},
        answer=answer,
        solution=_training_solution(run, unit, answer),
        slips=telling_slips(slips, answer),
    )


def _precision_text(precision: str, optimizer: str) -> str:
    name = "Adam" if optimizer == "adam" else "SGD with momentum"
    if precision == "mixed":
        return f"with mixed precision (bf16 compute, fp32 optimizer) and {name}"
    return f"in full fp32 precision with {name}"


def _state_list(run: Training) -> str:
    parts = [f"{STATE_TEXT[state]} ({b} bytes)" for state, b in run.bytes_per_param.items()]
    return ", ".join(parts[:-1]) + f" and {parts[-1]}"


STATE_LABEL = {
    "weights": "weights",
    "gradients": "gradients",
    "master_weights": "master weights",
    "adam_m": "Adam m",
    "adam_v": "Adam v",
    "momentum": "momentum",
}
SHARD_NAME = {
    "master_weights": "the master weights",
    "adam_m": "m",
    "adam_v": "v",
    "momentum": "the momentum buffer",
    "gradients": "the gradients",
    "weights": "the weights",
}


def _zero_text(run: Training) -> str:
    if not run.zero:
        return "Nothing is sharded: count every state in full."
    names = [SHARD_NAME[state] for state in run.sharded]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return (
        f"It is trained with data parallelism on {run.gpus} GPUs using ZeRO stage {run.zero}: "
        f"{listed} are split evenly across the GPUs; every GPU keeps a full copy of the rest."
    )


def _training_question(run: Training, precision: str, optimizer: str, unit: str) -> str:
    where = "on each GPU" if run.zero else ""
    return "\n".join(
        [
            f"A model with {fmt_sci(run.params)} parameters is trained "
            f"{_precision_text(precision, optimizer)}.",
            f"For every parameter it keeps {_state_list(run)}.",
            _zero_text(run),
            "Leave out activations, temporary buffers and fragmentation.",
            f"How much memory do these states take{' ' + where if where else ''}, "
            f"in {UNIT_TEXT[unit]}?",
        ]
    )


def _training_solution(run: Training, unit: str, answer: float) -> list[str]:
    lines = []
    for state, b in run.bytes_per_param.items():
        split = f" / {run.gpus} GPUs" if state in run.sharded else ""
        lines.append(
            f"{STATE_LABEL[state]}: {fmt_sci(run.params)} · {b} bytes{split} = "
            f"{fmt_sci(run.state_bytes(state))} bytes"
        )
    total = run.total()
    per_param = sum(run.bytes_per_param.values())
    if not run.zero:
        lines.append(f"{per_param} bytes per parameter: {fmt_sci(total)} bytes in all")
    else:
        lines.append(f"Sum on each GPU: {fmt_sci(total)} bytes")
    power = "10⁹" if unit == "GB" else "2³⁰"
    lines.append(f"In {unit}: {fmt_sci(total)} / {power} = {fmt(answer, 6)}.")
    return lines


GENERATE: dict[str, Callable[..., Exercise]] = {
    "kv-cache-memory": kv_cache_memory,
    "training-memory": training_memory,
}
