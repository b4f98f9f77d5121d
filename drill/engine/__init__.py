"""A small reverse-mode autodiff engine over NumPy float64 arrays, with a trace.

It imports nothing else of drill. Everything is float64; NumPy broadcasting works in
every binary op, and each gradient is summed back to its operand's shape.

Building a graph
    x = Tensor([1.0, -2.0], name="x")        # a leaf; lists, scalars and arrays accepted
    W = Tensor([[0.5, -1.0], [1.5, 0.0]], name="W1")
    z = (W @ x + b).named("z1", forward="W1 x + b1", backward="∂L/∂h1 ⊙ relu′(z1)")
    L = half_sse(relu(z), y)
    L.backward()                             # fills .grad of every node L depends on
    W.grad                                   # ∂L/∂W1, same shape as W.value

Tensor
    .value, .grad (None before backward), .shape, .ndim, .size, .item(), .name, .op
    + - * / with Tensors, arrays and Python numbers on either side; unary -;
    ** a scalar (a Tensor or array exponent is a TypeError); @ (1-D and 2-D operands);
    .sum(axis=None, keepdims=False), .mean(axis=None, keepdims=False), .reshape(...), .T
    .named(name, forward=None, backward=None) -> self: name the node for the trace
    .backward(seed=None): a one-element output needs no seed, others a seed of its shape.
      Gradients are reset before each sweep; inside a sweep they accumulate, so a node
      used twice gets both contributions.
    .max(axis=None, keepdims=False): ties share the gradient equally
    [index]: NumPy indexing (slices, integers, integer arrays, masks); a gradient is added
      back at every position the index picked, twice for an entry picked twice

Functions (each takes Tensors, arrays or numbers)
    exp, log, sqrt, sin, cos, maximum(a, b) (ties split the gradient), relu,
    leaky_relu(x, slope=0.01), sigmoid, tanh, softplus, gelu (exact: x Φ(x)),
    silu (x σ(x), also called swish), softmax(x, axis=-1), log_softmax(x, axis=-1),
    matmul(a, b); normal_cdf and normal_pdf act on plain arrays.
    stack(tensors, axis=0), concat(tensors, axis=0), where(condition, a, b) with a constant
    boolean condition (a causal mask: where(allowed, scores, -inf)).
    conv2d(x, W, b=None, stride=1, padding=0): cross-correlation of x (C, H, W) with
      W (O, C, kh, kw), zero padding, as deep-learning libraries compute it;
      max_pool2d(x, size, stride=size): each window's gradient goes to its largest entry.

Losses (prediction first, target second, same shape; return a 0-d Tensor)
    mse       (1/n) Σ (ŷ − y)²
    half_sse  ½ Σ (ŷ − y)²
    cross_entropy(logits, y, axis=-1)   −Σ y · log_softmax(z)     (summed over a batch)
    bce(logits, y)                      −[y log σ(z) + (1 − y) log(1 − σ(z))], summed
    LOSSES maps each name to its function.

Layers
    Linear(W, b, label="1"): z = W x + b, W of shape (out, in), x of shape (in,) or
      (in, n); with a label its parameters are named W1 and b1. Linear.init(rng, n_in, n_out).
    MLP(layers, activation_name="relu") or MLP.from_sizes(rng, [2, 3, 1], "tanh"): hidden
      layers use the activation, the last layer is linear. Calling it names the nodes
      z1, h1, z2, …, zL with forward and backward formulas.
    ACTIVATIONS / activation(name): identity, relu, leaky_relu, sigmoid, tanh, softplus, gelu.

Trace
    trace(L) -> [TraceEntry(name, op, value, grad, forward, backward), …]: the named nodes
    L depends on, in creation order (a topological order), with copies of their values
    and, after L.backward(), their gradients. Worked solutions are written from it.
    trace(L, order=topological_order(L)) reuses a walk the caller has made already;
    trace(L, copies=False) holds the nodes' own arrays, for a caller that only reads them.

Errors
    Shape mismatches (broadcasting, matmul, losses, Linear, a wrong seed) raise ValueError
    naming both shapes; a non-scalar backward without a seed raises ValueError; a bad
    exponent or a value that is not numeric raises TypeError.

Extending
    make_node(value, parents, op, backward) builds the output of a new op, where
    backward(g) adds each parent's share of g into parent.grad; unbroadcast(g, shape)
    sums a broadcast gradient back down.

May import: numpy only.
Must not import: anything of drill: the engine stands alone, and tests compare it with
other frameworks.
"""

from drill.engine.conv import conv2d, max_pool2d
from drill.engine.functions import (
    cos,
    exp,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    maximum,
    normal_cdf,
    normal_pdf,
    relu,
    sigmoid,
    silu,
    sin,
    softmax,
    softplus,
    sqrt,
    tanh,
)
from drill.engine.losses import LOSSES, bce, cross_entropy, half_sse, mse
from drill.engine.nn import ACTIVATIONS, MLP, Linear, activation, identity
from drill.engine.structure import concat, stack, where
from drill.engine.tensor import Tensor, as_tensor, make_node, matmul, topological_order, unbroadcast
from drill.engine.trace import TraceEntry, trace

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "Linear",
    "Tensor",
    "TraceEntry",
    "activation",
    "as_tensor",
    "bce",
    "concat",
    "conv2d",
    "cos",
    "cross_entropy",
    "exp",
    "gelu",
    "half_sse",
    "identity",
    "leaky_relu",
    "log",
    "log_softmax",
    "make_node",
    "matmul",
    "max_pool2d",
    "maximum",
    "mse",
    "normal_cdf",
    "normal_pdf",
    "relu",
    "sigmoid",
    "silu",
    "sin",
    "softmax",
    "softplus",
    "sqrt",
    "stack",
    "tanh",
    "topological_order",
    "trace",
    "unbroadcast",
    "where",
]
