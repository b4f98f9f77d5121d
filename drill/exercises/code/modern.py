"""Modern pieces: rotary position embeddings, and top-k and top-p (nucleus) filtering."""

from __future__ import annotations

import math

import numpy as np

from drill.engine import Tensor
from drill.exercises.code.spec import Case, CodeExercise, Slip
from drill.exercises.code.support import forward, normal, size, task

# -- RoPE ----------------------------------------------------------------------------------


def _angles(positions: np.ndarray, d: int, base: float, exponent: float = 2.0) -> np.ndarray:
    """θ[t, i] = positions[t] · base^(−exponent·i/d), for the pairs i = 0 … d/2 − 1."""
    frequencies = base ** (-exponent * np.arange(d // 2) / d)
    return positions[:, None].astype(np.float64) * frequencies[None, :]


def _engine_rope(x: Tensor, positions: np.ndarray, base: float) -> Tensor:
    """out = x ⊙ cos + swap(x) ⊙ sin, where swap turns each pair (a, b) into (−b, a)."""
    d = x.shape[1]
    theta = _angles(positions, d, base)
    cos, sin = np.repeat(np.cos(theta), 2, axis=1), np.repeat(np.sin(theta), 2, axis=1)
    partner = np.arange(d) ^ 1  # 0↔1, 2↔3, …
    sign = np.where(np.arange(d) % 2 == 0, -1.0, 1.0)
    return x * cos + x[:, partner] * sign * sin


def _rope_cases(rng: np.random.Generator) -> list[Case]:
    t = size(rng, 2, 5)
    d = 2 * size(rng, 2, 4)
    plans = [  # label, positions, d, base
        ("random positions", np.sort(rng.integers(0, 64, t)), d, 10000.0),
        ("position 0 everywhere: no rotation", np.zeros(t, dtype=np.int64), d, 10000.0),
        ("d = 2: one pair", rng.integers(0, 16, t), 2, 10000.0),
        ("positions 0 … T − 1", np.arange(t), d, 10000.0),
        ("far positions (up to 10⁴)", rng.integers(1000, 10000, t), d, 10000.0),
        ("base 500000 (as in LLaMA 3)", rng.integers(0, 4096, t), d, 500000.0),
    ]
    cases = []
    for label, positions, dim, base in plans:
        positions = np.asarray(positions, dtype=np.int64)
        x = normal(rng, len(positions), dim)
        value = forward(lambda x, p=positions, b=base: _engine_rope(x, p, b), x=x)
        cases.append(Case(label, (x, positions, base), value))
    return cases


def _rope_variant(x, positions, base, layout="pairs", direction=1.0, exponent=2.0):
    d = x.shape[1]
    theta = _angles(positions, d, base, exponent) * direction
    cos, sin = np.cos(theta), np.sin(theta)
    out = np.empty_like(x)
    if layout == "pairs":
        a, b = x[:, 0::2], x[:, 1::2]
        out[:, 0::2], out[:, 1::2] = a * cos - b * sin, a * sin + b * cos
    else:  # GPT-NeoX: entry i is paired with i + d/2
        a, b = x[:, : d // 2], x[:, d // 2 :]
        out[:, : d // 2], out[:, d // 2 :] = a * cos - b * sin, a * sin + b * cos
    return out


ROPE = CodeExercise(
    name="rope",
    title="Rotary position embedding",
    function="rope",
    arguments=("x", "positions", "base"),
    outputs=("out",),
    task=task(
        """
Implement `rope(x, positions, base)`: rotary position embedding (RoFormer, Su et al.
2021) applied to queries or keys.

`x` has shape (T, d) with d even: one row per token; `positions` has shape (T,) and holds
each token's integer position; `base` is a float (10000 in the paper). Neighbouring
entries form pairs (x[:, 2i], x[:, 2i+1]), i = 0 … d/2 − 1 (the paper's interleaved
layout, not the rotate-half layout), and each pair is rotated by the angle

    θ = position · base^(−2i/d)
    out[:, 2i]   = x[:, 2i] cos θ − x[:, 2i+1] sin θ
    out[:, 2i+1] = x[:, 2i] sin θ + x[:, 2i+1] cos θ

Return `out`, of x's shape.
"""
    ),
    stub='''import numpy as np


def rope(x, positions, base):
    """Rotate each pair (x[:, 2i], x[:, 2i+1]) by the angle position * base**(-2i/d).

    x: (T, d), d even; positions: (T,) int64; base: float
    returns: out of shape (T, d)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def rope(x, positions, base):
    """Rotate each pair (x[:, 2i], x[:, 2i+1]) by the angle position * base**(-2i/d)."""
    d = x.shape[1]
    frequencies = base ** (-2 * np.arange(d // 2) / d)  # (d/2,)
    theta = positions[:, None] * frequencies[None, :]  # (T, d/2)
    cos, sin = np.cos(theta), np.sin(theta)
    even, odd = x[:, 0::2], x[:, 1::2]
    out = np.empty_like(x)
    out[:, 0::2] = even * cos - odd * sin
    out[:, 1::2] = even * sin + odd * cos
    return out
''',
    cases=_rope_cases,
    slips=(
        Slip(
            "paired entry i with i + d/2 (the GPT-NeoX rotate-half layout): this task pairs "
            "neighbours, (2i, 2i + 1).",
            output=lambda x, p, b: _rope_variant(x, p, b, layout="halves"),
        ),
        Slip(
            "rotated the wrong way: out[2i] = x[2i] cos θ − x[2i+1] sin θ.",
            output=lambda x, p, b: _rope_variant(x, p, b, direction=-1.0),
        ),
        Slip(
            "frequency base^(−i/d): pair i turns at base^(−2i/d).",
            output=lambda x, p, b: _rope_variant(x, p, b, exponent=1.0),
        ),
        Slip(
            "used the row numbers 0 … T − 1 as positions: rotate by the given positions.",
            output=lambda x, p, b: _rope_variant(x, np.arange(len(p)), b),
        ),
    ),
)

# -- top-k ---------------------------------------------------------------------------------


def _top_k_expected(logits: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(logits, -np.inf)
    for row, values in enumerate(logits):
        ranked = sorted(values.tolist(), reverse=True)
        threshold = ranked[min(k, len(ranked)) - 1]  # the k-th largest
        for j, value in enumerate(values):
            if value >= threshold:
                out[row, j] = value
    return out


def _top_k_cases(rng: np.random.Generator) -> list[Case]:
    n, v = size(rng, 2, 4), size(rng, 6, 10)
    ties = rng.integers(0, 3, (n, v)).astype(np.float64)
    ties[:, rng.permutation(v)[:3]] = 3.0  # three equal largest: k = 2 keeps all three
    plans = [
        ("random logits, k = 3", normal(rng, n, v, scale=2), 3),
        ("ties with the k-th largest (kept)", ties, 2),
        ("k = 1", normal(rng, n, v, scale=2), 1),
        ("k = V: nothing removed", normal(rng, n, v, scale=2), v),
        ("k > V", normal(rng, n, v, scale=2), v + 3),
        ("a batch of one", normal(rng, 1, v, scale=2), size(rng, 2, 4)),
    ]
    return [Case(label, (z, k), _top_k_expected(z, k)) for label, z, k in plans]


def _kept_exactly_k(case: Case, received) -> bool:
    logits, k = case.args
    got = np.asarray(received)
    if got.shape != logits.shape:
        return False
    kept = np.isfinite(got).sum(axis=1)
    wanted = np.isfinite(case.expected).sum(axis=1)
    return bool(np.all(kept == min(k, logits.shape[1])) and np.any(wanted > kept))


TOP_K_FILTER = CodeExercise(
    name="top-k-filter",
    title="Top-k filtering of logits",
    function="top_k_filter",
    arguments=("logits", "k"),
    outputs=("filtered",),
    task=task(
        """
Implement `top_k_filter(logits, k)`: the top-k filter applied before sampling a token.

`logits` has shape (N, V): one row of V logits per sequence; `k` ≥ 1 is an int. In each
row, keep the entries that are among the k largest and set every other entry to −inf
(`-np.inf`, so that a softmax gives it probability 0). Entries **equal to the k-th
largest** are kept too, so a tie can keep more than k; with k ≥ V nothing is removed.
Return the filtered logits, of shape (N, V); `logits` itself stays unchanged.
"""
    ),
    stub='''import numpy as np


def top_k_filter(logits, k):
    """Set all but the k largest logits of each row to -inf (ties with the k-th kept).

    logits: (N, V) float64; k: int >= 1
    returns: filtered logits of shape (N, V)
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def top_k_filter(logits, k):
    """Set all but the k largest logits of each row to -inf (ties with the k-th kept)."""
    k = min(k, logits.shape[1])
    kth_largest = np.sort(logits, axis=1)[:, -k][:, None]  # (N, 1)
    return np.where(logits >= kth_largest, logits, -np.inf)
''',
    cases=_top_k_cases,
    slips=(
        Slip(
            "kept exactly k entries: entries tied with the k-th largest are kept too.",
            matches=_kept_exactly_k,
        ),
        Slip(
            "set the removed entries to 0: use −inf, so that a softmax gives them probability 0.",
            output=lambda z, k: np.where(np.isfinite(_top_k_expected(z, k)), z, 0.0),
        ),
        Slip(
            "kept k + 1 entries: the k-th largest is at index −k of the sorted row.",
            output=lambda z, k: _top_k_expected(z, k + 1),
        ),
        Slip(
            "kept k − 1 entries: the k-th largest is at index −k of the sorted row.",
            output=lambda z, k: _top_k_expected(z, k - 1) if k > 1 else None,
        ),
    ),
)

# -- top-p ---------------------------------------------------------------------------------


def _probabilities(row: np.ndarray) -> list[float]:
    top = max(row.tolist())
    weights = [math.exp(value - top) for value in row.tolist()]
    total = sum(weights)
    return [w / total for w in weights]


def _top_p_expected(logits: np.ndarray, p: float) -> np.ndarray:
    out = np.full_like(logits, -np.inf)
    for row, values in enumerate(logits):
        probabilities = _probabilities(values)
        ranked = sorted(probabilities, reverse=True)
        total, threshold = 0.0, ranked[-1]
        for probability in ranked:
            total += probability
            if total >= p:
                threshold = probability  # the entry that crosses p is kept
                break
        for j, probability in enumerate(probabilities):
            if probability >= threshold:
                out[row, j] = values[j]
    return out


def _safe_p(rng: np.random.Generator, logits: np.ndarray, low: float, high: float) -> float:
    """A p not within 1e-6 of any running total: two correct solutions, summing in a
    different order, must not fall on different sides of p."""
    totals = [np.cumsum(sorted(_probabilities(row), reverse=True)) for row in logits]
    for _ in range(100):
        p = float(np.round(rng.uniform(low, high), 3))
        if all(np.min(np.abs(t - p)) > 1e-6 for t in totals):
            return p
    return p


def _top_p_cases(rng: np.random.Generator) -> list[Case]:
    n, v = size(rng, 2, 4), size(rng, 5, 9)
    random = normal(rng, n, v, scale=2)
    peaked = normal(rng, n, v)
    peaked[:, 0] += 8.0  # one entry holds almost all the probability
    tied = np.zeros((n, v))
    tied[:, :3] = 2.0  # three equal leaders
    one = normal(rng, 1, v, scale=2)
    plans = [
        ("random logits, p = 0.9", random, 0.9),
        ("random logits, a random p", random, _safe_p(rng, random, 0.2, 0.95)),
        ("one dominant entry, p = 0.5", peaked, 0.5),
        ("p = 1: nothing removed", normal(rng, n, v), 1.0),
        ("ties among the leaders (kept together)", tied, _safe_p(rng, tied, 0.1, 0.5)),
        ("a batch of one", one, _safe_p(rng, one, 0.3, 0.9)),
    ]
    return [Case(label, (z, p), _top_p_expected(z, p)) for label, z, p in plans]


def _top_p_variant(logits, p, keep_crossing=True, compare_each=False):
    out = np.full_like(logits, -np.inf)
    for row, values in enumerate(logits):
        probabilities = np.array(_probabilities(values))
        order = np.argsort(-probabilities, kind="stable")
        totals = np.cumsum(probabilities[order])
        if compare_each:
            keep = probabilities[order] >= p
        elif keep_crossing:
            keep = totals - probabilities[order] < p
        else:
            keep = totals < p
        out[row, order[keep]] = values[order[keep]]
    return out


TOP_P_FILTER = CodeExercise(
    name="top-p-filter",
    title="Top-p (nucleus) filtering of logits",
    function="top_p_filter",
    arguments=("logits", "p"),
    outputs=("filtered",),
    task=task(
        """
Implement `top_p_filter(logits, p)`: nucleus filtering (Holtzman et al., 2020), applied
before sampling a token.

`logits` has shape (N, V); `p` is a float in (0, 1]. For each row:

1. Turn the logits into probabilities with a softmax.
2. Sort them from largest to smallest and add them up in that order. The entry at which
   the running total first reaches p (total ≥ p) is the last one kept: keep the
   shortest run of most likely entries whose total is at least p, that entry included.
3. Keep every entry whose probability is at least that last kept entry's (so entries
   tied with it are kept too); set the others to −inf. If rounding keeps the total below
   p = 1, keep the whole row.

Return the filtered **logits** (kept entries unchanged), of shape (N, V).
"""
    ),
    stub='''import numpy as np


def top_p_filter(logits, p):
    """Keep the most likely entries of each row whose probabilities add up to at least p.

    logits: (N, V) float64; p: float in (0, 1]
    returns: filtered logits of shape (N, V), removed entries -inf
    """
    raise NotImplementedError
''',
    reference='''import numpy as np


def top_p_filter(logits, p):
    """Keep the most likely entries of each row whose probabilities add up to at least p."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    ranked = -np.sort(-probs, axis=1)  # largest first
    totals = np.cumsum(ranked, axis=1)
    # The first position whose running total reaches p; the last one if none does.
    last = np.minimum((totals < p).sum(axis=1), probs.shape[1] - 1)
    threshold = ranked[np.arange(len(probs)), last][:, None]
    return np.where(probs >= threshold, logits, -np.inf)
''',
    cases=_top_p_cases,
    slips=(
        Slip(
            "dropped the entry that crosses p: keep the shortest run of most likely entries "
            "whose total reaches p, that entry included.",
            output=lambda z, p: _top_p_variant(z, p, keep_crossing=False),
        ),
        Slip(
            "compared each probability with p: p bounds the running total of the kept "
            "entries, not each entry.",
            output=lambda z, p: _top_p_variant(z, p, compare_each=True),
        ),
        Slip(
            "set the removed entries to 0: use −inf, so that a softmax gives them probability 0.",
            output=lambda z, p: np.where(np.isfinite(_top_p_expected(z, p)), z, 0.0),
        ),
    ),
)

EXERCISES = [ROPE, TOP_K_FILTER, TOP_P_FILTER]
