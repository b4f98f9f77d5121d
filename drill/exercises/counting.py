"""param-count: how many trainable parameters a dense or convolutional layer (or stack) has.

Exact integer arithmetic: weights are the product of the weight tensor's dimensions,
biases one per output unit or channel. Activations and pooling have no parameters.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.common import pick, plural

PARAMS = {"layer": ("dense", "conv", "stack"), "bias": (True, False)}

_HAND_UNITS = (2, 3, 4, 5, 6, 8, 10)
_CALC_UNITS = (64, 100, 128, 256, 300, 512, 784, 1000, 1024, 2048, 4096)
_HAND_CHANNELS = (1, 2, 3, 4, 8)
_CALC_CHANNELS = (3, 16, 32, 64, 96, 128, 192, 256, 512)


@dataclass(frozen=True)
class Layer:
    """A dense layer (k = 0) or a k×k convolution, from `n_in` to `n_out` units or channels."""

    n_in: int
    n_out: int
    k: int = 0
    bias: bool = True

    @property
    def is_conv(self) -> bool:
        return self.k > 0

    @property
    def weights(self) -> int:
        return self.n_out * self.n_in * (self.k * self.k if self.is_conv else 1)

    @property
    def biases(self) -> int:
        return self.n_out if self.bias else 0

    @property
    def count(self) -> int:
        return self.weights + self.biases

    def describe(self) -> str:
        if self.is_conv:
            return f"conv {self.k}×{self.k} from {self.n_in} to {self.n_out} channels"
        return f"dense {self.n_in} → {self.n_out}"

    def working(self) -> str:
        """How the count is made, ending in it: "784·256 + 256 = 200960"."""
        if self.is_conv:
            weights = f"{self.n_out}·{self.n_in}·{self.k}·{self.k}"
        else:
            weights = f"{self.n_in}·{self.n_out}"
        biases = f" + {self.n_out}" if self.bias else ""
        return f"{weights}{biases} = {self.count}"

    def to_dict(self) -> dict[str, Any]:
        shape = [self.n_out, self.n_in, self.k, self.k] if self.is_conv else [self.n_out, self.n_in]
        return {
            "kind": "conv" if self.is_conv else "dense",
            "weight_shape": shape,
            "bias": self.bias,
        }


def _dense(rng: np.random.Generator, hand: bool, bias: bool) -> list[Layer]:
    units = _HAND_UNITS if hand else _CALC_UNITS
    return [Layer(pick(rng, units), pick(rng, units), bias=bias)]


def _conv(rng: np.random.Generator, hand: bool, bias: bool) -> list[Layer]:
    channels = _HAND_CHANNELS if hand else _CALC_CHANNELS
    k = pick(rng, (1, 3) if hand else (1, 3, 5, 7))
    return [Layer(pick(rng, channels), pick(rng, channels[1:]), k=k, bias=bias)]


def _stack(rng: np.random.Generator, hand: bool, bias: bool) -> list[Layer]:
    if rng.random() < 0.5:  # an MLP
        units = _HAND_UNITS if hand else _CALC_UNITS
        sizes = [pick(rng, units) for _ in range(int(rng.integers(3, 5)))]
        sizes[-1] = pick(rng, (2, 3) if hand else (10, 100, 1000))
        return [Layer(a, b, bias=bias) for a, b in itertools.pairwise(sizes)]
    # A small CNN: two convolutions, global average pooling, a dense classifier.
    channels = _HAND_CHANNELS if hand else _CALC_CHANNELS
    c0 = pick(rng, channels)
    c1, c2 = (pick(rng, channels[1:]) for _ in range(2))
    k = pick(rng, (1, 3) if hand else (3, 5))
    classes = pick(rng, (2, 3) if hand else (10, 100, 1000))
    return [
        Layer(c0, c1, k=k, bias=bias),
        Layer(c1, c2, k=k, bias=bias),
        Layer(c2, classes, bias=bias),
    ]


_DRAW = {"dense": _dense, "conv": _conv, "stack": _stack}


def generate(
    rng: np.random.Generator,
    difficulty: Difficulty,
    layer: str | None = None,
    bias: bool | None = None,
) -> Exercise:
    kind = layer or pick(rng, ("dense", "conv", "stack"))
    with_bias = bias if bias is not None else rng.random() < 0.75
    layers = _DRAW[kind](rng, difficulty is Difficulty.HAND, with_bias)
    total = sum(item.count for item in layers)
    return Exercise(
        generator="param-count",
        seed=0,
        difficulty=difficulty,
        question=_question(layers, with_bias),
        spec={"layer": kind, "bias": with_bias},
        inputs={"layers": [item.to_dict() for item in layers]},
        asked={"value": "parameters"},
        answer=total,
        tolerance=Tolerance(exact=True),
        solution=_solution(layers, total),
        slips={text: value for text, value in _slips(layers).items() if value != total},
    )


def _question(layers: Sequence[Layer], bias: bool) -> str:
    if len(layers) == 1:
        what = _single_layer_text(layers[0])
    else:
        steps = [item.describe() for item in layers]
        if layers[0].is_conv:
            steps.insert(2, "global average pooling")
        what = "A network applies, in order: " + ", then ".join(steps) + "."
    conventions = []
    if not all(item.is_conv for item in layers):
        conventions.append("A dense layer computes z = W x + b with W of shape (out, in).")
    if any(item.is_conv for item in layers):
        conventions.append(
            "A convolution has one k×k kernel per (output channel, input channel) pair."
        )
    conventions.append(
        "Every layer has one bias per output unit or channel." if bias else "No layer has a bias."
    )
    conventions.append("Activations and pooling have no parameters.")
    return f"{what} How many trainable parameters does it have? " + " ".join(conventions)


def _single_layer_text(layer: Layer) -> str:
    if layer.is_conv:
        return (
            f"A 2-D convolution layer with {layer.k}×{layer.k} kernels maps "
            f"{plural(layer.n_in, 'input channel')} to {plural(layer.n_out, 'output channel')}."
        )
    return f"A dense layer maps {plural(layer.n_in, 'input')} to {plural(layer.n_out, 'output')}."


def _solution(layers: Sequence[Layer], total: int) -> list[str]:
    lines = [f"{item.describe()}: {item.working()}" for item in layers]
    if len(layers) > 1:
        lines.append("total = " + " + ".join(str(item.count) for item in layers) + f" = {total}")
    return lines


def _slips(layers: Sequence[Layer]) -> dict[str, int]:
    slips = {"biases left out": sum(item.weights for item in layers)}
    if any(item.is_conv for item in layers):
        slips["input channels left out of the kernels"] = sum(
            _without_input_channels(item) for item in layers
        )
        slips["k instead of k² weights per kernel"] = sum(
            (item.weights // item.k if item.is_conv else item.weights) + item.biases
            for item in layers
        )
    return slips


def _without_input_channels(item: Layer) -> int:
    if not item.is_conv:
        return item.count
    return item.n_out * item.k * item.k + item.biases
