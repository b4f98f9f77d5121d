"""The engine's gradients against autograd (HIPS) and against float64 central differences.

Every op is rebuilt with autograd.numpy and both gradients are compared on shapes and
values drawn by Hypothesis; the engine's own forward pass is differentiated numerically
as a second, framework-free check. Inputs stay away from kinks (ReLU at 0, ties in
maximum) and from the edges of a domain (log and sqrt of positive numbers only).
"""

from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.extend import defvjp, primitive
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import drill.engine as E
from drill.engine import Tensor

REL = 1e-7
EXAMPLES = settings(max_examples=25, deadline=None)

# -- an erf autograd can differentiate (it ships erf only through scipy) --------------


@primitive
def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


defvjp(_erf, lambda ans, x: lambda g: g * 2.0 / math.sqrt(math.pi) * anp.exp(-(x**2)))


def ag_gelu(a):
    return a * 0.5 * (1.0 + _erf(a / math.sqrt(2.0)))


def ag_log_softmax(a, axis=-1):
    shifted = a - anp.max(a, axis=axis, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=axis, keepdims=True))


# -- value strategies -----------------------------------------------------------------

ANY = st.floats(-2.0, 2.0)
POSITIVE = st.floats(0.5, 2.0)
# Magnitude at least 0.05: a step of 2e-3 never crosses the kink at zero.
AWAY_FROM_ZERO = st.builds(lambda m, s: m * s, st.floats(0.05, 2.0), st.sampled_from([-1, 1]))
# Two interleaved grids 0.125 apart: maximum(a, b) never meets a tie.
GRID_A = st.integers(-8, 8).map(lambda k: k * 0.25)
GRID_B = st.integers(-8, 8).map(lambda k: k * 0.25 + 0.125)
DOMAINS = {"any": ANY, "positive": POSITIVE, "away": AWAY_FROM_ZERO}


def float_arrays(shape, elements=ANY):
    return arrays(np.float64, shape, elements=elements)


# -- the two reference gradients ------------------------------------------------------


def weights_for(shape) -> np.ndarray:
    """Fixed, uneven weights that turn any output into a scalar with a rich gradient."""
    size = int(np.prod(shape))
    return (np.cos(np.arange(size) * 1.3) + 0.4).reshape(shape)


def engine_grads(fn, arrays_in):
    tensors = [Tensor(a) for a in arrays_in]
    out = fn(*tensors)
    out.backward(seed=weights_for(out.shape))
    return out.value, [t.grad for t in tensors]


def autograd_grads(fn, arrays_in, out_shape):
    w = weights_for(out_shape)

    def objective(*xs):
        return anp.sum(fn(*xs) * w)

    return [grad(objective, argnum=i)(*arrays_in) for i in range(len(arrays_in))]


def central_differences(fn, arrays_in, h=1e-3):
    """Five-point central differences of Σ w·fn in float64, from the engine's forward pass."""

    def objective(values):
        out = fn(*[Tensor(v) for v in values]).value
        return float(np.sum(out * weights_for(out.shape)))

    grads = []
    for i, a in enumerate(arrays_in):
        g = np.zeros_like(a)
        for index in np.ndindex(a.shape):

            def at(step, i=i, index=index):
                moved = [v.copy() for v in arrays_in]
                moved[i][index] += step
                return objective(moved)

            g[index] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
        grads.append(g)
    return grads


def assert_rel_close(actual, expected, rel=REL):
    """|actual − expected| ≤ rel · max(1, |expected|), elementwise."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    scale = np.maximum(1.0, np.abs(expected))
    worst = np.max(np.abs(actual - expected) / scale, initial=0.0)
    assert worst <= rel, f"relative error {worst:.3g} > {rel}"


def check_op(engine_fn, autograd_fn, *arrays_in):
    arrays_in = [np.asarray(a, dtype=np.float64) for a in arrays_in]
    value, got = engine_grads(engine_fn, arrays_in)
    np.testing.assert_allclose(value, autograd_fn(*arrays_in), rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(got, autograd_grads(autograd_fn, arrays_in, value.shape), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=REL, atol=1e-12)
    for mine, numeric in zip(got, central_differences(engine_fn, arrays_in), strict=True):
        assert_rel_close(mine, numeric)


# -- unary ops --------------------------------------------------------------------------

UNARY = {
    "neg": (lambda t: -t, lambda a: -a, "any"),
    "exp": (E.exp, anp.exp, "any"),
    "log": (E.log, anp.log, "positive"),
    "sqrt": (E.sqrt, anp.sqrt, "positive"),
    "square": (lambda t: t**2, lambda a: a**2, "any"),
    "cube": (lambda t: t**3, lambda a: a**3, "any"),
    "pow_half": (lambda t: t**0.5, lambda a: a**0.5, "positive"),
    "pow_negative": (lambda t: t**-1.5, lambda a: a**-1.5, "positive"),
    "relu": (E.relu, lambda a: anp.maximum(a, 0.0), "away"),
    "leaky_relu": (
        lambda t: E.leaky_relu(t, 0.1),
        lambda a: anp.where(a > 0, a, 0.1 * a),
        "away",
    ),
    "sigmoid": (E.sigmoid, lambda a: 1.0 / (1.0 + anp.exp(-a)), "any"),
    "tanh": (E.tanh, anp.tanh, "any"),
    "softplus": (E.softplus, lambda a: anp.logaddexp(0.0, a), "any"),
    "gelu": (E.gelu, ag_gelu, "any"),
    "identity": (E.identity, lambda a: a, "any"),
    "scalar_plus": (lambda t: 1.5 + t, lambda a: 1.5 + a, "any"),
    "scalar_minus": (lambda t: 2.5 - t, lambda a: 2.5 - a, "any"),
    "minus_scalar": (lambda t: t - 0.75, lambda a: a - 0.75, "any"),
    "scalar_times": (lambda t: -3.0 * t, lambda a: -3.0 * a, "any"),
    "times_scalar": (lambda t: t * 0.5, lambda a: a * 0.5, "any"),
    "scalar_over": (lambda t: 3.0 / t, lambda a: 3.0 / a, "positive"),
    "over_scalar": (lambda t: t / 4.0, lambda a: a / 4.0, "any"),
    "transpose": (lambda t: t.T, lambda a: a.T, "any"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@EXAMPLES
@given(data=st.data())
def test_unary_op_gradients(name, data):
    engine_fn, autograd_fn, domain = UNARY[name]
    shape = data.draw(array_shapes(min_dims=0, max_dims=3, max_side=3))
    check_op(engine_fn, autograd_fn, data.draw(float_arrays(shape, DOMAINS[domain])))


# -- binary ops with broadcasting ----------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, "any", "any"),
    "sub": (lambda a, b: a - b, "any", "any"),
    "mul": (lambda a, b: a * b, "any", "any"),
    "div": (lambda a, b: a / b, "any", "positive"),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@EXAMPLES
@given(data=st.data())
def test_binary_op_gradients_broadcast(name, data):
    fn, left, right = BINARY[name]
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = data.draw(float_arrays(shapes.input_shapes[0], DOMAINS[left]))
    b = data.draw(float_arrays(shapes.input_shapes[1], DOMAINS[right]))
    check_op(fn, fn, a, b)


@EXAMPLES
@given(data=st.data())
def test_maximum_gradients_broadcast(data):
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = data.draw(float_arrays(shapes.input_shapes[0], GRID_A))
    b = data.draw(float_arrays(shapes.input_shapes[1], GRID_B))
    check_op(E.maximum, anp.maximum, a, b)


def test_maximum_splits_the_gradient_at_a_tie_like_autograd():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])
    grads = engine_grads(E.maximum, [a, b])[1]
    expected = autograd_grads(anp.maximum, [a, b], (3,))
    for mine, theirs in zip(grads, expected, strict=True):
        np.testing.assert_allclose(mine, theirs)
    assert grads[0][0] == pytest.approx(0.5 * weights_for((3,))[0])


@pytest.mark.parametrize(
    ("case", "shape_a", "shape_b"),
    [
        ("scalar with array", (), (2, 3)),
        ("row with matrix", (1, 3), (4, 3)),
        ("column with matrix", (4, 1), (4, 3)),
        ("vector with matrix", (3,), (4, 3)),
        ("row with column", (1, 3), (2, 1)),
    ],
)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_named_broadcasting_cases(case, shape_a, shape_b, name):
    fn = BINARY[name][0]
    rng = np.random.default_rng(len(case))
    a = rng.uniform(-2, 2, shape_a)
    b = rng.uniform(0.5, 2, shape_b)
    check_op(fn, fn, a, b)
    check_op(fn, fn, b, a)  # the broadcast operand on the other side


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, t: a + t,
        lambda a, t: a - t,
        lambda a, t: a * t,
        lambda a, t: a / t,
        lambda a, t: a @ t,
    ],
    ids=["add", "sub", "mul", "div", "matmul"],
)
def test_plain_array_on_the_left_yields_a_tensor(fn):
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    b = np.array([[1.5, 0.5], [2.0, 1.0]])
    t = Tensor(b)
    out = fn(a, t)
    assert isinstance(out, Tensor)
    out.backward(seed=weights_for(out.shape))
    expected = grad(lambda x: anp.sum(fn(a, x) * weights_for(out.shape)))(b)
    np.testing.assert_allclose(t.grad, expected, rtol=REL)


# -- matmul -----------------------------------------------------------------------------


@EXAMPLES
@given(
    data=st.data(),
    m=st.integers(1, 4),
    k=st.integers(1, 4),
    n=st.integers(1, 4),
    left_vector=st.booleans(),
    right_vector=st.booleans(),
)
def test_matmul_gradients(data, m, k, n, left_vector, right_vector):
    a = data.draw(float_arrays((k,) if left_vector else (m, k)))
    b = data.draw(float_arrays((k,) if right_vector else (k, n)))
    check_op(lambda x, y: x @ y, lambda x, y: x @ y, a, b)


# -- reductions, reshape, softmax ------------------------------------------------------


@st.composite
def shape_and_axis(draw, allow_none=True, min_dims=0):
    shape = draw(array_shapes(min_dims=min_dims, max_dims=3, max_side=3))
    ndim = len(shape)
    choices = [st.integers(-ndim, ndim - 1)] if ndim else []
    if ndim > 1:
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True).map(tuple))
    if allow_none or not choices:
        choices.append(st.none())
    return shape, draw(st.one_of(choices))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@EXAMPLES
@given(data=st.data(), keepdims=st.booleans())
def test_sum_and_mean_gradients(reduction, data, keepdims):
    shape, axis = data.draw(shape_and_axis())
    x = data.draw(float_arrays(shape))
    reference = anp.sum if reduction == "sum" else anp.mean
    check_op(
        lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims),
        lambda a: reference(a, axis=axis, keepdims=keepdims),
        x,
    )


@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
@EXAMPLES
@given(data=st.data())
def test_softmax_gradients(which, data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(float_arrays(shape, st.floats(-4.0, 4.0)))
    if which == "softmax":
        check_op(
            lambda t: E.softmax(t, axis=axis),
            lambda a: anp.exp(ag_log_softmax(a, axis=axis)),
            x,
        )
    else:
        check_op(lambda t: E.log_softmax(t, axis=axis), lambda a: ag_log_softmax(a, axis), x)


def test_softmax_is_stable_for_large_logits():
    out = E.log_softmax(Tensor([1000.0, 0.0]))
    assert np.all(np.isfinite(out.value))
    assert out.value[0] == pytest.approx(0.0)


@EXAMPLES
@given(x=float_arrays((2, 3)))
def test_reshape_gradient(x):
    check_op(
        lambda t: t.reshape(3, 2) * np.arange(6.0).reshape(3, 2),
        lambda a: a.reshape(3, 2) * np.arange(6.0).reshape(3, 2),
        x,
    )


# -- losses -----------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "half_sse", "cross_entropy", "bce"])
@EXAMPLES
@given(data=st.data())
def test_loss_gradients(loss, data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=2, max_side=4))
    prediction = data.draw(float_arrays(shape, st.floats(-3.0, 3.0)))
    target = data.draw(float_arrays(shape, st.floats(0.0, 1.0)))
    references = {
        "mse": lambda p, y: anp.mean((p - y) ** 2),
        "half_sse": lambda p, y: 0.5 * anp.sum((p - y) ** 2),
        "cross_entropy": lambda z, y: -anp.sum(y * ag_log_softmax(z)),
        # the textbook form, fine for these moderate logits
        "bce": lambda z, y: (
            -anp.sum(
                y * anp.log(1 / (1 + anp.exp(-z))) + (1 - y) * anp.log(1 - 1 / (1 + anp.exp(-z)))
            )
        ),
    }
    check_op(E.LOSSES[loss], references[loss], prediction, target)


def test_losses_mean_what_the_design_says():
    y_hat, y = np.array([1.0, 3.0]), np.array([0.0, 1.0])
    assert E.mse(y_hat, y).item() == pytest.approx((1 + 4) / 2)
    assert E.half_sse(y_hat, y).item() == pytest.approx(0.5 * (1 + 4))
    z = np.array([2.0, 0.0])
    assert E.cross_entropy(z, [0.0, 1.0]).item() == pytest.approx(np.log(1 + np.exp(2.0)))
    assert E.bce(0.0, 1.0).item() == pytest.approx(np.log(2.0))


def test_bce_from_logits_is_stable():
    assert E.bce(800.0, 0.0).item() == pytest.approx(800.0)
    assert E.bce(-800.0, 0.0).item() == pytest.approx(0.0)


# -- layers ---------------------------------------------------------------------------


def ag_mlp(params, x, activation_name):
    functions = {
        "identity": lambda a: a,
        "relu": lambda a: anp.maximum(a, 0.0),
        "leaky_relu": lambda a: anp.where(a > 0, a, 0.01 * a),
        "sigmoid": lambda a: 1.0 / (1.0 + anp.exp(-a)),
        "tanh": anp.tanh,
        "softplus": lambda a: anp.logaddexp(0.0, a),
        "gelu": ag_gelu,
    }
    h = x
    for i in range(0, len(params), 2):
        W, b = params[i], params[i + 1]
        z = anp.dot(W, h) + (b if h.ndim == 1 else b[:, None])
        h = z if i == len(params) - 2 else functions[activation_name](z)
    return h


@pytest.mark.parametrize("activation_name", sorted(E.ACTIVATIONS))
@pytest.mark.parametrize("batch", [False, True])
def test_mlp_gradients_match_autograd(activation_name, batch):
    rng = np.random.default_rng(3)
    net = E.MLP.from_sizes(rng, [3, 4, 2], activation_name)
    for layer in net.layers:
        layer.b.value[:] = rng.normal(size=layer.b.shape)
    x = rng.normal(size=(3, 5) if batch else (3,))
    y = rng.normal(size=(2, 5) if batch else (2,))
    loss = E.half_sse(net(x), y)
    loss.backward()
    params = [p.value.copy() for p in net.parameters()]
    reference = grad(lambda ps: 0.5 * anp.sum((ag_mlp(ps, x, activation_name) - y) ** 2))
    for param, expected in zip(net.parameters(), reference(params), strict=True):
        np.testing.assert_allclose(param.grad, expected, rtol=REL, atol=1e-12)


def test_mlp_names_its_nodes_in_order():
    net = E.MLP.from_sizes(np.random.default_rng(0), [2, 3, 3, 1], "tanh")
    loss = E.mse(net(Tensor([1.0, 2.0], name="x")), [0.5]).named("L")
    names = [entry.name for entry in E.trace(loss)]
    # creation order: the parameters exist before the input they are applied to
    assert names == ["W1", "b1", "W2", "b2", "W3", "b3", "x", "z1", "h1", "z2", "h2", "z3", "L"]


def test_linear_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        E.Linear(np.ones((2, 3)), np.ones(2))(np.ones(2))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        E.Linear(np.ones((2, 3)), np.ones(3))


# -- accumulation, repeated backward, trace --------------------------------------------


def test_a_node_used_twice_gets_both_contributions():
    x = Tensor(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == pytest.approx(7.0)


def test_shared_intermediate_node_accumulates_like_autograd():
    x0 = np.array([0.3, -1.2, 2.0])
    x = Tensor(x0)
    h = E.tanh(x)
    loss = (h * h + E.exp(h) - h / 2.0).sum()
    loss.backward()
    expected = grad(lambda a: anp.sum(anp.tanh(a) ** 2 + anp.exp(anp.tanh(a)) - anp.tanh(a) / 2))
    np.testing.assert_allclose(x.grad, expected(x0), rtol=REL)


def test_backward_twice_gives_the_same_gradient():
    x = Tensor([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_trace_lists_named_nodes_with_values_then_gradients():
    x = Tensor(2.0, name="x")
    y = (x * 3.0).named("y", forward="3x")
    loss = (y**2).named("L")
    before = E.trace(loss)
    assert [(e.name, e.grad) for e in before] == [("x", None), ("y", None), ("L", None)]
    loss.backward()
    after = {e.name: e for e in E.trace(loss)}
    assert float(after["y"].value) == 6.0
    assert float(after["y"].grad) == 12.0
    assert float(after["x"].grad) == 36.0
    assert after["y"].forward == "3x"
    assert after["x"].is_leaf and not after["y"].is_leaf


# -- bad use ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "error", "pattern"),
    [
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones(2)), ValueError, r"\(2, 3\).*\(2,\)"),
        (lambda: Tensor(np.ones((2, 2, 2))) @ Tensor(np.ones(2)), ValueError, r"\(2, 2, 2\)"),
        (lambda: Tensor(np.ones(3)) + np.ones(2), ValueError, r"\(3,\) and \(2,\)"),
        (lambda: Tensor(np.ones((2, 3))) * Tensor(np.ones((3, 2))), ValueError, r"\(2, 3\)"),
        (lambda: E.maximum(np.ones(3), Tensor(np.ones(4))), ValueError, r"\(3,\) and \(4,\)"),
        (lambda: Tensor(np.ones(3)).backward(), ValueError, r"\(3,\)"),
        (lambda: Tensor(np.ones(3)).backward(np.ones(2)), ValueError, r"\(2,\).*\(3,\)"),
        (lambda: Tensor(1.0) ** Tensor(2.0), TypeError, "scalar exponent"),
        (lambda: Tensor(np.ones(2)) ** np.ones(2), TypeError, r"\(2,\)"),
        (lambda: E.mse(np.ones(2), np.ones(3)), ValueError, r"\(2,\) and \(3,\)"),
        (lambda: Tensor("text"), TypeError, "str"),
        (lambda: Tensor(np.ones((2, 2))).sum(axis=2), ValueError, r"axis 2.*\(2, 2\)"),
        (lambda: Tensor(np.ones(6)).reshape(4, 2), ValueError, r"\(6,\).*\(4, 2\)"),
        (lambda: E.leaky_relu(Tensor(1.0), slope=[0.1, 0.2]), TypeError, "slope"),
        (lambda: E.activation("swish"), ValueError, "swish"),
    ],
)
def test_bad_use_raises_with_shapes(bad, error, pattern):
    with pytest.raises(error, match=pattern):
        bad()


def test_a_trace_copies_unless_told_to_hold_the_nodes_own_arrays():
    x = Tensor([1.0, -2.0], name="x")
    loss = (x * x).sum().named("L")
    loss.backward()
    copied, held = ({e.name: e for e in E.trace(loss, copies=copies)} for copies in (True, False))
    assert copied["x"].value is not x.value and copied["x"].grad is not x.grad
    assert held["x"].value is x.value and held["x"].grad is x.grad
    (x * 3.0).sum().backward()  # a new sweep gives x a new gradient array
    assert held["x"].grad.tolist() == [2.0, -4.0] and x.grad.tolist() == [3.0, 3.0]
