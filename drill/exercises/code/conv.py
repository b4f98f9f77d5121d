"""Convolution: a naive conv2d forward pass and the max-pooling backward pass."""

from __future__ import annotations

import numpy as np

from drill.engine import Tensor, conv2d, stack
from drill.exercises.code.spec import Case, CodeExercise, Slip
from drill.exercises.code.support import forward, gradients, normal, size, task

# -- conv2d forward --------------------------------------------------------------------------


def _engine_conv(x: Tensor, w: Tensor, b: Tensor, stride: int, pad: int) -> Tensor:
    """The engine's conv2d takes one image (C, H, W): the batch is stacked back together."""
    images = [conv2d(x[n], w, b, stride=stride, padding=pad) for n in range(x.shape[0])]
    return stack(images, axis=0)


def _conv_cases(rng: np.random.Generator) -> list[Case]:
    c, f = size(rng, 1, 3), size(rng, 1, 3)
    settings = [  # label, (N, H, W), (HH, WW), stride, pad
        ("3×3 kernel, stride 1, pad 1 ('same')", (2, 4, 4), (3, 3), 1, 1),
        ("3×3 kernel, stride 2, pad 1", (2, 5, 5), (3, 3), 2, 1),
        ("1×1 kernel", (2, 3, 3), (1, 1), 1, 0),
        ("2×2 kernel, stride 2, no padding", (1, 4, 6), (2, 2), 2, 0),
        ("rectangular 2×3 kernel on a 4×5 image, pad 1", (2, 4, 5), (2, 3), 1, 1),
        ("stride 2 that does not divide (floor)", (1, 6, 6), (3, 3), 2, 0),
        ("a batch of one, pad 2", (1, 3, 3), (3, 3), 1, 2),
    ]
    cases = []
    for label, (n, h, w), (hh, ww), stride, pad in settings:
        x, kernel, b = normal(rng, n, c, h, w), normal(rng, f, c, hh, ww), normal(rng, f)
        value = forward(
            lambda x, w, b, s=stride, p=pad: _engine_conv(x, w, b, s, p), x=x, w=kernel, b=b
        )
        cases.append(Case(label, (x, kernel, b, stride, pad), value, batch=n))
    return cases


def _np_conv(x, w, b, stride, pad):
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, w.shape[2:], axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (N, C, H', W', HH, WW)
    return np.einsum("nchwuv,fcuv->nfhw", windows, w) + b[None, :, None, None]


CONV2D_FORWARD = CodeExercise(
    name="conv2d-forward",
    title="Convolution, naive forward pass",
    function="conv2d_forward",
    arguments=("x", "w", "b", "stride", "pad"),
    outputs=("out",),
    task=task(
        """
Implement `conv2d_forward(x, w, b, stride, pad)`: a 2-D convolution layer's forward pass,
as deep-learning libraries compute it (a cross-correlation: the kernel is **not** flipped).

- `x` has shape (N, C, H, W): N images of C channels; `w` has shape (F, C, HH, WW): F
  filters; `b` has shape (F,); `stride` and `pad` are ints.
- x is zero-padded by `pad` on each side of H and W. The output has shape (N, F, H′, W′)
  with H′ = 1 + (H + 2·pad − HH) // stride and W′ = 1 + (W + 2·pad − WW) // stride
  (floor division: a stride that does not divide leaves the last rows out).
- out[n, f, i, j] = Σ over c, u, v of w[f, c, u, v] · x_padded[n, c, i·stride + u,
  j·stride + v], plus b[f].

Loops over the output positions are fine.
"""
    ),
    stub='''import numpy as np


def conv2d_forward(x, w, b, stride, pad):
    """Cross-correlation of x with the filters w, plus b, with zero padding.

    x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); stride, pad: int
    returns: out of shape (N, F, 1 + (H + 2*pad - HH) // stride, 1 + (W + 2*pad - WW) // stride)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def conv2d_forward(x, w, b, stride, pad):
    """Cross-correlation of x with the filters w, plus b, with zero padding."""
    n, _, h, width = x.shape
    f, _, hh, ww = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h = 1 + (h + 2 * pad - hh) // stride
    out_w = 1 + (width + 2 * pad - ww) // stride
    out = np.zeros((n, f, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride, j * stride
            window = padded[:, :, top : top + hh, left : left + ww]  # (N, C, HH, WW)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out
''',
    cases=_conv_cases,
    slips=(
        Slip(
            "flipped the kernel (a true convolution): conv2d layers compute the "
            "cross-correlation, w[f, c, u, v] · x[…, i·stride + u, j·stride + v], no flip.",
            output=lambda x, w, b, s, p: _np_conv(x, w[:, :, ::-1, ::-1], b, s, p),
        ),
        Slip(
            "forgot to add the bias b[f].", output=lambda x, w, b, s, p: _np_conv(x, w, 0 * b, s, p)
        ),
        Slip(
            "ignored pad: zero-pad H and W by pad on each side before sliding the filters.",
            output=lambda x, w, b, s, p: _np_conv(x, w, b, s, 0),
        ),
        Slip(
            "ignored the stride: window (i, j) starts at row i·stride, column j·stride.",
            output=lambda x, w, b, s, p: _np_conv(x, w, b, 1, p),
        ),
    ),
)

# -- max-pool backward ----------------------------------------------------------------------


def _window_positions(shape, pool: int, stride: int):
    """Row and column indices of every window: two arrays of shape (H', W', pool, pool)."""
    _, _, h, w = shape
    out_h, out_w = 1 + (h - pool) // stride, 1 + (w - pool) // stride
    rows = (np.arange(out_h) * stride)[:, None] + np.arange(pool)[None, :]  # (H', pool)
    cols = (np.arange(out_w) * stride)[:, None] + np.arange(pool)[None, :]  # (W', pool)
    return rows[:, None, :, None], cols[None, :, None, :]


def _first_maxima(x: np.ndarray, pool: int, stride: int):
    """Indices (n, c, row, column) of each window's first maximum, in row-major order."""
    n, c = x.shape[:2]
    rows, cols = _window_positions(x.shape, pool, stride)
    windows = x[:, :, rows, cols]  # (N, C, H', W', pool, pool)
    first = windows.reshape(*windows.shape[:4], -1).argmax(axis=-1)  # np.argmax: the first
    du, dv = np.divmod(first, pool)
    out_h, out_w = windows.shape[2:4]
    top = (np.arange(out_h) * stride)[None, None, :, None]
    left = (np.arange(out_w) * stride)[None, None, None, :]
    batch = np.arange(n)[:, None, None, None]
    channel = np.arange(c)[None, :, None, None]
    shape = first.shape
    return (
        np.broadcast_to(batch, shape),
        np.broadcast_to(channel, shape),
        top + du,
        left + dv,
    )


def _maxpool_cases(rng: np.random.Generator) -> list[Case]:
    c = size(rng, 1, 2)
    settings = [  # label, (N, H, W), pool, stride, integer-valued (ties)
        ("2×2 windows, stride 2", (2, 4, 4), 2, 2, False),
        ("overlapping 3×3 windows, stride 2", (2, 5, 5), 3, 2, False),
        ("overlapping 2×2 windows, stride 1", (1, 4, 4), 2, 1, False),
        ("ties: small integers", (2, 4, 4), 2, 2, True),
        ("ties in overlapping windows", (1, 5, 5), 3, 1, True),
        ("every entry equal", (1, 4, 4), 2, 2, None),
        ("a batch of one, 2×2 stride 2 on 4×6", (1, 4, 6), 2, 2, False),
    ]
    cases = []
    for label, (n, h, w), pool, stride, ties in settings:
        if ties is None:
            x = np.full((n, c, h, w), 1.5)
        elif ties:
            x = rng.integers(0, 3, (n, c, h, w)).astype(np.float64)
        else:
            x = normal(rng, n, c, h, w)
        index = _first_maxima(x, pool, stride)
        dout = normal(rng, *index[0].shape)
        _, grads = gradients(lambda x, index=index: x[index], {"x": x}, dout, check=False)
        cases.append(Case(label, (dout, x, pool, stride), grads["x"]))
    return cases


def _all_maxima(dout, x, pool, stride):
    rows, cols = _window_positions(x.shape, pool, stride)
    dx = np.zeros_like(x)
    windows = x[:, :, rows, cols]
    top = windows.max(axis=(-2, -1), keepdims=True)
    share = (windows == top) * dout[..., None, None]
    np.add.at(dx, (slice(None), slice(None), rows, cols), share)
    return dx


def _overwritten(dout, x, pool, stride):
    index = _first_maxima(x, pool, stride)
    dx = np.zeros_like(x)
    dx[index] = dout  # the last window that picks an entry wins, the others are lost
    return dx


MAXPOOL_BACKWARD = CodeExercise(
    name="maxpool-backward",
    title="Max pooling, backward",
    function="maxpool_backward",
    arguments=("dout", "x", "pool", "stride"),
    outputs=("dx",),
    task=task(
        """
Implement `maxpool_backward(dout, x, pool, stride)`: the gradient ∂L/∂x of max pooling.

The forward pass takes the maximum of each pool×pool window of `x` (shape (N, C, H, W)),
windows starting every `stride` rows and columns, no padding: the output has shape
(N, C, H′, W′) with H′ = 1 + (H − pool) // stride, W′ = 1 + (W − pool) // stride.
`dout` = ∂L/∂out has that shape.

Each window's gradient goes **to one entry**: its maximum, and when several entries tie
for the maximum, the **first in row-major order** (the one `np.argmax` of the flattened
window picks). Where windows overlap (stride < pool), an entry collects the gradient of
every window it wins. Return dx, of x's shape.
"""
    ),
    stub='''import numpy as np


def maxpool_backward(dout, x, pool, stride):
    """dL/dx of max pooling with pool x pool windows; ties go to the first maximum.

    dout: (N, C, H', W'); x: (N, C, H, W); pool, stride: int
    returns: dx of shape (N, C, H, W)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def maxpool_backward(dout, x, pool, stride):
    """dL/dx of max pooling with pool x pool windows; ties go to the first maximum."""
    n, c = x.shape[:2]
    out_h, out_w = dout.shape[2:]
    dx = np.zeros_like(x)
    batch, channel = np.indices((n, c))
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride, j * stride
            window = x[:, :, top : top + pool, left : left + pool].reshape(n, c, -1)
            du, dv = np.divmod(np.argmax(window, axis=2), pool)  # the first maximum
            dx[batch, channel, top + du, left + dv] += dout[:, :, i, j]
    return dx
''',
    cases=_maxpool_cases,
    slips=(
        Slip(
            "sent the gradient to every tied maximum: only the first (in row-major order, "
            "as np.argmax picks) gets it.",
            output=_all_maxima,
        ),
        Slip(
            "overwrote the gradient where windows overlap: an entry that wins several "
            "windows adds (+=) each window's gradient.",
            output=_overwritten,
        ),
    ),
)

EXERCISES = [CONV2D_FORWARD, MAXPOOL_BACKWARD]
