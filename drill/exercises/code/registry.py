"""Code exercises by name.

The table names each exercise's module without importing it, so deck validation and
`drill code list` stay cheap: numpy loads only when an exercise is shown or checked. Each
module listed here defines EXERCISES, a list of spec.CodeExercise values.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drill.errors import DrillError

if TYPE_CHECKING:
    from drill.exercises.code.spec import CodeExercise


class UnknownCodeExercise(DrillError):
    """No code exercise has this name."""


class BadCodeParams(DrillError):
    """A code exercise was given params it does not accept."""


@dataclass(frozen=True)
class CodeExerciseInfo:
    name: str
    module: str
    group: str
    summary: str


_GROUPS = {
    "numerics": "numerics",
    "layers": "layers",
    "norms": "normalisation",
    "conv": "convolution",
    "sequence": "sequence and attention",
    "optim": "optimizers",
    "training": "training utilities",
    "modern": "modern pieces",
}

_TABLE = [
    ("softmax", "numerics", "softmax(z) over the last axis, stable for entries of ±1000."),
    ("logsumexp", "numerics", "log Σ exp over the last axis without overflow or underflow."),
    ("bce-with-logits", "numerics", "Binary cross-entropy from logits and its gradient."),
    ("affine-forward", "layers", "out = x @ W + b, with x flattened to (N, D)."),
    ("affine-backward", "layers", "affine_backward(dout, x, W, b) -> (dx, dW, db)."),
    ("relu-backward", "layers", "The ReLU backward pass (0 at x = 0)."),
    ("softmax-cross-entropy", "layers", "Mean softmax cross-entropy and its logit gradient."),
    ("dropout", "layers", "Inverted dropout, training and evaluation."),
    ("embedding-backward", "layers", "An embedding's weight gradient, repeated ids included."),
    ("batchnorm-forward", "norms", "Batch normalization in training mode."),
    ("batchnorm-backward", "norms", "Gradients of batch normalization: dx, dgamma, dbeta."),
    ("layernorm-forward", "norms", "Layer normalization over the last axis."),
    ("layernorm-backward", "norms", "Gradients of layer normalization: dx, dgamma, dbeta."),
    ("rmsnorm-forward", "norms", "RMSNorm over the last axis."),
    ("rmsnorm-backward", "norms", "Gradients of RMSNorm: dx and dgamma."),
    ("conv2d-forward", "conv", "A naive 2-D convolution forward pass with stride and padding."),
    ("maxpool-backward", "conv", "The max-pooling backward pass, ties and overlaps included."),
    ("attention", "sequence", "Scaled dot-product attention with an optional causal mask."),
    ("attention-backward", "sequence", "Gradients of scaled dot-product attention."),
    ("rnn-step", "sequence", "One vanilla RNN step: h = tanh(x Wx + h_prev Wh + b)."),
    ("rnn-step-backward", "sequence", "The backward pass of one vanilla RNN step."),
    ("lstm-step", "sequence", "One LSTM cell step, gates in the order i, f, o, g."),
    ("sgd-momentum", "optim", "One step of SGD with momentum."),
    ("adam", "optim", "One Adam step with bias correction."),
    ("numerical-gradient", "training", "A gradient by central differences, for gradient checks."),
    ("logistic-regression-step", "training", "One gradient step of logistic regression."),
    ("kmeans-step", "training", "One k-means step: assign, then move the centroids."),
    ("rope", "modern", "Rotary position embedding applied to a query."),
    ("top-k-filter", "modern", "Keep the k largest logits of each row (ties kept)."),
    ("top-p-filter", "modern", "Nucleus (top-p) filtering of each row's logits."),
]

CODE_EXERCISES: dict[str, CodeExerciseInfo] = {
    name: CodeExerciseInfo(name, f"drill.exercises.code.{module}", _GROUPS[module], summary)
    for name, module, summary in _TABLE
}


def names() -> list[str]:
    return list(CODE_EXERCISES)


def info(name: str) -> CodeExerciseInfo:
    try:
        return CODE_EXERCISES[name]
    except KeyError:
        raise UnknownCodeExercise(
            f"unknown code exercise {name!r}{did_you_mean(name)}; see drill code list"
        ) from None


def did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, CODE_EXERCISES, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load(name: str) -> CodeExercise:
    """The exercise itself (imports its module, and numpy)."""
    module = importlib.import_module(info(name).module)
    for exercise in module.EXERCISES:
        if exercise.name == name:
            return exercise
    raise LookupError(f"{info(name).module} does not define {name!r}")  # a bug in the table


def param_problem(name: str, key: str, value: Any) -> str | None:
    """Why exercise `name` does not accept `key: value`, or None when it does."""
    allowed = load(name).params
    if key not in allowed:
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        accepted = f"; it takes {', '.join(allowed)}" if allowed else "; it takes no params"
        return f"code exercise {name!r} has no param {key!r}{hint}{accepted}"
    choices = allowed[key]
    if not choices or any(type(value) is type(c) and value == c for c in choices):
        return None
    shown = " or ".join(_yaml(c) for c in choices)
    return f"code exercise {name!r}: param {key!r} must be {shown}, not {_yaml(value)}"


def check_params(name: str, params: Mapping[str, Any]) -> None:
    for key, value in params.items():
        problem = param_problem(name, key, value)
        if problem:
            raise BadCodeParams(problem)


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)
