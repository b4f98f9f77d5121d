"""Optimizers: one step of SGD with momentum and one step of Adam.

An update rule has no gradient to take, so the expected values are the rule itself,
evaluated in drill's process from the formulas the task states.
"""

from __future__ import annotations

import numpy as np

from drill.exercises.code.spec import Case, CodeExercise, Slip
from drill.exercises.code.support import normal, size, task

# -- SGD with momentum -----------------------------------------------------------------------


def _sgd_momentum(w, dw, v, lr, momentum):
    velocity = momentum * v - lr * dw
    return w + velocity, velocity


def _sgd_cases(rng: np.random.Generator) -> list[Case]:
    d = size(rng, 3, 6)
    plans = [  # label, shape, first step, momentum
        ("first step (v = 0)", (d,), True, 0.9),
        ("a later step", (d,), False, 0.9),
        ("a weight matrix (D, M)", (d, 3), False, 0.5),
        ("momentum 0: plain SGD", (d,), False, 0.0),
        ("zero gradient: coasting on the velocity", (d,), False, 0.99),
    ]
    cases = []
    for label, shape, first, momentum in plans:
        w, dw = normal(rng, *shape), normal(rng, *shape)
        if label.startswith("zero gradient"):
            dw = np.zeros(shape)
        v = np.zeros(shape) if first else normal(rng, *shape, scale=0.1)
        lr = float(rng.choice([0.1, 0.05, 0.01]))
        cases.append(Case(label, (w, dw, v, lr, momentum), _sgd_momentum(w, dw, v, lr, momentum)))
    return cases


def _pytorch_momentum(w, dw, v, lr, momentum):
    velocity = momentum * v + dw
    return w - lr * velocity, velocity


SGD_MOMENTUM = CodeExercise(
    name="sgd-momentum",
    title="SGD with momentum, one step",
    function="sgd_momentum",
    arguments=("w", "dw", "v", "lr", "momentum"),
    outputs=("w_next", "v_next"),
    task=task(
        """
Implement `sgd_momentum(w, dw, v, lr, momentum)`, returning `(w_next, v_next)`: one step
of stochastic gradient descent with momentum, in the form where the velocity holds the
step itself (as in CS231n):

    v_next = momentum · v − lr · dw
    w_next = w + v_next

`w`, `dw` (the gradient ∂L/∂w) and `v` (the velocity, 0 before the first step) have one
shape; `lr` and `momentum` are floats. Return arrays of that shape.
"""
    ),
    stub='''import numpy as np


def sgd_momentum(w, dw, v, lr, momentum):
    """One SGD step with momentum: v_next = momentum * v - lr * dw; w_next = w + v_next.

    w, dw, v: float64 arrays of one shape; lr, momentum: float
    returns: (w_next, v_next)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def sgd_momentum(w, dw, v, lr, momentum):
    """One SGD step with momentum: v_next = momentum * v - lr * dw; w_next = w + v_next."""
    v_next = momentum * v - lr * dw
    return w + v_next, v_next
''',
    cases=_sgd_cases,
    slips=(
        Slip(
            "that is PyTorch's form (v = momentum·v + dw, w −= lr·v); this task's velocity "
            "is the step itself: v_next = momentum·v − lr·dw, w_next = w + v_next.",
            output=_pytorch_momentum,
        ),
        Slip(
            "updated w with the old velocity: w_next = w + v_next, the new one.",
            output=lambda w, dw, v, lr, mu: (w + v, mu * v - lr * dw),
        ),
        Slip(
            "the step goes up the gradient: v_next = momentum·v − lr·dw.",
            output=lambda w, dw, v, lr, mu: (w + mu * v + lr * dw, mu * v + lr * dw),
        ),
    ),
)

# -- Adam ----------------------------------------------------------------------------------


def _adam(w, dw, m, v, t, lr, beta1, beta2, eps):
    m_next = beta1 * m + (1 - beta1) * dw
    v_next = beta2 * v + (1 - beta2) * dw**2
    m_hat = m_next / (1 - beta1**t)
    v_hat = v_next / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_next, v_next


def _adam_cases(rng: np.random.Generator) -> list[Case]:
    d = size(rng, 3, 6)
    plans = [  # label, shape, t, eps
        ("first step (t = 1, m = v = 0)", (d,), 1, 1e-8),
        ("step 10", (d,), 10, 1e-8),
        ("step 1000: bias correction near 1", (d,), 1000, 1e-8),
        ("a weight matrix, step 3", (d, 2), 3, 1e-8),
        ("a large eps (0.1), step 5", (d,), 5, 0.1),
        ("some zero gradients, step 2", (d,), 2, 1e-8),
    ]
    cases = []
    for label, shape, t, eps in plans:
        w, dw = normal(rng, *shape), normal(rng, *shape)
        if label.startswith("some zero"):
            dw[::2] = 0.0
        m = np.zeros(shape) if t == 1 else normal(rng, *shape, scale=0.1)
        v = np.zeros(shape) if t == 1 else np.abs(normal(rng, *shape, scale=0.1)) ** 2
        lr, beta1, beta2 = float(rng.choice([1e-3, 1e-2, 0.1])), 0.9, 0.999
        args = (w, dw, m, v, t, lr, beta1, beta2, eps)
        cases.append(Case(label, args, _adam(*args)))
    return cases


def _adam_variant(w, dw, m, v, t, lr, b1, b2, eps, correct=True, eps_inside=False, shift=0):
    m_next = b1 * m + (1 - b1) * dw
    v_next = b2 * v + (1 - b2) * dw**2
    m_hat = m_next / (1 - b1 ** (t - shift)) if correct else m_next
    v_hat = v_next / (1 - b2 ** (t - shift)) if correct else v_next
    root = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return w - lr * m_hat / root, m_next, v_next


ADAM = CodeExercise(
    name="adam",
    title="Adam, one step with bias correction",
    function="adam_step",
    arguments=("w", "dw", "m", "v", "t", "lr", "beta1", "beta2", "eps"),
    outputs=("w_next", "m_next", "v_next"),
    task=task(
        """
Implement `adam_step(w, dw, m, v, t, lr, beta1, beta2, eps)`, returning
`(w_next, m_next, v_next)`: one step of Adam (Kingma & Ba, 2015).

`w`, `dw` (the gradient), `m` and `v` (the moment estimates, 0 before the first step)
have one shape; `t` is the number of **this** step, an int, 1 for the first; `lr`,
`beta1`, `beta2` and `eps` are floats.

    m_next = beta1 · m + (1 − beta1) · dw
    v_next = beta2 · v + (1 − beta2) · dw²
    m̂ = m_next / (1 − beta1ᵗ)        v̂ = v_next / (1 − beta2ᵗ)      (bias correction)
    w_next = w − lr · m̂ / (√v̂ + eps)

Return w_next and the **uncorrected** m_next and v_next: they are the state of the next
step.
"""
    ),
    stub='''import numpy as np


def adam_step(w, dw, m, v, t, lr, beta1, beta2, eps):
    """One Adam step with bias correction; t counts this step (1 on the first).

    w, dw, m, v: float64 arrays of one shape; t: int; lr, beta1, beta2, eps: float
    returns: (w_next, m_next, v_next), m_next and v_next without bias correction
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def adam_step(w, dw, m, v, t, lr, beta1, beta2, eps):
    """One Adam step with bias correction; t counts this step (1 on the first)."""
    m_next = beta1 * m + (1 - beta1) * dw
    v_next = beta2 * v + (1 - beta2) * dw**2
    m_hat = m_next / (1 - beta1**t)  # the moments start at 0: undo that pull toward 0
    v_hat = v_next / (1 - beta2**t)
    w_next = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w_next, m_next, v_next
''',
    cases=_adam_cases,
    slips=(
        Slip(
            "no bias correction: divide m and v by 1 − beta1ᵗ and 1 − beta2ᵗ before the step.",
            output=lambda *args: _adam_variant(*args, correct=False),
        ),
        Slip(
            "eps inside the square root: w_next = w − lr · m̂ / (√v̂ + eps).",
            output=lambda *args: _adam_variant(*args, eps_inside=True),
        ),
        Slip(
            "bias correction with t − 1: t is the number of this step, 1 on the first.",
            output=lambda *args: _adam_variant(*args, shift=1),
        ),
        Slip(
            "returned the bias-corrected m̂ and v̂: return the raw m_next and v_next, the "
            "state the next step starts from.",
            output=lambda w, dw, m, v, t, lr, b1, b2, eps: (
                None,
                (b1 * m + (1 - b1) * dw) / (1 - b1**t),
                (b2 * v + (1 - b2) * dw**2) / (1 - b2**t),
            ),
        ),
    ),
)

EXERCISES = [SGD_MOMENTUM, ADAM]
