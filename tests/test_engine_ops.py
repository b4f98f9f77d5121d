"""The engine's newer ops against autograd and float64 central differences.

max along axes, indexing, stack, concat, where (masking), silu, sin, cos, conv2d and
max_pool2d: each is rebuilt here with autograd.numpy (convolution and pooling as explicit
loops over slices, nothing shared with the engine) and both gradients are compared, then
the engine's own forward pass is differentiated numerically.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from test_engine import EXAMPLES, check_op, engine_grads, float_arrays, weights_for

import drill.engine as E
from drill.engine import Tensor


def distinct_values(rng: np.random.Generator, shape) -> np.ndarray:
    """Values at least 0.01 apart, so no max or pooling window meets a tie."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.05 - size * 0.025 + rng.uniform(0, 0.01)).reshape(shape)


# -- max, indexing, stack, concat, where --------------------------------------------------


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
def test_max_gradients(axis, keepdims):
    x = distinct_values(np.random.default_rng(1), (3, 4, 2))
    check_op(
        lambda t: t.max(axis=axis, keepdims=keepdims),
        lambda a: anp.max(a, axis=axis, keepdims=keepdims),
        x,
    )


def test_max_shares_the_gradient_at_a_tie():
    x = Tensor([1.0, 3.0, 3.0, 0.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])
    assert E.max_pool2d(Tensor(np.ones((1, 2, 2))), 2).value.tolist() == [[[1.0]]]


INDEXES = {
    "integer": (1,),
    "slice": (slice(0, 2), slice(None)),
    "row and column": (2, 1),
    "fancy with a repeat": (np.array([0, 2, 0]),),
    "mask": (np.array([[True, False, True], [False, True, True], [True, True, False]]),),
    "negative step": (slice(None, None, -1), 0),
}


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_indexing_gradients(name):
    (index,) = INDEXES[name] if len(INDEXES[name]) == 1 else (INDEXES[name],)
    x = np.random.default_rng(2).uniform(-2, 2, (3, 3))
    check_op(lambda t: t[index] * 1.0, lambda a: a[index] * 1.0, x)


def test_an_entry_picked_twice_collects_both_gradients():
    x = Tensor([1.0, 2.0])
    x[np.array([0, 0, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 1.0])


@EXAMPLES
@given(data=st.data(), count=st.integers(1, 3))
def test_stack_and_concat_gradients(data, count):
    shape = data.draw(array_shapes(min_dims=1, max_dims=2, max_side=3))
    parts = [data.draw(float_arrays(shape)) for _ in range(count)]
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda *t: E.concat(t, axis=axis), lambda *a: anp.concatenate(a, axis=axis), *parts)
    new_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda *t: E.stack(t, axis=new_axis), lambda *a: anp.stack(a, axis=new_axis), *parts)


def test_concat_of_different_lengths():
    a, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [5.0, 6.0]])
    check_op(lambda s, t: E.concat([s, t], axis=0), lambda s, t: anp.concatenate([s, t]), a, b)


@EXAMPLES
@given(data=st.data())
def test_where_gradients(data):
    a = data.draw(float_arrays((3, 3)))
    b = data.draw(float_arrays((3,)))
    mask = data.draw(st.lists(st.booleans(), min_size=9, max_size=9))
    mask = np.array(mask).reshape(3, 3)
    # autograd's where does not sum a broadcast gradient back; blend by arithmetic instead
    keep = mask.astype(np.float64)
    check_op(lambda s, t: E.where(mask, s, t), lambda s, t: keep * s + (1 - keep) * t, a, b)


def test_a_causal_mask_gives_masked_positions_no_weight_and_no_gradient():
    scores = Tensor(np.random.default_rng(3).normal(size=(3, 3)))
    allowed = np.tril(np.ones((3, 3), dtype=bool))
    weights = E.softmax(E.where(allowed, scores, -np.inf), axis=-1)
    assert np.all(weights.value[~allowed] == 0.0)
    np.testing.assert_allclose(weights.value.sum(axis=-1), 1.0)
    weights.backward(seed=weights_for((3, 3)))
    assert np.all(np.isfinite(scores.grad)) and np.all(scores.grad[~allowed] == 0.0)
    assert np.all(scores.grad[0] == 0.0)  # the first row attends to one key: a constant 1


# -- elementwise --------------------------------------------------------------------------


def ag_sigmoid(a):
    return 1.0 / (1.0 + anp.exp(-a))


@pytest.mark.parametrize(
    ("name", "engine_fn", "reference"),
    [
        ("silu", E.silu, lambda a: a * ag_sigmoid(a)),
        ("sin", E.sin, anp.sin),
        ("cos", E.cos, anp.cos),
    ],
)
@EXAMPLES
@given(data=st.data())
def test_elementwise_gradients(name, engine_fn, reference, data):
    shape = data.draw(array_shapes(min_dims=0, max_dims=2, max_side=3))
    check_op(engine_fn, reference, data.draw(float_arrays(shape, st.floats(-4.0, 4.0))))


def test_silu_is_stable_far_out():
    value, (grad,) = engine_grads(E.silu, [np.array([-800.0, 800.0])])
    np.testing.assert_allclose(value, [0.0, 800.0], atol=1e-300)
    np.testing.assert_allclose(grad / weights_for((2,)), [0.0, 1.0], atol=1e-12)


# -- convolution and pooling ---------------------------------------------------------------


def ag_conv2d(x, W, b, stride, padding):
    """y[o, i, j] = Σ W[o, c, u, v] x_padded[c, i·s + u, j·s + v] + b[o], by loops."""
    C, H, Wd = x.shape
    if padding:
        zeros_row = anp.zeros((C, padding, Wd))
        x = anp.concatenate([zeros_row, x, zeros_row], axis=1)
        zeros_col = anp.zeros((C, H + 2 * padding, padding))
        x = anp.concatenate([zeros_col, x, zeros_col], axis=2)
    n_out, _, kh, kw = W.shape
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    rows = []
    for o in range(n_out):
        plane = []
        for i in range(out_h):
            line = []
            for j in range(out_w):
                patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw]
                line.append(anp.sum(patch * W[o]) + b[o])
            plane.append(anp.stack(line))
        rows.append(anp.stack(plane))
    return anp.stack(rows)


CONV_CASES = [
    # (C, H, W), (O, kh, kw), stride, padding
    ((1, 4, 4), (1, 2, 2), 1, 0),
    ((1, 5, 5), (1, 3, 3), 2, 0),
    ((2, 4, 5), (3, 3, 2), 1, 1),
    ((2, 6, 6), (2, 3, 3), 2, 1),
    ((3, 3, 3), (1, 3, 3), 1, 0),
    ((1, 5, 4), (2, 2, 3), 3, 2),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding"), CONV_CASES)
def test_conv2d_gradients(x_shape, w_shape, stride, padding):
    rng = np.random.default_rng(sum(x_shape) + stride)
    x = rng.uniform(-2, 2, x_shape)
    W = rng.uniform(-1, 1, (w_shape[0], x_shape[0], *w_shape[1:]))
    b = rng.uniform(-1, 1, w_shape[0])
    check_op(
        lambda *t: E.conv2d(*t, stride=stride, padding=padding),
        lambda *a: ag_conv2d(*a, stride, padding),
        x,
        W,
        b,
    )


def test_conv2d_without_bias_and_its_known_value():
    x = Tensor(np.arange(9.0).reshape(1, 3, 3))
    W = Tensor([[[[1.0, 0.0], [0.0, -1.0]]]])
    y = E.conv2d(x, W)
    assert y.value.tolist() == [[[-4.0, -4.0], [-4.0, -4.0]]]  # x[i, j] − x[i+1, j+1], unflipped


def ag_max_pool2d(x, size, stride):
    C, H, W = x.shape
    out_h, out_w = (H - size) // stride + 1, (W - size) // stride + 1
    return anp.stack(
        [
            anp.stack(
                [
                    anp.stack(
                        [
                            anp.max(
                                x[c, i * stride : i * stride + size, j * stride : j * stride + size]
                            )
                            for j in range(out_w)
                        ]
                    )
                    for i in range(out_h)
                ]
            )
            for c in range(C)
        ]
    )


@pytest.mark.parametrize(
    ("shape", "size", "stride"),
    [((1, 4, 4), 2, 2), ((2, 5, 5), 3, 2), ((1, 4, 6), 2, 1), ((3, 6, 6), 3, 3), ((1, 5, 5), 2, 3)],
)
def test_max_pool2d_gradients(shape, size, stride):
    x = distinct_values(np.random.default_rng(size * 10 + stride), shape)
    check_op(lambda t: E.max_pool2d(t, size, stride), lambda a: ag_max_pool2d(a, size, stride), x)


def test_overlapping_windows_add_their_gradients_at_a_shared_maximum():
    x = Tensor(np.array([[[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]))
    E.max_pool2d(x, 2, 1).backward(seed=np.ones((1, 2, 2)))
    assert x.grad[0, 1, 1] == 4.0 and x.grad.sum() == 4.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: E.conv2d(np.ones((1, 3, 3)), np.ones((1, 2, 2, 2))), "conv2d needs x"),
        (lambda: E.conv2d(np.ones((1, 2, 2)), np.ones((1, 1, 3, 3))), "does not fit"),
        (lambda: E.conv2d(np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), stride=0), "stride"),
        (lambda: E.conv2d(np.ones((1, 3, 3)), np.ones((2, 1, 2, 2)), [1.0]), "bias"),
        (lambda: E.max_pool2d(np.ones((3, 3)), 2), "max_pool2d needs"),
        (lambda: E.stack([np.ones(2), np.ones(3)]), "one shape"),
        (lambda: E.concat([np.ones((2, 2)), np.ones((3, 3))], axis=0), "cannot concat"),
        (lambda: E.concat([]), "at least one"),
        (lambda: E.where(np.ones(2, dtype=bool), np.ones(3), 0.0), "cannot broadcast"),
        (lambda: Tensor([1.0])[3], "cannot index"),
    ],
)
def test_shape_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="boolean"):
        E.where(np.ones(2), np.ones(2), 0.0)


def test_convolution_windows_are_the_sliding_windows_numpy_gives():
    from drill.engine.conv import _windows

    rng = np.random.default_rng(8)
    for shape, size, stride in [
        ((2, 5, 5), 2, 1),
        ((1, 6, 6), 3, 2),
        ((3, 4, 4), 2, 2),
        ((1, 7, 5), 3, 3),
    ]:
        x = rng.normal(size=shape)
        view = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))
        expected = view[:, ::stride, ::stride]
        got = _windows(x, size, size, stride)
        assert got.shape == expected.shape and got.strides == expected.strides
        assert np.array_equal(got, expected) and not got.flags.writeable


def test_erf_is_the_c_librarys_entry_by_entry():
    import math

    from drill.engine.functions import _erf

    reference = np.vectorize(math.erf, otypes=[np.float64])
    for value in (np.float64(0.3), np.array(-1.25), np.linspace(-3, 3, 13).reshape(13, 1)):
        got = _erf(value)
        assert isinstance(got, np.ndarray) and got.shape == np.shape(value)
        assert np.array_equal(got, reference(value))
