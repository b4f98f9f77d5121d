"""Code exercises: every reference solution passes 50 seeds, realistic wrong solutions fail
with the message that names their slip, gradient exercises agree with autograd in float64,
and a submission runs in its own process, where a hang, a crash or a bad return is a
failed verdict, never a traceback or a stuck test.

Each seed's tests include the exercise's edge cases (saturated scores, masks, odd shapes):
seeds 0–49 meet every kind of test case that seeds 0–199 do. References and wrong
solutions run in this process (check_source, through the same wire format as a
submission) to keep that check fast; a few seeds go through the real subprocess runner.
"""

from __future__ import annotations

import math
import textwrap

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from drill.exercises.code import registry
from drill.exercises.code.checker import build_cases, check_file, check_source
from drill.exercises.code.grading import Difference, generic_slip
from drill.exercises.code.spec import DEFAULT_TOLERANCE

NAMES = registry.names()
SEEDS = 50


@pytest.fixture(scope="module", params=NAMES)
def exercise(request):
    return registry.load(request.param)


# -- the exercises themselves ------------------------------------------------------------


def test_there_are_enough_exercises_in_every_group():
    groups = {info.group for info in registry.CODE_EXERCISES.values()}
    assert len(NAMES) >= 24
    assert groups == {
        "numerics",
        "layers",
        "normalisation",
        "convolution",
        "sequence and attention",
        "optimizers",
        "training utilities",
        "modern pieces",
    }


def test_the_fixed_signatures_of_the_issue():
    fixed = {
        "softmax": ("softmax", ("z",)),
        "affine-backward": ("affine_backward", ("dout", "x", "W", "b")),
        "softmax-cross-entropy": ("softmax_cross_entropy", ("logits", "labels")),
    }
    for name, (function, arguments) in fixed.items():
        exercise = registry.load(name)
        assert (exercise.function, exercise.arguments) == (function, arguments)
        assert f"def {function}({', '.join(arguments)}):" in exercise.stub
    assert registry.load("affine-backward").outputs == ("dx", "dW", "db")
    assert registry.load("softmax-cross-entropy").outputs == ("loss", "dlogits")


def test_every_task_states_the_conventions_and_every_stub_is_a_stub(exercise):
    assert "`x` has shape (N, D), `W` has shape\n(D, M) and `out = x @ W + b`" in exercise.task
    assert f"def {exercise.function}(" in exercise.stub and '"""' in exercise.stub
    assert "raise NotImplementedError" in exercise.stub
    report = check_source(exercise, exercise.stub, seed=0)
    assert report.passed == 0 and "raised NotImplementedError" in "\n".join(report.lines())


def test_cases_are_reproducible_from_the_seed(exercise):
    first, again = build_cases(exercise, 11), build_cases(exercise, 11)
    assert [c.label for c in first] == [c.label for c in again]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(
            np.concatenate([np.ravel(x) for x in _flat(a.expected)]),
            np.concatenate([np.ravel(x) for x in _flat(b.expected)]),
        )


def test_the_reference_passes_50_seeds(exercise):
    failing = [
        seed
        for seed in range(SEEDS)
        if not check_source(exercise, exercise.reference, seed).all_passed
    ]
    assert failing == []


def _flat(value):
    return list(value) if isinstance(value, tuple) else [value]


# -- realistic wrong solutions ------------------------------------------------------------


def code(source: str) -> str:
    return "import numpy as np\n\n" + textwrap.dedent(source)


# name -> [(what the report must say, a wrong solution)]
WRONG: dict[str, list[tuple[str, str]]] = {
    "softmax": [
        (
            "no max-subtraction",
            code("""
            def softmax(z):
                e = np.exp(z)
                return e / e.sum(axis=-1, keepdims=True)
            """),
        ),
        (
            "subtracted the max of the whole array",
            code("""
            def softmax(z):
                e = np.exp(z - np.max(z))
                return e / e.sum(axis=-1, keepdims=True)
            """),
        ),
        (
            "normalised over the first axis",
            code("""
            def softmax(z):
                e = np.exp(z - z.max(axis=0))
                return e / e.sum(axis=0)
            """),
        ),
    ],
    "logsumexp": [
        (
            "no max-subtraction",
            code("""
            def logsumexp(z):
                return np.log(np.sum(np.exp(z), axis=-1))
            """),
        ),
        (
            "forgot to add the max back",
            code("""
            def logsumexp(z):
                m = z.max(axis=-1, keepdims=True)
                return np.log(np.sum(np.exp(z - m), axis=-1))
            """),
        ),
        (
            "keepdims=True",
            code("""
            def logsumexp(z):
                m = z.max(axis=-1, keepdims=True)
                return m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
            """),
        ),
    ],
    "bce-with-logits": [
        (
            "log(σ(z)) is log 0",
            code("""
            def bce_with_logits(logits, targets):
                p = 1 / (1 + np.exp(-logits))
                loss = -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
                return loss, (p - targets) / logits.size
            """),
        ),
        (
            "missing the 1/n of the mean",
            code("""
            def bce_with_logits(logits, targets):
                loss = np.mean(np.logaddexp(0, logits) - targets * logits)
                return loss, 1 / (1 + np.exp(-logits)) - targets
            """),
        ),
    ],
    "affine-forward": [
        (
            "forgot to add the bias",
            code("""
            def affine_forward(x, W, b):
                return x.reshape(x.shape[0], -1) @ W
            """),
        ),
        (
            "raised ValueError",
            code("""
            def affine_forward(x, W, b):
                return x @ W + b
            """),
        ),
    ],
    "affine-backward": [
        (
            "dW is transposed",
            code("""
            def affine_backward(dout, x, W, b):
                return dout @ W.T, dout.T @ x, dout.sum(axis=0)
            """),
        ),
        (
            "db is the sum of dout over the batch, not its mean",
            code("""
            def affine_backward(dout, x, W, b):
                return dout @ W.T, x.T @ dout, dout.mean(axis=0)
            """),
        ),
    ],
    "relu-backward": [
        (
            "passed the gradient where x == 0",
            code("""
            def relu_backward(dout, x):
                return dout * (x >= 0)
            """),
        ),
        (
            "masked by the sign of dout",
            code("""
            def relu_backward(dout, x):
                return np.where(dout > 0, dout, 0.0)
            """),
        ),
    ],
    "softmax-cross-entropy": [
        (
            "missing the 1/N of the mean",
            code("""
            def softmax_cross_entropy(logits, labels):
                n = len(labels)
                shifted = logits - logits.max(axis=1, keepdims=True)
                p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
                loss = -np.mean(np.log(p[np.arange(n), labels]))
                p[np.arange(n), labels] -= 1
                return loss, p
            """),
        ),
        (
            "no max-subtraction",
            code("""
            def softmax_cross_entropy(logits, labels):
                n = len(labels)
                p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
                loss = -np.mean(np.log(p[np.arange(n), labels]))
                p[np.arange(n), labels] -= 1
                return loss, p / n
            """),
        ),
        (
            "no one-hot term",
            code("""
            def softmax_cross_entropy(logits, labels):
                n = len(labels)
                shifted = logits - logits.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                return -np.mean(log_p[np.arange(n), labels]), np.exp(log_p) / n
            """),
        ),
    ],
    "dropout": [
        (
            "forgot to divide by 1 − p",
            code("""
            def dropout_forward(x, p, u, train):
                return x * (u >= p) if train else x
            """),
        ),
        (
            "dropped units at evaluation",
            code("""
            def dropout_forward(x, p, u, train):
                return x * (u >= p) / (1 - p)
            """),
        ),
    ],
    "embedding-backward": [
        (
            "repeated ids overwrite each other",
            code("""
            def embedding_backward(dout, ids, vocab_size):
                dW = np.zeros((vocab_size, dout.shape[-1]))
                dW[ids] += dout
                return dW
            """),
        ),
        (
            "is transposed",
            code("""
            def embedding_backward(dout, ids, vocab_size):
                dW = np.zeros((dout.shape[-1], vocab_size))
                np.add.at(dW.T, ids, dout)
                return dW
            """),
        ),
    ],
    "batchnorm-forward": [
        (
            "used the unbiased variance",
            code("""
            def batchnorm_forward(x, gamma, beta, eps):
                mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
                return gamma * (x - mean) / np.sqrt(var + eps) + beta
            """),
        ),
        (
            "that is layer norm",
            code("""
            def batchnorm_forward(x, gamma, beta, eps):
                mean = x.mean(axis=1, keepdims=True)
                var = x.var(axis=1, keepdims=True)
                return gamma * (x - mean) / np.sqrt(var + eps) + beta
            """),
        ),
        (
            "cancels catastrophically",
            code("""
            def batchnorm_forward(x, gamma, beta, eps):
                mean = x.mean(axis=0)
                var = (x**2).mean(axis=0) - mean**2
                return gamma * (x - mean) / np.sqrt(var + eps) + beta
            """),
        ),
    ],
    "batchnorm-backward": [
        (
            "treated the batch mean and variance as constants",
            code("""
            def batchnorm_backward(dout, x, gamma, eps):
                std = np.sqrt(x.var(axis=0) + eps)
                x_hat = (x - x.mean(axis=0)) / std
                return dout * gamma / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
            """),
        ),
        (
            "dgamma = Σ dout · x̂",
            code("""
            def batchnorm_backward(dout, x, gamma, eps):
                std = np.sqrt(x.var(axis=0) + eps)
                x_hat = (x - x.mean(axis=0)) / std
                g = dout * gamma
                dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std
                return dx, (dout * x).sum(axis=0), dout.sum(axis=0)
            """),
        ),
    ],
    "layernorm-forward": [
        (
            "normalised over the batch",
            code("""
            def layernorm_forward(x, gamma, beta, eps):
                mean, var = x.mean(axis=0), x.var(axis=0)
                return gamma * (x - mean) / np.sqrt(var + eps) + beta
            """),
        ),
        (
            "used the unbiased variance",
            code("""
            def layernorm_forward(x, gamma, beta, eps):
                mean = x.mean(axis=-1, keepdims=True)
                var = x.var(axis=-1, keepdims=True, ddof=1)
                return gamma * (x - mean) / np.sqrt(var + eps) + beta
            """),
        ),
    ],
    "layernorm-backward": [
        (
            "treated each row's mean and variance as constants",
            code("""
            def layernorm_backward(dout, x, gamma, eps):
                std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
                x_hat = (x - x.mean(axis=1, keepdims=True)) / std
                return dout * gamma / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
            """),
        ),
        (
            "dgamma = Σ over the rows of dout · x̂",
            code("""
            def layernorm_backward(dout, x, gamma, eps):
                std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
                x_hat = (x - x.mean(axis=1, keepdims=True)) / std
                g = dout * gamma
                m = g.mean(axis=1, keepdims=True)
                dx = (g - m - x_hat * (g * x_hat).mean(axis=1, keepdims=True)) / std
                return dx, (dout * x).sum(axis=0), dout.sum(axis=0)
            """),
        ),
    ],
    "rmsnorm-forward": [
        (
            "subtracted the mean",
            code("""
            def rmsnorm_forward(x, gamma, eps):
                c = x - x.mean(axis=-1, keepdims=True)
                return gamma * c / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps)
            """),
        ),
        (
            "used the sum of the squares",
            code("""
            def rmsnorm_forward(x, gamma, eps):
                return gamma * x / np.sqrt(np.sum(x**2, axis=-1, keepdims=True) + eps)
            """),
        ),
    ],
    "rmsnorm-backward": [
        (
            "treated the RMS as a constant",
            code("""
            def rmsnorm_backward(dout, x, gamma, eps):
                rms = np.sqrt(np.mean(x**2, axis=1, keepdims=True) + eps)
                return dout * gamma / rms, (dout * x / rms).sum(axis=0)
            """),
        ),
        (
            "dgamma = Σ over the rows of dout · x / rms",
            code("""
            def rmsnorm_backward(dout, x, gamma, eps):
                d = x.shape[1]
                rms = np.sqrt(np.mean(x**2, axis=1, keepdims=True) + eps)
                g = dout * gamma
                dx = g / rms - x * (g * x).sum(axis=1, keepdims=True) / (d * rms**3)
                return dx, (dout * x).sum(axis=0)
            """),
        ),
    ],
    "conv2d-forward": [
        (
            "flipped the kernel",
            code("""
            def conv2d_forward(x, w, b, stride, pad):
                w = w[:, :, ::-1, ::-1]
                n, _, h, wd = x.shape
                f, _, hh, ww = w.shape
                xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
                oh, ow = 1 + (h + 2 * pad - hh) // stride, 1 + (wd + 2 * pad - ww) // stride
                out = np.zeros((n, f, oh, ow))
                for i in range(oh):
                    for j in range(ow):
                        win = xp[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
                        out[:, :, i, j] = np.einsum("nchw,fchw->nf", win, w) + b
                return out
            """),
        ),
        (
            "ignored pad",
            code("""
            def conv2d_forward(x, w, b, stride, pad):
                n, _, h, wd = x.shape
                f, _, hh, ww = w.shape
                oh, ow = 1 + (h - hh) // stride, 1 + (wd - ww) // stride
                out = np.zeros((n, f, oh, ow))
                for i in range(oh):
                    for j in range(ow):
                        win = x[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
                        out[:, :, i, j] = np.einsum("nchw,fchw->nf", win, w) + b
                return out
            """),
        ),
    ],
    "maxpool-backward": [
        (
            "sent the gradient to every tied maximum",
            code("""
            def maxpool_backward(dout, x, pool, stride):
                dx = np.zeros_like(x)
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        rows = slice(i * stride, i * stride + pool)
                        cols = slice(j * stride, j * stride + pool)
                        win = x[:, :, rows, cols]
                        top = win.max(axis=(2, 3), keepdims=True)
                        dx[:, :, rows, cols] += (win == top) * dout[:, :, i : i + 1, j : j + 1]
                return dx
            """),
        ),
        (
            "overwrote the gradient where windows overlap",
            code("""
            def maxpool_backward(dout, x, pool, stride):
                n, c = x.shape[:2]
                dx = np.zeros_like(x)
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        win = x[:, :, i*stride : i*stride + pool, j*stride : j*stride + pool]
                        r, q = np.divmod(win.reshape(n, c, -1).argmax(axis=2), pool)
                        a, b = np.indices((n, c))
                        dx[a, b, i * stride + r, j * stride + q] = dout[:, :, i, j]
                return dx
            """),
        ),
    ],
    "attention": [
        (
            "applied the mask after the softmax",
            code("""
            def attention(q, k, v, causal):
                s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                p /= p.sum(axis=-1, keepdims=True)
                if causal:
                    p = p * np.tril(np.ones(p.shape[1:]))
                return p @ v
            """),
        ),
        (
            "forgot to scale the scores by 1/√d",
            code("""
            def attention(q, k, v, causal):
                s = q @ k.transpose(0, 2, 1)
                if causal:
                    s = np.where(np.tril(np.ones(s.shape[1:], bool)), s, -np.inf)
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                return p / p.sum(axis=-1, keepdims=True) @ v
            """),
        ),
    ],
    "attention-backward": [
        (
            "used only the diagonal of the softmax Jacobian",
            code("""
            def attention_backward(dout, q, k, v, causal):
                c = 1 / np.sqrt(q.shape[-1])
                s = q @ k.transpose(0, 2, 1) * c
                if causal:
                    s = np.where(np.tril(np.ones(s.shape[1:], bool)), s, -np.inf)
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                p /= p.sum(axis=-1, keepdims=True)
                ds = (dout @ v.transpose(0, 2, 1)) * p
                return ds @ k * c, ds.transpose(0, 2, 1) @ q * c, p.transpose(0, 2, 1) @ dout
            """),
        ),
        (
            "forgot the 1/√d",
            code("""
            def attention_backward(dout, q, k, v, causal):
                s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
                if causal:
                    s = np.where(np.tril(np.ones(s.shape[1:], bool)), s, -np.inf)
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                p /= p.sum(axis=-1, keepdims=True)
                dp = dout @ v.transpose(0, 2, 1)
                ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
                return ds @ k, ds.transpose(0, 2, 1) @ q, p.transpose(0, 2, 1) @ dout
            """),
        ),
    ],
    "rnn-step": [
        (
            "forgot the tanh",
            code("""
            def rnn_step(x, h_prev, Wx, Wh, b):
                return x @ Wx + h_prev @ Wh + b
            """),
        ),
        (
            "used Whᵀ",
            code("""
            def rnn_step(x, h_prev, Wx, Wh, b):
                return np.tanh(x @ Wx + h_prev @ Wh.T + b)
            """),
        ),
    ],
    "rnn-step-backward": [
        (
            "forgot the tanh′ factor",
            code("""
            def rnn_step_backward(dh_next, x, h_prev, Wx, Wh, b):
                da = dh_next
                return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
            """),
        ),
        (
            "used 1 − a² with the pre-activation",
            code("""
            def rnn_step_backward(dh_next, x, h_prev, Wx, Wh, b):
                a = x @ Wx + h_prev @ Wh + b
                da = dh_next * (1 - a**2)
                return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
            """),
        ),
    ],
    "lstm-step": [
        (
            "split the gates in the wrong order",
            code("""
            def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
                i, f, g, o = np.split(x @ Wx + h_prev @ Wh + b, 4, axis=1)
                sig = lambda z: 1 / (1 + np.exp(-z))
                c = sig(f) * c_prev + sig(i) * np.tanh(g)
                return sig(o) * np.tanh(c), c
            """),
        ),
        (
            "the tanh of the cell is missing",
            code("""
            def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
                i, f, o, g = np.split(x @ Wx + h_prev @ Wh + b, 4, axis=1)
                sig = lambda z: 1 / (1 + np.exp(-z))
                c = sig(f) * c_prev + sig(i) * np.tanh(g)
                return sig(o) * c, c
            """),
        ),
    ],
    "sgd-momentum": [
        (
            "that is PyTorch's form",
            code("""
            def sgd_momentum(w, dw, v, lr, momentum):
                v = momentum * v + dw
                return w - lr * v, v
            """),
        ),
        (
            "the step goes up the gradient",
            code("""
            def sgd_momentum(w, dw, v, lr, momentum):
                v = momentum * v + lr * dw
                return w + v, v
            """),
        ),
    ],
    "adam": [
        (
            "no bias correction",
            code("""
            def adam_step(w, dw, m, v, t, lr, beta1, beta2, eps):
                m = beta1 * m + (1 - beta1) * dw
                v = beta2 * v + (1 - beta2) * dw**2
                return w - lr * m / (np.sqrt(v) + eps), m, v
            """),
        ),
        (
            "eps inside the square root",
            code("""
            def adam_step(w, dw, m, v, t, lr, beta1, beta2, eps):
                m = beta1 * m + (1 - beta1) * dw
                v = beta2 * v + (1 - beta2) * dw**2
                m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
                return w - lr * m_hat / np.sqrt(v_hat + eps), m, v
            """),
        ),
    ],
    "numerical-gradient": [
        (
            "a one-sided difference",
            code("""
            def numerical_gradient(f, x, h):
                grad = np.zeros_like(x)
                fx = f(x)
                for i in np.ndindex(x.shape):
                    old = x[i]
                    x[i] = old + h
                    grad[i] = (f(x) - fx) / h
                    x[i] = old
                return grad
            """),
        ),
        (
            "left x changed",
            code("""
            def numerical_gradient(f, x, h):
                grad = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    old = x[i]
                    x[i] = old + h
                    plus = f(x)
                    x[i] = old - h
                    grad[i] = (plus - f(x)) / (2 * h)
                return grad
            """),
        ),
        (
            "divided by h",
            code("""
            def numerical_gradient(f, x, h):
                grad = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    e = np.zeros_like(x)
                    e[i] = h
                    grad[i] = (f(x + e) - f(x - e)) / h
                return grad
            """),
        ),
    ],
    "logistic-regression-step": [
        (
            "forgot the 1/N",
            code("""
            def logreg_step(w, b, X, y, lr):
                z = X @ w + b
                p = 1 / (1 + np.exp(-z))
                loss = np.mean(np.logaddexp(0, z) - y * z)
                return w - lr * X.T @ (p - y), b - lr * np.sum(p - y), loss
            """),
        ),
        (
            "stepped up the gradient",
            code("""
            def logreg_step(w, b, X, y, lr):
                z = X @ w + b
                p = 1 / (1 + np.exp(-z))
                loss = np.mean(np.logaddexp(0, z) - y * z)
                return w + lr * X.T @ (p - y) / len(y), b + lr * np.mean(p - y), loss
            """),
        ),
    ],
    "kmeans-step": [
        (
            "got nan",
            code("""
            def kmeans_step(X, centroids):
                d = ((X[:, None] - centroids[None]) ** 2).sum(axis=2)
                labels = d.argmin(axis=1)
                means = [X[labels == j].mean(axis=0) for j in range(len(centroids))]
                return labels, np.array(means)
            """),
        ),
        (
            "farthest centroid",
            code("""
            def kmeans_step(X, centroids):
                labels = ((X[:, None] - centroids[None]) ** 2).sum(axis=2).argmax(axis=1)
                new = centroids.copy()
                for j in range(len(centroids)):
                    if (labels == j).any():
                        new[j] = X[labels == j].mean(axis=0)
                return labels, new
            """),
        ),
    ],
    "rope": [
        (
            "rotate-half layout",
            code("""
            def rope(x, positions, base):
                d = x.shape[1]
                theta = positions[:, None] * base ** (-2 * np.arange(d // 2) / d)
                a, b = x[:, : d // 2], x[:, d // 2 :]
                c, s = np.cos(theta), np.sin(theta)
                return np.concatenate([a * c - b * s, a * s + b * c], axis=1)
            """),
        ),
        (
            "rotated the wrong way",
            code("""
            def rope(x, positions, base):
                d = x.shape[1]
                theta = positions[:, None] * base ** (-2 * np.arange(d // 2) / d)
                out = np.empty_like(x)
                c, s = np.cos(theta), np.sin(theta)
                out[:, 0::2] = x[:, 0::2] * c + x[:, 1::2] * s
                out[:, 1::2] = -x[:, 0::2] * s + x[:, 1::2] * c
                return out
            """),
        ),
    ],
    "top-k-filter": [
        (
            "kept exactly k entries",
            code("""
            def top_k_filter(logits, k):
                out = np.full_like(logits, -np.inf)
                top = np.argsort(-logits, axis=1)[:, :k]
                rows = np.arange(len(logits))[:, None]
                out[rows, top] = logits[rows, top]
                return out
            """),
        ),
        (
            "set the removed entries to 0",
            code("""
            def top_k_filter(logits, k):
                kth = np.sort(logits, axis=1)[:, -min(k, logits.shape[1])][:, None]
                return np.where(logits >= kth, logits, 0.0)
            """),
        ),
    ],
    "top-p-filter": [
        (
            "dropped the entry that crosses p",
            code("""
            def top_p_filter(logits, p):
                e = np.exp(logits - logits.max(axis=1, keepdims=True))
                probs = e / e.sum(axis=1, keepdims=True)
                out = np.full_like(logits, -np.inf)
                for r in range(len(logits)):
                    order = np.argsort(-probs[r], kind="stable")
                    keep = order[np.cumsum(probs[r][order]) < p]
                    out[r, keep] = logits[r, keep]
                return out
            """),
        ),
        (
            "set the removed entries to 0",
            code("""
            def top_p_filter(logits, p):
                e = np.exp(logits - logits.max(axis=1, keepdims=True))
                probs = e / e.sum(axis=1, keepdims=True)
                ranked = -np.sort(-probs, axis=1)
                last = np.minimum((np.cumsum(ranked, axis=1) < p).sum(axis=1), probs.shape[1] - 1)
                threshold = ranked[np.arange(len(probs)), last][:, None]
                return np.where(probs >= threshold, logits, 0.0)
            """),
        ),
    ],
}


def test_every_exercise_has_at_least_two_wrong_solutions():
    assert sorted(WRONG) == sorted(NAMES)
    assert [name for name, wrongs in WRONG.items() if len(wrongs) < 2] == []


@pytest.mark.parametrize(
    ("name", "message", "source"),
    [(name, message, source) for name, wrongs in WRONG.items() for message, source in wrongs],
    ids=lambda value: value if isinstance(value, str) and "\n" not in value else "",
)
def test_a_wrong_solution_fails_with_the_right_message(name, message, source):
    exercise = registry.load(name)
    for seed in range(4):
        report = check_source(exercise, source, seed)
        text = "\n".join(report.lines())
        assert not report.all_passed, f"seed {seed} passed:\n{text}"
        assert report.exit_code == 1
        assert message in text, f"seed {seed}:\n{text}"


# -- gradients against autograd, in float64 ------------------------------------------------


def _vjp(f, args, upstream, argnums):
    """The gradients of Σ upstream ⊙ f(*args) with respect to the args numbered argnums."""
    return tuple(grad(lambda *a: anp.sum(f(*a) * upstream), i)(*args) for i in argnums)


def _log_softmax(z):
    shifted = z - anp.max(z, axis=-1, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=-1, keepdims=True))


def _bce(logits, targets):
    def loss(z):
        return anp.mean(anp.logaddexp(0.0, z) - targets * z)

    return loss(logits), grad(loss)(logits)


def _cross_entropy(logits, labels):
    def loss(z):
        return -anp.mean(_log_softmax(z)[np.arange(len(labels)), labels])

    return loss(logits), grad(loss)(logits)


def _norm_backward(axis):
    def backward(dout, x, gamma, eps):
        def f(x, gamma, beta):
            mean = anp.mean(x, axis=axis, keepdims=True)
            var = anp.mean((x - mean) ** 2, axis=axis, keepdims=True)
            return gamma * (x - mean) / anp.sqrt(var + eps) + beta

        return _vjp(f, (x, gamma, np.zeros_like(gamma)), dout, (0, 1, 2))

    return backward


def _rmsnorm_backward(dout, x, gamma, eps):
    def f(x, gamma):
        return gamma * x / anp.sqrt(anp.mean(x**2, axis=-1, keepdims=True) + eps)

    return _vjp(f, (x, gamma), dout, (0, 1))


def _maxpool_backward(dout, x, pool, stride):
    out_h, out_w = dout.shape[2:]
    rows = (np.arange(out_h) * stride)[:, None] + np.arange(pool)
    cols = (np.arange(out_w) * stride)[:, None] + np.arange(pool)

    def f(x):
        windows = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]
        return anp.max(anp.reshape(windows, (*windows.shape[:4], -1)), axis=-1)

    return _vjp(f, (x,), dout, (0,))[0]


def _attention_backward(dout, q, k, v, causal):
    def f(q, k, v):
        scores = anp.matmul(q, anp.swapaxes(k, 1, 2)) / math.sqrt(q.shape[-1])
        if causal:
            allowed = np.tril(np.ones(scores.shape[1:], dtype=bool))
            scores = anp.where(allowed, scores, -1e30)  # exp underflows to exactly 0
        return anp.matmul(anp.exp(_log_softmax(scores)), v)

    return _vjp(f, (q, k, v), dout, (0, 1, 2))


def _rnn_backward(dh, x, h_prev, Wx, Wh, b):
    def f(x, h_prev, Wx, Wh, b):
        return anp.tanh(anp.dot(x, Wx) + anp.dot(h_prev, Wh) + b)

    return _vjp(f, (x, h_prev, Wx, Wh, b), dh, range(5))


def _logreg_step(w, b, X, y, lr):
    def loss(w, b):
        z = anp.dot(X, w) + b
        return anp.mean(anp.logaddexp(0.0, z) - y * z)

    return w - lr * grad(loss, 0)(w, b), b - lr * grad(loss, 1)(w, b), loss(w, b)


def _numerical_gradient(function, x, h):
    namespace = {"np": anp, **function.names}
    exec(function.source, namespace)
    return grad(namespace["f"])(x)


def _embedding_backward(dout, ids, vocab_size):
    return _vjp(lambda W: W[ids], (np.zeros((vocab_size, dout.shape[-1])),), dout, (0,))[0]


AUTOGRAD = {
    "bce-with-logits": _bce,
    "affine-backward": lambda dout, x, W, b: _vjp(
        lambda x, W, b: anp.dot(x, W) + b, (x, W, b), dout, (0, 1, 2)
    ),
    "relu-backward": lambda dout, x: _vjp(lambda x: anp.where(x > 0, x, 0.0), (x,), dout, (0,))[0],
    "softmax-cross-entropy": _cross_entropy,
    "embedding-backward": _embedding_backward,
    "batchnorm-backward": _norm_backward(0),
    "layernorm-backward": _norm_backward(-1),
    "rmsnorm-backward": _rmsnorm_backward,
    "maxpool-backward": _maxpool_backward,
    "attention-backward": _attention_backward,
    "rnn-step-backward": _rnn_backward,
    "logistic-regression-step": _logreg_step,
    "numerical-gradient": _numerical_gradient,
}


def test_every_gradient_exercise_is_checked_against_autograd():
    gradients = {name for name in NAMES if name.endswith("-backward")}
    gradients |= {"bce-with-logits", "softmax-cross-entropy", "logistic-regression-step"}
    gradients |= {"numerical-gradient"}
    assert set(AUTOGRAD) == gradients


@pytest.mark.parametrize("name", sorted(AUTOGRAD))
def test_gradient_expected_values_agree_with_autograd(name):
    exercise = registry.load(name)
    for seed in range(8):
        for case in build_cases(exercise, seed):
            if name == "maxpool-backward" and ("ties" in case.label or "equal" in case.label):
                continue  # autograd splits a tie; the task gives it to the first maximum
            theirs = AUTOGRAD[name](*case.args)
            ours = case.expected
            for want, got in zip(_flat(theirs), _flat(ours), strict=True):
                np.testing.assert_allclose(
                    got, np.asarray(want, dtype=np.float64), rtol=1e-9, atol=1e-11
                )


# -- generic slips and the grading of odd returns ----------------------------------------


def test_generic_slips_name_a_transpose_a_factor_of_n_a_sign_and_an_extra_axis():
    want = np.arange(1.0, 7.0).reshape(2, 3)
    tolerance = DEFAULT_TOLERANCE

    def slip(received, batch=None):
        return generic_slip(Difference("x", "dW", want, received), batch, tolerance)

    assert slip(want.T) == "dW is transposed: it has shape (3, 2), the transpose of (2, 3)"
    assert slip(4 * want, batch=4).startswith("dW is N = 4 times too large")
    assert slip(want / 4, batch=4).startswith("dW is N = 4 times too small")
    assert slip(-want) == "dW has the wrong sign"
    assert slip(2.5 * want) == "dW is off by a constant factor of 2.5"
    assert "keepdims=True" in slip(want.reshape(2, 3, 1))
    assert "nan or inf" in slip(np.where(want > 3, np.inf, want))
    assert slip(want + np.eye(2, 3)) is None


def test_odd_returns_are_failed_verdicts():
    exercise = registry.load("affine-backward")
    cases = {
        "return None": "returned None (is a `return` missing?)",
        "return [dout @ W.T, x.T @ dout]": "returned 2 values; expected 3 (dx, dW, db)",
        "return dout @ W.T": "expected a tuple (dx, dW, db)",
        "return 'dx', 'dW', 'db'": "returned a str",
        "return dout @ W.T, (x.T @ dout).astype(np.float32), dout.sum(0).tolist()": (
            "db: returned a list of"
        ),
    }
    for body, message in cases.items():
        source = f"import numpy as np\ndef affine_backward(dout, x, W, b):\n    {body}\n"
        report = check_source(exercise, source, 3)
        assert report.passed == 0, body
        assert message in "\n".join(report.lines()), body


def test_a_list_of_the_right_values_passes_where_a_tuple_is_asked():
    source = code("""
    def affine_backward(dout, x, W, b):
        return [dout @ W.T, x.T @ dout, dout.sum(axis=0)]
    """)
    assert check_source(registry.load("affine-backward"), source, 5).all_passed


def test_the_first_failure_shows_inputs_values_and_where_they_differ():
    source = code("""
    def softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)
    """)
    report = check_source(registry.load("softmax"), source, 7)
    lines = report.lines()
    assert lines[0] == "softmax, seed 7: 7 tests"
    assert lines[1] == "  ✓ test 1: random logits (N, C)"
    assert lines[4].startswith("  ✗ test 4: large logits (±1000) — ")
    assert "5/7 passed." in lines
    details = lines[lines.index("First failure: test 4, large logits (±1000)") :]
    assert details[1] == "  inputs: z: float64 (5, 6)"
    assert details[2] == "  expected:" and details[3].startswith("    [[0., 1., ..., 0., 0.],")
    assert details[8] == "  received:" and details[9].startswith("    [[ 0., nan, ...,")
    assert (
        details[14] == "  what differs: 4 of 30 entries differ at [0, 1]: expected 1, received nan"
    )
    assert details[15].startswith("  likely slip: no max-subtraction: exp(1000) overflows")
    assert any(line.startswith("  warnings: RuntimeWarning: overflow") for line in details)


# -- the subprocess runner -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["softmax", "affine-backward", "numerical-gradient", "kmeans-step", "top-k-filter"]
)
def test_references_pass_through_the_subprocess_runner(name, tmp_path):
    exercise = registry.load(name)
    path = tmp_path / "solution.py"
    path.write_text(exercise.reference, encoding="utf-8")
    report = check_file(name, path, seed=3)
    assert report.all_passed and report.exit_code == 0, "\n".join(report.lines())


def _run(tmp_path, body: str, time_limit: float = 10.0, name: str = "softmax"):
    path = tmp_path / "solution.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return check_file(name, path, seed=2, time_limit=time_limit)


def test_a_hang_is_stopped_at_the_time_limit(tmp_path):
    report = _run(
        tmp_path,
        """
        import subprocess, sys
        def softmax(z):
            # a child that would outlive the process: killed with its group
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            while True:
                pass
        """,
        time_limit=1.5,
    )
    assert report.exit_code == 1
    assert report.tests[0].problem == "timed out after 1.5 s"
    assert [t.problem for t in report.tests[1:]] == ["not run"] * (report.total - 1)


def test_a_file_that_cannot_be_run_exits_2(tmp_path):
    for body, message in [
        ("def softmax(z)\n    return z\n", "SyntaxError: expected ':' (line 1: def softmax(z))"),
        ("import no_such_module\n", "ModuleNotFoundError: No module named 'no_such_module'"),
        ("def soft_max(z):\n    return z\n", "the file defines no function named 'softmax'"),
        ("softmax = 3\n", "'softmax' is not a function but a value of type int"),
        ("raise SystemExit(4)\n", "SystemExit: 4"),
    ]:
        report = _run(tmp_path, body)
        assert report.exit_code == 2, body
        assert (
            report.lines()[1] == f"Cannot run the file: {message}" or message in report.lines()[1]
        )


def test_a_crash_memory_and_stdin_are_failed_verdicts(tmp_path):
    crash = _run(tmp_path, "import os\ndef softmax(z):\n    os.abort()\n")
    assert crash.exit_code == 1 and crash.tests[0].problem == "the process aborted"
    memory = _run(tmp_path, "import numpy as np\ndef softmax(z):\n    return np.ones(2**31)\n")
    assert memory.exit_code == 1 and "raised MemoryError" in memory.tests[0].problem
    stdin = _run(tmp_path, "def softmax(z):\n    return input()\n")
    assert "raised EOFError" in stdin.tests[0].problem


def test_printed_output_is_captured_and_trimmed(tmp_path):
    report = _run(
        tmp_path,
        """
        import numpy as np
        print("loading")
        def softmax(z):
            for i in range(100):
                print("row", i)
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        """,
    )
    assert report.all_passed
    lines = report.lines()
    printed = lines[lines.index("Printed output:") + 1 :]
    assert printed[:3] == ["  loading", "  row 0", "  row 1"]
    assert printed[-1].startswith("  … (") and len(printed) == 31
