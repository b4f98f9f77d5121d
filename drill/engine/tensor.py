"""The Tensor node: a float64 array, its gradient, and how to hand gradients to its parents.

Each operation builds its output node with its parents and a small backward closure. The
closure receives the output's gradient and *adds* its share into each parent's gradient, so
a node used twice collects both contributions. `Tensor.backward()` orders the graph
topologically and sweeps it in reverse.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

Backward = Callable[[np.ndarray], None]
Axis = int | tuple[int, ...] | None

# Every node takes the next number at creation. Parents always exist before their
# children, so sorting by this number is a topological order of any graph.
_creation_counter = itertools.count()
_creation_number = operator.attrgetter("seq")


def _no_backward(grad: np.ndarray) -> None:
    """Leaves have no parents to pass a gradient to."""


def as_float_array(data: Any) -> np.ndarray:
    """`data` as a float64 array, or a TypeError saying what could not be converted."""
    if isinstance(data, Tensor):
        return data.value
    if isinstance(data, str | bytes) or data is None:
        raise TypeError(f"cannot make a float64 array from {type(data).__name__}")
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"cannot make a float64 array from {type(data).__name__}: {error}"
        ) from None
    return array


def _own_copy(value: Any) -> np.ndarray:
    """A new float64 array holding `value`; what ops produce (float64 arrays and NumPy
    scalars) needs no conversion, which costs more than the copy for small arrays."""
    if (type(value) is np.ndarray and value.dtype == np.float64) or type(value) is np.float64:
        return np.array(value)
    return np.array(as_float_array(value), dtype=np.float64)


def as_tensor(data: Any) -> Tensor:
    """`data` itself if it is a Tensor, else a new leaf holding it."""
    return data if isinstance(data, Tensor) else Tensor(data)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` back down to `shape`, undoing NumPy broadcasting."""
    if grad.shape == shape:  # nothing was broadcast: the common case
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def make_node(value: np.ndarray, parents: Iterable[Tensor], op: str, backward: Backward) -> Tensor:
    """The output node of an operation (for writing new ops outside this module)."""
    return _node(_own_copy(value), tuple(parents), op, backward)


def fresh_node(value: Any, parents: tuple[Tensor, ...], op: str, backward: Backward) -> Tensor:
    """make_node for a `value` the op has just computed and holds nowhere else (the result
    of `a.value + b.value`, say): a float64 array is kept as it is instead of copied (a
    fifth of the cost of a small node); a NumPy scalar becomes a 0-d array."""
    if type(value) is not np.ndarray or value.dtype != np.float64:
        value = _own_copy(value)
    return _node(value, parents, op, backward)


def _node(value: np.ndarray, parents: tuple[Tensor, ...], op: str, backward: Backward) -> Tensor:
    node = Tensor.__new__(Tensor)
    node.value = value
    node._start(op)
    node.parents = parents
    node._backward = backward
    return node


def broadcast_pair(a: Any, b: Any, symbol: str) -> tuple[Tensor, Tensor]:
    a, b = as_tensor(a), as_tensor(b)
    if a.shape == b.shape or not a.ndim or not b.ndim:  # these always broadcast
        return a, b
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"cannot broadcast shapes {a.shape} and {b.shape} for {symbol}") from None
    return a, b


def normalize_axes(axis: Axis, shape: tuple[int, ...]) -> tuple[int, ...]:
    """`axis` as a sorted tuple of non-negative axes of `shape` (None means all of them)."""
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    wanted = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    for ax in wanted:
        if not isinstance(ax, int | np.integer):
            raise TypeError(f"an axis must be an integer, not {type(ax).__name__}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for shape {shape}")
    return tuple(sorted({int(ax) % ndim for ax in wanted}))


class Tensor:
    """A node of the graph: `value` (float64 array) and, after backward, `grad` (same shape)."""

    # Makes `ndarray + Tensor` call Tensor.__radd__ instead of looping elementwise.
    __array_ufunc__ = None

    # Graphs are made by the ten thousand (an export makes some 5,000 exercises): a node
    # without a __dict__ is quicker to make and to read.
    __slots__ = (
        "_ancestors",
        "_backward",
        "backward_note",
        "forward_note",
        "grad",
        "name",
        "op",
        "parents",
        "seq",
        "value",
    )

    def __init__(self, value: Any, name: str | None = None, *, op: str = "leaf") -> None:
        self.value: np.ndarray = _own_copy(value)
        self._start(op, name)

    def _start(self, op: str, name: str | None = None) -> None:
        """Everything but the value, as a new node starts (make_node skips __init__'s copy)."""
        self.grad: np.ndarray | None = None
        self.parents: tuple[Tensor, ...] = ()
        self.op = op
        self.name = name
        self.forward_note: str | None = None
        self.backward_note: str | None = None
        self.seq = next(_creation_counter)
        self._backward: Backward = _no_backward
        self._ancestors: list[Tensor] | None = None  # topological_order's, once asked

    # -- description --------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.size != 1:
            raise ValueError(f"item() needs a single value, not shape {self.shape}")
        return float(self.value.reshape(()))

    def named(self, name: str, forward: str | None = None, backward: str | None = None) -> Tensor:
        """Give this node a name for the trace, with optional formulas; returns self.

        `forward` says how the value is computed ("W1 x + b1"), `backward` how its
        gradient is ("W2ᵀ ∂L/∂z2"); worked solutions print them.
        """
        self.name = name
        self.forward_note = forward
        self.backward_note = backward
        return self

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"Tensor{label}(op={self.op}, shape={self.shape}, value={self.value.tolist()})"

    # -- arithmetic -----------------------------------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        a, b = broadcast_pair(self, other, "+")

        def backward(g: np.ndarray) -> None:
            a.grad += unbroadcast(g, a.shape)
            b.grad += unbroadcast(g, b.shape)

        return fresh_node(a.value + b.value, (a, b), "add", backward)

    def __radd__(self, other: Any) -> Tensor:
        return as_tensor(other).__add__(self)

    def __sub__(self, other: Any) -> Tensor:
        a, b = broadcast_pair(self, other, "-")

        def backward(g: np.ndarray) -> None:
            a.grad += unbroadcast(g, a.shape)
            b.grad -= unbroadcast(g, b.shape)

        return fresh_node(a.value - b.value, (a, b), "sub", backward)

    def __rsub__(self, other: Any) -> Tensor:
        return as_tensor(other).__sub__(self)

    def __mul__(self, other: Any) -> Tensor:
        a, b = broadcast_pair(self, other, "*")

        def backward(g: np.ndarray) -> None:
            a.grad += unbroadcast(g * b.value, a.shape)
            b.grad += unbroadcast(g * a.value, b.shape)

        return fresh_node(a.value * b.value, (a, b), "mul", backward)

    def __rmul__(self, other: Any) -> Tensor:
        return as_tensor(other).__mul__(self)

    def __truediv__(self, other: Any) -> Tensor:
        a, b = broadcast_pair(self, other, "/")

        def backward(g: np.ndarray) -> None:
            a.grad += unbroadcast(g / b.value, a.shape)
            b.grad += unbroadcast(-g * a.value / b.value**2, b.shape)

        return fresh_node(a.value / b.value, (a, b), "div", backward)

    def __rtruediv__(self, other: Any) -> Tensor:
        return as_tensor(other).__truediv__(self)

    def __neg__(self) -> Tensor:
        a = self

        def backward(g: np.ndarray) -> None:
            a.grad -= g

        return fresh_node(-a.value, (a,), "neg", backward)

    def __pow__(self, exponent: Any) -> Tensor:
        if type(exponent) is int or type(exponent) is float:  # the usual case: x**2
            return self._power(float(exponent))
        if isinstance(exponent, Tensor):
            raise TypeError(
                f"power needs a scalar exponent, not a Tensor of shape {exponent.shape} "
                f"(base shape {self.shape})"
            )
        if isinstance(exponent, bool) or np.ndim(exponent) != 0:
            raise TypeError(
                f"power needs a scalar exponent, not {type(exponent).__name__} of shape "
                f"{np.shape(exponent)} (base shape {self.shape})"
            )
        return self._power(float(as_float_array(exponent)))

    def _power(self, p: float) -> Tensor:
        a = self

        def backward(g: np.ndarray) -> None:
            if p != 0.0:  # x**0 is constant; p * x**(p-1) would give 0 * inf at x = 0
                a.grad += g * p * a.value ** (p - 1.0)

        return fresh_node(a.value**p, (a,), "pow", backward)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    # -- shape and reductions ---------------------------------------------------------

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = normalize_axes(axis, self.shape)
        a = self

        def backward(g: np.ndarray) -> None:
            kept = g if keepdims or g.ndim == 0 else np.expand_dims(g, axes)
            a.grad += kept  # broadcast across the summed axes by the addition itself

        return fresh_node(a.value.sum(axis=axes, keepdims=keepdims), (a,), "sum", backward)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = normalize_axes(axis, self.shape)
        count = math.prod(self.shape[ax] for ax in axes)
        return self.sum(axis=axes, keepdims=keepdims) / count

    def reshape(self, *shape: int) -> Tensor:
        new_shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
        try:
            value = self.value.reshape(new_shape)
        except ValueError:
            raise ValueError(f"cannot reshape shape {self.shape} into {new_shape}") from None
        a = self

        def backward(g: np.ndarray) -> None:
            a.grad += g.reshape(a.shape)

        return make_node(value, (a,), "reshape", backward)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The largest entry along `axis`; at a tie each largest entry gets an equal share."""
        axes = normalize_axes(axis, self.shape)
        a = self
        top = a.value.max(axis=axes, keepdims=True)
        winners = (a.value == top).astype(np.float64)
        winners /= winners.sum(axis=axes, keepdims=True)

        def backward(g: np.ndarray) -> None:
            kept = g if keepdims else np.expand_dims(g, axes)
            a.grad += winners * kept

        value = top if keepdims else np.squeeze(top, axis=axes)
        return make_node(value, (a,), "max", backward)

    def __getitem__(self, index: Any) -> Tensor:
        """NumPy indexing (slices, integers, integer arrays, masks); the gradient of an
        entry picked twice collects both contributions."""
        if isinstance(index, Tensor):
            raise TypeError("index with integers, slices or arrays, not a Tensor")
        a = self
        try:
            value = a.value[index]
        except IndexError as error:
            raise ValueError(f"cannot index shape {a.shape}: {error}") from None

        def backward(g: np.ndarray) -> None:
            np.add.at(a.grad, index, g)

        return make_node(value, (a,), "index", backward)

    @property
    def T(self) -> Tensor:
        a = self

        def backward(g: np.ndarray) -> None:
            a.grad += g.T

        return make_node(a.value.T, (a,), "transpose", backward)

    # -- the backward sweep -----------------------------------------------------------

    def backward(self, seed: Any = None) -> None:
        """Fill `.grad` of every node this one depends on with ∂self/∂node.

        A one-element output needs no seed; any other needs `seed`, the gradient of some
        scalar with respect to this node. Gradients are reset first, so calling
        backward twice gives the same result, not a doubled one.
        """
        if seed is None:
            if self.size != 1:
                raise ValueError(
                    f"backward() of a non-scalar of shape {self.shape} needs a seed "
                    f"gradient of that shape"
                )
            seed_array = np.ones(self.value.shape)
        else:
            seed_array = np.array(as_float_array(seed), dtype=np.float64)
            if seed_array.shape != self.shape:
                raise ValueError(
                    f"seed gradient of shape {seed_array.shape} does not match "
                    f"the output shape {self.shape}"
                )
        order = topological_order(self)
        zeros, zeros_like = np.zeros, np.zeros_like
        for node in order:  # zeros_like keeps a transpose's layout; zeros costs a third
            value = node.value
            # (Below two dimensions every layout is C order: no need to ask for its flags.)
            if value.ndim < 2 or value.flags.c_contiguous:
                node.grad = zeros(value.shape)
            else:
                node.grad = zeros_like(value)
        self.grad = seed_array
        for node in reversed(order):
            if node._backward is not _no_backward:  # a leaf has nothing to pass on
                node._backward(node.grad)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product of 1-D and 2-D operands, with NumPy's rules for vectors."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise ValueError(f"matmul takes 1-D or 2-D operands, got shapes {a.shape} and {b.shape}")
    inner_a, inner_b = a.shape[-1], b.shape[0]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul shapes {a.shape} and {b.shape} do not align: {inner_a} != {inner_b}"
        )
    # Treat a vector on the left as a row and on the right as a column; one rule then
    # serves all four cases, and reshaping restores the operands' own shapes.
    a2 = a.value if a.ndim == 2 else a.value[None, :]
    b2 = b.value if b.ndim == 2 else b.value[:, None]

    def backward(g: np.ndarray) -> None:
        g2 = g.reshape(a2.shape[0], b2.shape[1])
        a.grad += (g2 @ b2.T).reshape(a.shape)
        b.grad += (a2.T @ g2).reshape(b.shape)

    return fresh_node(a.value @ b.value, (a, b), "matmul", backward)


def topological_order(root: Tensor) -> list[Tensor]:
    """Every node `root` depends on, itself included, parents before children.

    A node's parents are fixed when it is made, so the nodes it depends on never change:
    the order is worked out once per root and kept on it (a backward pass, the names read
    off the graph and its trace each ask for it). Kept without the root itself, so that
    keeping it makes no reference cycle; each call returns a new list."""
    ancestors = root._ancestors
    if ancestors is None:
        seen = {id(root): root}
        stack = [root]
        while stack:
            for parent in stack.pop().parents:
                key = id(parent)
                if key not in seen:
                    seen[key] = parent
                    stack.append(parent)
        del seen[id(root)]  # every other node was made before it
        ancestors = root._ancestors = sorted(seen.values(), key=_creation_number)
    return [*ancestors, root]
