"""Exercise generators by name.

The table names each generator's module without importing it, so deck validation and
`drill gen --list` stay cheap; numpy loads only when an exercise is actually made.
Every module listed here defines:

    PARAMS: dict[str, tuple]   # accepted params and their allowed values (() = any value)
    def generate(rng: numpy.random.Generator, difficulty: Difficulty, **params) -> Exercise

A module hosting several generators defines GENERATE = {name: function} and
PARAMS_BY_NAME = {name: PARAMS} instead. `make` fills in the generator name and seed.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from drill.errors import DrillError
from drill.exercises.base import DEFAULT_TOLERANCE, Difficulty, Exercise, Tolerance


class UnknownGenerator(DrillError):
    """No generator has this name."""


class BadParams(DrillError):
    """A generator was given params it does not accept."""


@dataclass(frozen=True)
class GeneratorInfo:
    name: str
    module: str
    summary: str


_TABLE = [
    ("mlp-backward", "mlp", "Gradient of one weight or bias in a one-hidden-layer MLP."),
    ("softmax-cross-entropy", "softmax_ce", "Softmax cross-entropy loss or its logit gradient."),
    ("single-neuron", "neuron", "One neuron: dL/dw, dL/db or dL/dx for an activation and loss."),
    ("activation-derivative", "activation", "The derivative of an activation at a point."),
    ("chain-rule-graph", "chain_rule", "A scalar graph where one node feeds two others."),
    ("linear-classifier", "linear_classifier", "Softmax or logistic regression weight gradient."),
    ("vanishing-gradient", "vanishing", "How a gradient shrinks through sigmoid or tanh layers."),
    ("batchnorm-backward", "batchnorm", "Gradient through batch normalization in training mode."),
    ("adam-step", "optimizers", "One Adam update of a parameter, bias correction included."),
    ("sgd-momentum", "optimizers", "SGD with momentum and L2 weight decay: the next parameter."),
    ("weight-init", "init", "Xavier (normal, uniform) and He initialization scales."),
    ("dropout", "dropout", "Inverted dropout: the forward output or the backward gradient."),
    ("conv-output-size", "conv", "Output size of a convolution or pooling layer."),
    ("param-count", "counting", "Number of parameters of a dense or convolutional layer."),
    ("receptive-field", "conv", "Receptive field of a stack of convolutions and poolings."),
    ("initial-loss", "initial_loss", "The loss a freshly initialized classifier should show."),
    # Gradients through attention, normalisation, convolution and recurrent layers.
    ("attention-backward", "attention", "Gradient of Q, K or V through dot-product attention."),
    ("attention-weights", "attention", "One query's attention weights or output, causal mask."),
    ("layernorm-backward", "layernorm", "Gradient through layer normalization: x, γ or β."),
    ("rmsnorm-backward", "rmsnorm", "Gradient through RMSNorm: x or γ."),
    ("gated-activation-derivative", "gated", "Gradient through a SwiGLU or GeGLU gate."),
    ("rope-rotation", "rope", "Rotary position embedding: a rotated vector or a query-key score."),
    ("conv2d-backward", "conv_backward", "One element of ∂L/∂W or ∂L/∂x of a 2-D convolution."),
    ("maxpool-backward", "pooling", "Where max pooling sends the gradient: one element of ∂L/∂x."),
    ("rnn-bptt", "rnn", "Backpropagation through time over two steps of a tanh RNN."),
    ("lstm-gates", "lstm", "One LSTM step: the cell, the hidden state or a gradient."),
    # LLM arithmetic, sampling and preference losses; classical ML and statistics.
    ("kv-cache-memory", "llm_memory", "Size of a transformer's KV cache (MHA, GQA or MQA)."),
    ("training-memory", "llm_memory", "Memory of weights, gradients and optimizer states."),
    ("training-flops", "llm_scale", "Training FLOPs ≈ 6·N·D, Chinchilla-optimal size, days."),
    ("lora-params", "llm_scale", "Trainable parameters LoRA adds to a matrix or a model."),
    ("perplexity", "decoding", "Perplexity from token probabilities or a loss in nats or bits."),
    ("sampling", "decoding", "Temperature, top-k and top-p: which tokens survive, how likely."),
    ("dpo-loss", "pair_losses", "DPO's preference loss, or its gradient, from four log-probs."),
    ("infonce-loss", "pair_losses", "Contrastive InfoNCE loss or its gradient, temperature τ."),
    ("kmeans-step", "unsupervised", "One k-means step: a new centroid or the inertia after it."),
    ("pca-variance", "unsupervised", "Variance kept by principal components; how many."),
    ("classification-metrics", "metrics", "Precision, recall, F1 from counts; ROC-AUC."),
    ("bayes-posterior", "probability", "Bayes' rule: a condition's probability after a test."),
    ("ab-test", "probability", "A/B test: two-proportion z, its p-value, or the sample size."),
]

GENERATORS: dict[str, GeneratorInfo] = {
    name: GeneratorInfo(name, f"drill.exercises.{module}", summary)
    for name, module, summary in _TABLE
}


def names() -> list[str]:
    return list(GENERATORS)


def info(name: str) -> GeneratorInfo:
    try:
        return GENERATORS[name]
    except KeyError:
        raise UnknownGenerator(f"unknown generator {name!r}{did_you_mean(name)}") from None


def did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, GENERATORS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.cache
def _module(name: str) -> ModuleType:
    # Kept: every exercise of an export asks for it, twice (params, then generate).
    return importlib.import_module(info(name).module)


def _generate_fn(name: str):
    module = _module(name)
    # A module may host several generators: it then names them in GENERATE.
    table = getattr(module, "GENERATE", None)
    return table[name] if table else module.generate


def accepted_params(name: str) -> Mapping[str, tuple[Any, ...]]:
    module = _module(name)
    by_name = getattr(module, "PARAMS_BY_NAME", None)
    if by_name is not None:
        return by_name[name]
    return getattr(module, "PARAMS", {})


def check_params(name: str, params: Mapping[str, Any]) -> None:
    """Raise BadParams for the first param generator `name` does not accept."""
    for key, value in params.items():
        problem = param_problem(name, key, value)
        if problem:
            raise BadParams(problem)


def param_problem(name: str, key: str, value: Any) -> str | None:
    """Why generator `name` does not accept `key: value`, or None when it does."""
    allowed = accepted_params(name)
    if key not in allowed:
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"generator {name!r} has no param {key!r}{hint}"
    choices = allowed[key]
    # The type must match too: 2.0 == 2 and True == 1, but a generator handed 2.0 for a
    # size fails with a TypeError deep inside numpy.
    if not choices or any(type(value) is type(c) and value == c for c in choices):
        return None
    return f"generator {name!r}: param {key!r} must be {_expected(choices)}, not {_yaml(value)}"


_KINDS = {int: "an integer", float: "a number", str: "text"}


def _expected(choices: tuple[Any, ...]) -> str:
    """`an integer (1, 2 or 3)`, `true or false`, `one of relu, 0.5` (mixed types)."""
    kinds = {type(choice) for choice in choices}
    if kinds == {bool}:
        return "true or false"
    shown = [_yaml(c) if not isinstance(c, str) else c for c in choices]
    alternatives = ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]
    kind = _KINDS.get(kinds.pop()) if len(kinds) == 1 else None
    return f"{kind} ({alternatives})" if kind else f"one of {', '.join(shown)}"


def _yaml(value: Any) -> str:
    """A value as a deck writes it: true, null, 2.0; text quoted, so '2' is not 2."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)


def make(
    name: str,
    seed: int,
    params: Mapping[str, Any] | None = None,
    difficulty: Difficulty | str = Difficulty.HAND,
    *,
    extras: bool = True,
) -> Exercise:
    """Build the exercise `name` for `seed`: the same arguments always give the same exercise.

    With `extras=False` it comes without slips and guided steps, which only a study
    session uses (an export writes neither), and costs less to make."""
    import numpy as np

    return _made(np.random.default_rng(seed), name, seed, params, difficulty, extras)


Job = tuple[str, int, Mapping[str, Any] | None, Difficulty | str]


def make_all(jobs: Iterable[Job], *, extras: bool = True) -> Iterator[Exercise]:
    """make(*job, extras=extras) for each job, in order, with the random generators of
    all the jobs seeded at once (`seeding`: the same states, a tenth of the cost)."""
    from drill.exercises.seeding import seeded_generators

    jobs = list(jobs)
    generators = seeded_generators([seed for _, seed, _, _ in jobs])
    for (name, seed, params, difficulty), rng in zip(jobs, generators, strict=True):
        yield _made(rng, name, seed, params, difficulty, extras)


def _made(
    rng: Any,
    name: str,
    seed: int,
    params: Mapping[str, Any] | None,
    difficulty: Difficulty | str,
    extras: bool,
) -> Exercise:
    """The exercise `name` drawn from `rng`, which `seed` seeded."""
    params = dict(params or {})
    check_params(name, params)
    generate = _generate_fn(name)
    if type(difficulty) is not Difficulty:
        difficulty = Difficulty(difficulty)
    if extras:
        exercise = generate(rng, difficulty, **params)
    else:
        from drill.exercises.common import without_extras

        with without_extras():
            exercise = generate(rng, difficulty, **params)
    filled = exercise.__dict__
    filled["generator"] = name
    filled["seed"] = seed
    filled["tolerance"] = _scaled_tolerance(exercise.answer, exercise.tolerance)
    if not extras:  # what a generator still worked out, cheaply, is left out as well
        filled["slips"] = {}
        filled["steps"] = ()
    # The generator made this exercise for this call alone, so it is filled in where it
    # is rather than copied (dataclasses.replace: a tenth of a cheap generator's time),
    # in its dictionary (object.__setattr__, field by field, cost a third as much again).
    return exercise


def _scaled_tolerance(answer: Any, tolerance: Tolerance) -> Tolerance:
    """The default absolute tolerance (1e-3) only catches answers that are about zero.

    For an answer whose largest entry is small but not zero (a leaky-ReLU gradient of
    0.0105, say) it would pass 0.01 or even 0.0096, so it shrinks to 1% of that entry.
    Tolerances a generator chose itself are kept.
    """
    if tolerance is not DEFAULT_TOLERANCE and tolerance != DEFAULT_TOLERANCE:
        return tolerance
    if type(answer) is float:  # the usual answer: one number
        largest = abs(answer)
    else:
        largest = max((abs(float(v)) for v in _flat(answer)), default=0.0)
    if largest == 0.0 or largest * tolerance.rel >= tolerance.abs:
        return tolerance
    return Tolerance(rel=tolerance.rel, abs=largest * tolerance.rel)


def _flat(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [item for part in value for item in _flat(part)]
    return [value]
