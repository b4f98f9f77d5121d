"""Sequences and attention: scaled dot-product attention (forward and backward), a vanilla
RNN step (forward and backward) and an LSTM cell."""

from __future__ import annotations

import math

import numpy as np

from drill.engine import Tensor, sigmoid, softmax, stack, tanh, where
from drill.exercises.code.spec import Case, CodeExercise, Slip
from drill.exercises.code.support import forward, gradients, normal, size, task

# -- attention -------------------------------------------------------------------------------


def _allowed(t: int, s: int, causal: bool) -> np.ndarray:
    """Which keys each query may attend to: all, or with a causal mask those j ≤ i."""
    if not causal:
        return np.ones((t, s), dtype=bool)
    return np.tril(np.ones((t, s), dtype=bool))


def _engine_attention(q: Tensor, k: Tensor, v: Tensor, causal: bool) -> Tensor:
    """One example at a time (the engine's matmul is 2-D), stacked back into a batch."""
    n, t, d = q.shape
    allowed = _allowed(t, k.shape[1], causal)
    outputs = []
    for i in range(n):
        scores = q[i] @ k[i].T / math.sqrt(d)
        weights = softmax(where(allowed, scores, -np.inf), axis=-1)
        outputs.append(weights @ v[i])
    return stack(outputs, axis=0)


def _attention_inputs(rng: np.random.Generator, causal: bool | None):
    """(label, q, k, v, causal) for every test; `causal` pins the mask when a card asks."""
    d, dv = size(rng, 2, 4), size(rng, 2, 4)
    t = size(rng, 3, 5)
    plans = [  # label, N, T, S, causal, scale of q and k
        ("self-attention, no mask", 2, t, t, False, 1.0),
        ("causal mask", 2, t, t, True, 1.0),
        ("cross-attention (S ≠ T), no mask", 2, t, t + 2, False, 1.0),
        ("one token, causal", 2, 1, 1, True, 1.0),
        ("a batch of one, causal", 1, t, t, True, 1.0),
        ("large scores (q and k × 30), causal", 2, t, t, True, 30.0),
        ("large scores (q and k × 30), no mask", 1, t, t, False, 30.0),
    ]
    for label, n, tq, s, mask, scale in plans:
        if causal is not None and mask != causal:
            if causal and tq != s:
                continue  # a causal mask needs as many keys as queries
            mask = causal
            label = (
                label.replace("no mask", "causal") if causal else label.replace("causal", "no mask")
            )
        q, k = normal(rng, n, tq, d, scale=scale), normal(rng, n, s, d, scale=scale)
        yield label, q, k, normal(rng, n, s, dv), mask


def _attention_cases(rng: np.random.Generator, causal: bool | None = None) -> list[Case]:
    cases = []
    for label, q, k, v, mask in _attention_inputs(rng, causal):
        value = forward(lambda q, k, v, m=mask: _engine_attention(q, k, v, m), q=q, k=k, v=v)
        cases.append(Case(label, (q, k, v, mask), value))
    return cases


def _np_attention(q, k, v, causal, scale=None, mask_after=False, axis=-1, diagonal=0):
    d = q.shape[-1]
    scores = q @ k.transpose(0, 2, 1) * (1 / math.sqrt(d) if scale is None else scale)
    allowed = _allowed(q.shape[1], k.shape[1], causal)
    if causal and diagonal:
        allowed = np.tril(np.ones_like(allowed), k=diagonal)
    if causal and not mask_after:
        scores = np.where(allowed, scores, -np.inf)
    scores = scores - scores.max(axis=axis, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(axis=axis, keepdims=True)
    if causal and mask_after:
        weights = weights * allowed
    return weights @ v


ATTENTION_TASK = """
`q` has shape (N, T, d): N examples of T queries; `k` has shape (N, S, d) and `v` shape
(N, S, dv). For each example, with Kᵀ its keys transposed:

    scores  = Q Kᵀ / √d                        (T, S)
    weights = softmax(scores) over the keys    (the last axis: each row sums to 1)
    out     = weights V                        (T, dv)

With `causal` True (then S = T), query i may attend only to keys j ≤ i: the other scores
are set to −∞ **before** the softmax, so they get weight 0 and each row still sums to 1.
"""

ATTENTION = CodeExercise(
    name="attention",
    title="Scaled dot-product attention",
    function="attention",
    arguments=("q", "k", "v", "causal"),
    outputs=("out",),
    task=task(
        "Implement `attention(q, k, v, causal)`: scaled dot-product attention, returning "
        "`out` of shape (N, T, dv).\n" + ATTENTION_TASK
    ),
    stub='''import numpy as np


def attention(q, k, v, causal):
    """softmax(q k^T / sqrt(d)) v for each example; with causal, query i sees keys j <= i.

    q: (N, T, d); k: (N, S, d); v: (N, S, dv); causal: bool (then S == T)
    returns: out of shape (N, T, dv)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def attention(q, k, v, causal):
    """softmax(q k^T / sqrt(d)) v for each example; with causal, query i sees keys j <= i."""
    d = q.shape[-1]
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)  # (N, T, S)
    if causal:
        t, s = scores.shape[1:]
        scores = np.where(np.tril(np.ones((t, s), dtype=bool)), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v
''',
    cases=_attention_cases,
    params={"causal": (True, False)},
    slips=(
        Slip(
            "applied the mask after the softmax: the masked weights were zeroed but the "
            "others no longer sum to 1. Set masked scores to −∞ before the softmax.",
            output=lambda q, k, v, c: _np_attention(q, k, v, c, mask_after=True),
        ),
        Slip(
            "forgot to scale the scores by 1/√d.",
            output=lambda q, k, v, c: _np_attention(q, k, v, c, scale=1.0),
        ),
        Slip(
            "scaled the scores by 1/d: the scale is 1/√d.",
            output=lambda q, k, v, c: _np_attention(q, k, v, c, scale=1 / q.shape[-1]),
        ),
        Slip(
            "took the softmax over the queries (axis −2): each query's weights over the "
            "keys, the last axis, sum to 1.",
            output=lambda q, k, v, c: _np_attention(q, k, v, c, axis=-2),
        ),
        Slip(
            "the causal mask hides the diagonal: query i may attend to key i itself (j ≤ i).",
            output=lambda q, k, v, c: _np_attention(q, k, v, c, diagonal=-1),
        ),
    ),
)


def _attention_backward_cases(rng: np.random.Generator, causal: bool | None = None) -> list[Case]:
    cases = []
    for label, q, k, v, mask in _attention_inputs(rng, causal):
        if label.startswith("large scores"):
            q, k = q / 10, k / 10  # softmax saturates at ×30: the gradients would all be ~0
            label = label.replace("× 30", "× 3")
        dout = normal(rng, q.shape[0], q.shape[1], v.shape[2])
        _, grads = gradients(
            lambda q, k, v, m=mask: _engine_attention(q, k, v, m),
            {"q": q, "k": k, "v": v},
            dout,
        )
        cases.append(Case(label, (dout, q, k, v, mask), (grads["q"], grads["k"], grads["v"])))
    return cases


def _np_attention_backward(dout, q, k, v, causal, scale=None, diagonal_jacobian=False):
    d = q.shape[-1]
    factor = 1 / math.sqrt(d) if scale is None else scale
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
    if causal:
        scores = np.where(_allowed(q.shape[1], k.shape[1], True), scores, -np.inf)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    dv = p.transpose(0, 2, 1) @ dout
    dp = dout @ v.transpose(0, 2, 1)
    ds = dp * p if diagonal_jacobian else p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
    return ds @ k * factor, ds.transpose(0, 2, 1) @ q * factor, dv


ATTENTION_BACKWARD = CodeExercise(
    name="attention-backward",
    title="Scaled dot-product attention, backward",
    function="attention_backward",
    arguments=("dout", "q", "k", "v", "causal"),
    outputs=("dq", "dk", "dv"),
    task=task(
        "Implement `attention_backward(dout, q, k, v, causal)`, returning `(dq, dk, dv)`: "
        "the gradients of scaled dot-product attention, given `dout` = ∂L/∂out of shape "
        "(N, T, dv).\n"
        + ATTENTION_TASK
        + "\nReturn dq (N, T, d), dk (N, S, d) and dv (N, S, dv). Recompute the forward "
        "pass inside the function."
    ),
    stub='''import numpy as np


def attention_backward(dout, q, k, v, causal):
    """Gradients of out = softmax(q k^T / sqrt(d)) v (causal: query i sees keys j <= i).

    dout: (N, T, dv); q: (N, T, d); k: (N, S, d); v: (N, S, dv); causal: bool
    returns: (dq, dk, dv) of q's, k's and v's shapes
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def attention_backward(dout, q, k, v, causal):
    """Gradients of out = softmax(q k^T / sqrt(d)) v (causal: query i sees keys j <= i)."""
    scale = 1 / np.sqrt(q.shape[-1])
    scores = q @ k.transpose(0, 2, 1) * scale  # (N, T, S)
    if causal:
        t, s = scores.shape[1:]
        scores = np.where(np.tril(np.ones((t, s), dtype=bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    dv = p.transpose(0, 2, 1) @ dout
    dp = dout @ v.transpose(0, 2, 1)
    # The softmax Jacobian applied row by row: ds = p * (dp - sum(dp * p)).
    ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))  # masked entries have p = 0
    dq = ds @ k * scale
    dk = ds.transpose(0, 2, 1) @ q * scale
    return dq, dk, dv
''',
    cases=_attention_backward_cases,
    params={"causal": (True, False)},
    slips=(
        Slip(
            "used only the diagonal of the softmax Jacobian (ds = dp ⊙ p): the full "
            "Jacobian gives ds = p ⊙ (dp − Σⱼ dp ⊙ p) over each row.",
            output=lambda dout, q, k, v, c: _np_attention_backward(
                dout, q, k, v, c, diagonal_jacobian=True
            ),
        ),
        Slip(
            "forgot the 1/√d of the scores in dq and dk.",
            output=lambda dout, q, k, v, c: _np_attention_backward(dout, q, k, v, c, scale=1.0),
        ),
    ),
)

# -- vanilla RNN step ------------------------------------------------------------------------


def _rnn(x: Tensor, h_prev: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor) -> Tensor:
    return tanh(x @ Wx + h_prev @ Wh + b)


def _rnn_inputs(rng: np.random.Generator):
    d, h = size(rng, 2, 4), size(rng, 2, 4)
    plans = [
        ("random (N, D) input, (N, H) state", size(rng, 2, 4), d, h, 1.0),
        ("a batch of one", 1, d, h, 1.0),
        ("zero previous state", size(rng, 2, 3), d, h, 0.0),
        ("D = H", size(rng, 2, 3), h, h, 1.0),
        ("large pre-activations (tanh saturates)", 2, d, h, 4.0),
    ]
    for label, n, dim, hidden, scale in plans:
        x, h_prev = normal(rng, n, dim, scale=scale), normal(rng, n, hidden, scale=scale)
        Wx, Wh, b = normal(rng, dim, hidden), normal(rng, hidden, hidden), normal(rng, hidden)
        yield label, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "b": b}


def _rnn_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, inputs in _rnn_inputs(rng):
        value = forward(_rnn, **inputs)
        cases.append(Case(label, tuple(inputs.values()), value))
    return cases


RNN_TASK = """
`x` has shape (N, D), `h_prev` shape (N, H), `Wx` shape (D, H), `Wh` shape (H, H) and
`b` shape (H,):

    h_next = tanh(x @ Wx + h_prev @ Wh + b)      (N, H)
"""

RNN_STEP = CodeExercise(
    name="rnn-step",
    title="Vanilla RNN step, forward",
    function="rnn_step",
    arguments=("x", "h_prev", "Wx", "Wh", "b"),
    outputs=("h_next",),
    task=task(
        "Implement `rnn_step(x, h_prev, Wx, Wh, b)`: one step of a vanilla RNN.\n" + RNN_TASK
    ),
    stub='''import numpy as np


def rnn_step(x, h_prev, Wx, Wh, b):
    """One vanilla RNN step: tanh(x @ Wx + h_prev @ Wh + b).

    x: (N, D); h_prev: (N, H); Wx: (D, H); Wh: (H, H); b: (H,)
    returns: h_next of shape (N, H)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def rnn_step(x, h_prev, Wx, Wh, b):
    """One vanilla RNN step: tanh(x @ Wx + h_prev @ Wh + b)."""
    return np.tanh(x @ Wx + h_prev @ Wh + b)
''',
    cases=_rnn_cases,
    slips=(
        Slip(
            "forgot the tanh: h_next = tanh(x @ Wx + h_prev @ Wh + b).",
            output=lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b,
        ),
        Slip(
            "used Whᵀ: the state term is h_prev @ Wh.",
            output=lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
        ),
        Slip(
            "used a sigmoid: a vanilla RNN step applies tanh.",
            output=lambda x, h, Wx, Wh, b: 1 / (1 + np.exp(-(x @ Wx + h @ Wh + b))),
        ),
        Slip(
            "forgot the bias b.",
            output=lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh),
        ),
    ),
)


def _rnn_backward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, inputs in _rnn_inputs(rng):
        dh = normal(rng, inputs["x"].shape[0], inputs["b"].shape[0])
        _, grads = gradients(_rnn, inputs, dh)
        expected = tuple(grads[name] for name in ("x", "h_prev", "Wx", "Wh", "b"))
        cases.append(Case(label, (dh, *inputs.values()), expected, batch=dh.shape[0]))
    return cases


def _np_rnn_backward(dh, x, h_prev, Wx, Wh, b, local=None):
    a = x @ Wx + h_prev @ Wh + b
    da = dh * (1 - np.tanh(a) ** 2 if local is None else local(a))
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


RNN_STEP_BACKWARD = CodeExercise(
    name="rnn-step-backward",
    title="Vanilla RNN step, backward",
    function="rnn_step_backward",
    arguments=("dh_next", "x", "h_prev", "Wx", "Wh", "b"),
    outputs=("dx", "dh_prev", "dWx", "dWh", "db"),
    task=task(
        "Implement `rnn_step_backward(dh_next, x, h_prev, Wx, Wh, b)`, returning "
        "`(dx, dh_prev, dWx, dWh, db)`: the backward pass of one vanilla RNN step, given "
        "`dh_next` = ∂L/∂h_next of shape (N, H).\n"
        + RNN_TASK
        + "\nEach gradient has its input's shape. Recompute the forward pass inside the "
        "function."
    ),
    stub='''import numpy as np


def rnn_step_backward(dh_next, x, h_prev, Wx, Wh, b):
    """Gradients of h_next = tanh(x @ Wx + h_prev @ Wh + b), given dh_next.

    dh_next, h_prev: (N, H); x: (N, D); Wx: (D, H); Wh: (H, H); b: (H,)
    returns: (dx, dh_prev, dWx, dWh, db), each of its input's shape
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def rnn_step_backward(dh_next, x, h_prev, Wx, Wh, b):
    """Gradients of h_next = tanh(x @ Wx + h_prev @ Wh + b), given dh_next."""
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    da = dh_next * (1 - h_next**2)  # tanh'(a) = 1 - tanh(a)^2
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
''',
    cases=_rnn_backward_cases,
    slips=(
        Slip(
            "forgot the tanh′ factor: da = dh_next ⊙ (1 − h_next²).",
            output=lambda dh, x, h, Wx, Wh, b: _np_rnn_backward(
                dh, x, h, Wx, Wh, b, local=np.ones_like
            ),
        ),
        Slip(
            "used 1 − a² with the pre-activation a: tanh′(a) = 1 − tanh(a)² = 1 − h_next².",
            output=lambda dh, x, h, Wx, Wh, b: _np_rnn_backward(
                dh, x, h, Wx, Wh, b, local=lambda a: 1 - a**2
            ),
        ),
    ),
)

# -- LSTM cell -------------------------------------------------------------------------------


def _lstm(x: Tensor, h_prev: Tensor, c_prev: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor):
    a = x @ Wx + h_prev @ Wh + b
    hidden = c_prev.shape[1]
    i, f, o = (sigmoid(a[:, n * hidden : (n + 1) * hidden]) for n in range(3))
    g = tanh(a[:, 3 * hidden :])
    c_next = f * c_prev + i * g
    return o * tanh(c_next), c_next


def _lstm_cases(rng: np.random.Generator) -> list[Case]:
    d, h = size(rng, 2, 4), size(rng, 2, 3)
    plans = [
        ("random", size(rng, 2, 4), 1.0),
        ("a batch of one", 1, 1.0),
        ("zero previous state", 2, 0.0),
        ("large pre-activations (gates saturate)", 2, 3.0),
        ("one hidden unit", 3, 1.0),
    ]
    cases = []
    for label, n, scale in plans:
        hidden = 1 if label == "one hidden unit" else h
        x, Wx = normal(rng, n, d, scale=max(scale, 1.0)), normal(rng, d, 4 * hidden)
        h_prev, c_prev = normal(rng, n, hidden, scale=scale), normal(rng, n, hidden, scale=scale)
        Wh = normal(rng, hidden, 4 * hidden)
        b = normal(rng, 4 * hidden)
        tensors = [Tensor(v) for v in (x, h_prev, c_prev, Wx, Wh, b)]
        h_next, c_next = _lstm(*tensors)
        cases.append(
            Case(label, (x, h_prev, c_prev, Wx, Wh, b), (h_next.value.copy(), c_next.value.copy()))
        )
    return cases


def _np_lstm(x, h_prev, c_prev, Wx, Wh, b, order="ifog", squash_h=True, g_sigmoid=False):
    a = x @ Wx + h_prev @ Wh + b
    parts = dict(zip(order, np.split(a, 4, axis=1), strict=True))

    def sig(z):
        return 1 / (1 + np.exp(-z))

    i, f, o = sig(parts["i"]), sig(parts["f"]), sig(parts["o"])
    g = sig(parts["g"]) if g_sigmoid else np.tanh(parts["g"])
    c = f * c_prev + i * g
    return (o * np.tanh(c) if squash_h else o * c), c


LSTM_STEP = CodeExercise(
    name="lstm-step",
    title="LSTM cell, forward",
    function="lstm_step",
    arguments=("x", "h_prev", "c_prev", "Wx", "Wh", "b"),
    outputs=("h_next", "c_next"),
    task=task(
        """
Implement `lstm_step(x, h_prev, c_prev, Wx, Wh, b)`, returning `(h_next, c_next)`: one
step of an LSTM cell.

`x` has shape (N, D); `h_prev` and `c_prev` shape (N, H); `Wx` shape (D, 4H), `Wh` shape
(H, 4H) and `b` shape (4H,). The pre-activations `a = x @ Wx + h_prev @ Wh + b`, of shape
(N, 4H), split into four blocks of H columns **in the order i, f, o, g**:

    i = σ(a[:, 0:H])      input gate         f = σ(a[:, H:2H])     forget gate
    o = σ(a[:, 2H:3H])    output gate        g = tanh(a[:, 3H:4H]) candidate cell
    c_next = f ⊙ c_prev + i ⊙ g              h_next = o ⊙ tanh(c_next)

Return h_next and c_next, each of shape (N, H).
"""
    ),
    stub='''import numpy as np


def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step; the 4H pre-activation columns are the gates i, f, o, g in that order.

    x: (N, D); h_prev, c_prev: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,)
    returns: (h_next, c_next), each of shape (N, H)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def lstm_step(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step; the 4H pre-activation columns are the gates i, f, o, g in that order."""
    a = x @ Wx + h_prev @ Wh + b
    i, f, o, g = np.split(a, 4, axis=1)  # four blocks of H columns
    i, f, o, g = sigmoid(i), sigmoid(f), sigmoid(o), np.tanh(g)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
''',
    cases=_lstm_cases,
    slips=(
        Slip(
            "split the gates in the wrong order: the columns hold i, f, o, g (input, "
            "forget, output, candidate), H each.",
            output=lambda *args: _np_lstm(*args, order="ifgo"),
        ),
        Slip(
            "h_next = o ⊙ tanh(c_next): the tanh of the cell is missing.",
            output=lambda *args: _np_lstm(*args, squash_h=False),
        ),
        Slip(
            "the candidate g uses tanh, not σ.",
            output=lambda *args: _np_lstm(*args, g_sigmoid=True),
        ),
        Slip(
            "swapped the input and forget gates: c_next = f ⊙ c_prev + i ⊙ g.",
            output=lambda *args: _np_lstm(*args, order="fiog"),
        ),
    ),
)

EXERCISES = [ATTENTION, ATTENTION_BACKWARD, RNN_STEP, RNN_STEP_BACKWARD, LSTM_STEP]
