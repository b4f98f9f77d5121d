"""A Linear layer (z = W x + b, W of shape (out, in)) and a small MLP built from them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from drill.engine.functions import gelu, leaky_relu, relu, sigmoid, softplus, tanh
from drill.engine.tensor import Tensor, as_tensor


def identity(x: Any) -> Tensor:
    return as_tensor(x)


ACTIVATIONS: dict[str, Callable[[Any], Tensor]] = {
    "identity": identity,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "gelu": gelu,
}


def activation(name: str) -> Callable[[Any], Tensor]:
    """The activation function called `name` (a key of ACTIVATIONS)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None


class Linear:
    """z = W x + b with column vectors: x of shape (in,) or a batch of columns (in, n)."""

    def __init__(self, W: Any, b: Any, label: str = "") -> None:
        self.W = as_tensor(W)
        self.b = as_tensor(b)
        if self.W.ndim != 2 or self.b.shape != (self.W.shape[0],):
            raise ValueError(
                f"Linear needs W of shape (out, in) and b of shape (out,), "
                f"got {self.W.shape} and {self.b.shape}"
            )
        self.label = label
        if label:
            self.W.named(f"W{label}")
            self.b.named(f"b{label}")

    @classmethod
    def init(cls, rng: np.random.Generator, n_in: int, n_out: int, label: str = "") -> Linear:
        """Weights drawn N(0, 1/n_in), biases zero."""
        W = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in))
        return cls(W, np.zeros(n_out), label)

    @property
    def n_in(self) -> int:
        return self.W.shape[1]

    @property
    def n_out(self) -> int:
        return self.W.shape[0]

    def parameters(self) -> list[Tensor]:
        return [self.W, self.b]

    def __call__(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x.ndim not in (1, 2) or x.shape[0] != self.n_in:
            raise ValueError(
                f"Linear with W of shape {self.W.shape} takes x of shape ({self.n_in},) "
                f"or ({self.n_in}, n), got {x.shape}"
            )
        bias = self.b if x.ndim == 1 else self.b.reshape(self.n_out, 1)
        return self.W @ x + bias


class MLP:
    """Linear layers with one activation between them; the output layer stays linear.

    Calling it names the trace nodes z1, h1, z2, h2, …, zL (and the layers' W1, b1, …),
    with forward and backward formulas, so a worked solution can be read off the trace.
    """

    def __init__(self, layers: Sequence[Linear], activation_name: str = "relu") -> None:
        if not layers:
            raise ValueError("an MLP needs at least one layer")
        for before, after in pairwise(layers):
            if before.n_out != after.n_in:
                raise ValueError(f"layer shapes {before.W.shape} and {after.W.shape} do not chain")
        self.layers = list(layers)
        self.activation_name = activation_name
        self.activation = activation(activation_name)

    @classmethod
    def from_sizes(
        cls, rng: np.random.Generator, sizes: Sequence[int], activation_name: str = "relu"
    ) -> MLP:
        layers = [
            Linear.init(rng, n_in, n_out, str(i))
            for i, (n_in, n_out) in enumerate(pairwise(sizes), start=1)
        ]
        return cls(layers, activation_name)

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __call__(self, x: Any) -> Tensor:
        x = as_tensor(x)
        h, h_name = x, x.name or "x"
        f = self.activation_name
        for i, layer in enumerate(self.layers[:-1], start=1):
            z = _affine(layer, i, h, h_name)
            z.backward_note = f"∂L/∂h{i} ⊙ {f}′(z{i})"
            h = self.activation(z).named(
                f"h{i}", forward=f"{f}(z{i})", backward=f"W{i + 1}ᵀ ∂L/∂z{i + 1}"
            )
            h_name = f"h{i}"
        return _affine(self.layers[-1], len(self.layers), h, h_name)


def _affine(layer: Linear, i: int, h: Tensor, h_name: str) -> Tensor:
    """Layer i applied to h, named z{i}, with the notes of its parameters' gradients."""
    layer.W.backward_note = f"∂L/∂z{i} {h_name}ᵀ"
    layer.b.backward_note = f"∂L/∂z{i}"
    return layer(h).named(f"z{i}", forward=f"W{i} {h_name} + b{i}")
