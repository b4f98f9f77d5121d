"""2-D convolution (cross-correlation, as deep-learning libraries compute it) and max pooling.

One example, channels first, no batch axis: x of shape (C, H, W), a kernel W of shape
(O, C, kh, kw), an output of shape (O, H′, W′) with H′ = ⌊(H + 2p − kh) / s⌋ + 1:

    y[o, i, j] = Σ_c Σ_u Σ_v W[o, c, u, v] · x_padded[c, i·s + u, j·s + v] + b[o]

The kernel is not flipped. Padding is with zeros (pooling pads nothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from drill.engine.tensor import Tensor, as_tensor, make_node


def _positive_int(value: Any, name: str, smallest: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < smallest:
        raise ValueError(f"{name} must be an integer of at least {smallest}, not {value!r}")
    return int(value)


def _out_size(n: int, k: int, stride: int, what: str) -> int:
    if n < k:
        raise ValueError(f"{what}: a window of {k} does not fit in {n}")
    return (n - k) // stride + 1


def _windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """A read-only view of shape (C, H′, W′, kh, kw): the window under each output
    position. (What sliding_window_view over axes 1 and 2, taken every `stride`-th
    window, gives, laid out the same way, without its checks, which cost more than the
    convolution of a small exercise.)"""
    channels, height, width = x.shape
    step_c, step_h, step_w = x.strides
    shape = (channels, (height - kh) // stride + 1, (width - kw) // stride + 1, kh, kw)
    strides = (step_c, step_h * stride, step_w * stride, step_h, step_w)
    return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides, writeable=False)


def _scatter_windows(grad: np.ndarray, shape: tuple[int, ...], stride: int) -> np.ndarray:
    """The adjoint of _windows: add each window's gradient back into an array of `shape`."""
    out = np.zeros(shape)
    _, oh, ow, kh, kw = grad.shape
    for u in range(kh):
        for v in range(kw):
            rows, cols = slice(u, u + stride * oh, stride), slice(v, v + stride * ow, stride)
            out[:, rows, cols] += grad[:, :, :, u, v]
    return out


def conv2d(x: Any, weight: Any, bias: Any = None, stride: int = 1, padding: int = 0) -> Tensor:
    """Cross-correlation of x (C, H, W) with weight (O, C, kh, kw), plus bias (O,) if given."""
    x, weight = as_tensor(x), as_tensor(weight)
    stride = _positive_int(stride, "stride")
    padding = _positive_int(padding, "padding", smallest=0)
    if x.ndim != 3 or weight.ndim != 4 or weight.shape[1] != x.shape[0]:
        raise ValueError(
            f"conv2d needs x of shape (C, H, W) and weight of shape (O, C, kh, kw), "
            f"got {x.shape} and {weight.shape}"
        )
    out_channels, _, kh, kw = weight.shape
    padded = x.value
    if padding:  # zeros around each channel, as np.pad writes them
        channels, height, width = x.shape
        padded = np.zeros((channels, height + 2 * padding, width + 2 * padding))
        padded[:, padding : padding + height, padding : padding + width] = x.value
    _out_size(padded.shape[1], kh, stride, "conv2d height")
    _out_size(padded.shape[2], kw, stride, "conv2d width")
    windows = _windows(padded, kh, kw, stride)  # (C, H′, W′, kh, kw)
    value = np.einsum("chwuv,ocuv->ohw", windows, weight.value)
    parents = [x, weight]
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (out_channels,):
            raise ValueError(f"conv2d bias must have shape ({out_channels},), not {bias.shape}")
        value = value + bias.value[:, None, None]
        parents.append(bias)

    def backward(g: np.ndarray) -> None:
        weight.grad += np.einsum("ohw,chwuv->ocuv", g, windows)
        window_grad = np.einsum("ohw,ocuv->chwuv", g, weight.value)
        padded_grad = _scatter_windows(window_grad, padded.shape, stride)
        x.grad += padded_grad[:, padding : padding + x.shape[1], padding : padding + x.shape[2]]
        if bias is not None:
            bias.grad += g.sum(axis=(1, 2))

    return make_node(value, parents, "conv2d", backward)


def max_pool2d(x: Any, size: int, stride: int | None = None) -> Tensor:
    """The largest value of each size×size window of x (C, H, W), moved by `stride`
    (default: `size`, windows side by side). Each window's gradient goes to its largest
    entry; at a tie the largest entries share it equally. Where windows overlap, an entry
    collects the gradient of every window it wins."""
    x = as_tensor(x)
    size = _positive_int(size, "size")
    stride = size if stride is None else _positive_int(stride, "stride")
    if x.ndim != 3:
        raise ValueError(f"max_pool2d needs x of shape (C, H, W), got {x.shape}")
    _out_size(x.shape[1], size, stride, "max_pool2d height")
    _out_size(x.shape[2], size, stride, "max_pool2d width")
    windows = _windows(x.value, size, size, stride)
    value = windows.max(axis=(3, 4))
    winners = (windows == value[..., None, None]).astype(np.float64)
    winners /= winners.sum(axis=(3, 4), keepdims=True)

    def backward(g: np.ndarray) -> None:
        x.grad += _scatter_windows(winners * g[..., None, None], x.shape, stride)

    return make_node(value, (x,), "max_pool2d", backward)
