"""maxpool-backward: where max pooling sends the gradient.

One channel x (H×W); windows of size k×k moved by stride s; y[i, j] is the largest x in
window (i, j), and L = Σ G ⊙ y, so G = ∂L/∂y is the gradient arriving from above. Asks
one element of ∂L/∂x. The lessons: each window's gradient goes to its largest entry
only (the others get 0), and where windows overlap (s < k) an entry that wins several
windows collects the gradient of each.

The values of x are distinct, so no window has a tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    CALC_DECIMALS,
    GRID,
    INDEX_NOTE,
    asked_derivative,
    check_derivative,
    extras_wanted,
    fmt,
    fmt_array,
    format_index,
    json_inputs,
    pick,
    resample,
    slips_apart,
)

PARAMS: dict[str, tuple[Any, ...]] = {"overlap": (True, False)}
# (input size, window, stride): side by side, and overlapping so that gradients add.
HAND_LAYOUTS = {False: ((4, 2, 2),), True: ((3, 2, 1),)}
CALC_LAYOUTS = {False: ((4, 2, 2), (6, 2, 2), (6, 3, 3)), True: ((4, 2, 1), (5, 3, 2))}
NOT_A_MAX = 0.2  # how often the asked entry wins no window: its gradient is 0


@dataclass(frozen=True)
class Setup:
    size: int
    window: int
    stride: int

    @property
    def out_size(self) -> int:
        return (self.size - self.window) // self.stride + 1

    def windows_over(self, row: int, col: int) -> list[tuple[int, int]]:
        """The windows (i, j) that contain x[row, col]."""
        lo = self.window
        return [
            (i, j)
            for i in range(self.out_size)
            for j in range(self.out_size)
            if 0 <= row - i * self.stride < lo and 0 <= col - j * self.stride < lo
        ]


def _distinct_values(rng: np.random.Generator, difficulty: Difficulty, count: int) -> np.ndarray:
    """`count` different values: on the 0.5 grid by hand, two decimals otherwise."""
    if difficulty is Difficulty.HAND:
        grid = np.arange(-9, 10) * GRID  # −4.5 … 4.5: 19 values, enough for 4×4
        return rng.choice(grid, size=count, replace=False)
    hundredths = rng.choice(np.arange(-300, 301), size=count, replace=False)
    return np.round(hundredths / 10**CALC_DECIMALS, CALC_DECIMALS)


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    n, m = setup.size, setup.out_size
    x = _distinct_values(rng, difficulty, n * n).reshape(n, n)
    if difficulty is Difficulty.HAND:
        G = rng.choice(np.array([-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2]), size=(m, m))
    else:
        G = np.round(rng.uniform(-2, 2, size=(m, m)), CALC_DECIMALS)
        G = np.where(G == 0.0, 0.01, G)
    return {"x": x, "G": G}


def _pool(inputs: dict[str, Any], setup: Setup) -> tuple[Tensor, Tensor, Tensor]:
    """(L, y, x): y = max_pool(x) as a one-channel image, L = Σ G ⊙ y."""
    x = Tensor(inputs["x"], name="x")
    y = engine.max_pool2d(x.reshape(1, setup.size, setup.size), setup.window, setup.stride)
    y = y.reshape(setup.out_size, setup.out_size)
    return (y * inputs["G"]).sum(), y, x


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared. Each
    window's largest entry, taken offset by offset: at (u, v) every window (i, j) meets
    x[i·s + u, j·s + v]."""
    k, s, m = setup.window, setup.stride, setup.out_size
    x = np.asarray(inputs["x"])
    span = s * (m - 1) + 1  # the rows (and columns) an offset's entries spread over
    y = x[:span:s, :span:s]
    for u in range(k):
        for v in range(k):
            y = np.maximum(y, x[u : u + span : s, v : v + span : s])
    return float((y * inputs["G"]).sum())


def _winners(inputs: dict[str, Any], setup: Setup) -> dict[tuple[int, int], tuple[int, int]]:
    """Each window (i, j) and the position of its largest entry."""
    x, k, s = np.asarray(inputs["x"]), setup.window, setup.stride
    winners = {}
    for i in range(setup.out_size):
        for j in range(setup.out_size):
            patch = x[i * s : i * s + k, j * s : j * s + k]
            r, c = divmod(int(patch.argmax()), patch.shape[1])  # np.unravel_index, in 2-D
            winners[(i, j)] = (i * s + r, j * s + c)
    return winners


def _choose_index(
    rng: np.random.Generator, winners: dict[tuple[int, int], tuple[int, int]], setup: Setup
) -> tuple[int, int]:
    won = sorted(set(winners.values()))
    if rng.random() < NOT_A_MAX:
        lost = [
            (r, c)
            for r in range(setup.size)
            for c in range(setup.size)
            if (r, c) not in won and setup.windows_over(r, c)
        ]
        if lost:
            return pick(rng, lost)
    # With overlap, prefer an entry that wins more than one window: the gradients add.
    counts = {position: list(winners.values()).count(position) for position in won}
    most = max(counts.values())
    return pick(rng, [p for p in won if counts[p] == most])


def _slips(inputs: dict[str, Any], setup: Setup, index, answer: float) -> dict[str, float]:
    G = np.asarray(inputs["G"])
    windows = setup.windows_over(*index)
    winners = _winners(inputs, setup)
    mine = [w for w in windows if winners[w] == index]
    slips = {
        "sign flipped": -answer,
        "gradient spread evenly over each window (average pooling)": sum(
            G[w] / setup.window**2 for w in windows
        ),
    }
    if len(mine) > 1:
        slips["one window counted: overlapping windows add their gradients"] = G[mine[0]]
    if not mine:
        slips["gradient of the window passed on although x is not its maximum"] = G[windows[0]]
    return slips_apart(slips, answer)


def _solution(
    inputs: dict[str, Any],
    setup: Setup,
    index,
    answer: float,
    y: Tensor,
    winners: dict[tuple[int, int], tuple[int, int]],
) -> list[str]:
    """The worked solution, from the pooled output `y` of the answer's graph and each
    window's winner (both as the generator worked them out)."""
    G = np.asarray(inputs["G"])
    r, c = index
    lines = [f"Forward pass: y = {fmt_array(y.value)}", "Largest entry of each window:"]
    for (i, j), (wr, wc) in winners.items():
        lines.append(f"  window ({i}, {j}): x[{wr}, {wc}] = {fmt(inputs['x'][wr][wc])}")
    mine = [w for w in setup.windows_over(r, c) if winners[w] == (r, c)]
    if not mine:
        lines.append(
            f"x[{r}, {c}] is the largest entry of no window, so no gradient reaches it: "
            "∂y/∂x is 0 for every non-maximum entry."
        )
    else:
        shares = " + ".join(f"G[{i}, {j}]" for i, j in mine)
        values = " + ".join(_factor(G[w]) if k else fmt(G[w]) for k, w in enumerate(mine))
        lines.append(
            f"x[{r}, {c}] is the largest entry of window{'s' * (len(mine) > 1)} "
            f"{', '.join(map(str, mine))}, so it collects {shares} = {values}."
        )
    return [*lines, f"So ∂L/∂x{format_index(index)} = {fmt(answer, 6)}."]


def _factor(x: float) -> str:
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def _start(index: str, stride: int) -> str:
    """Where window `index` starts: "2·i", or "i" for stride 1."""
    return index if stride == 1 else f"{stride}·{index}"


def _question(setup: Setup, inputs: dict[str, Any], index) -> str:
    k, s, n, m = setup.window, setup.stride, setup.size, setup.out_size
    overlap = "The windows overlap." if s < k else "The windows sit side by side, without overlap."
    lines = [
        f"Max pooling with {k}×{k} windows and stride {s} over a {n}×{n} input x gives a "
        f"{m}×{m} output: y[i, j] is the largest x[r, c] with {_start('i', s)} ≤ r < "
        f"{_start('i', s)} + {k} and {_start('j', s)} ≤ c < {_start('j', s)} + {k}. {overlap}",
        "  L = Σ G ⊙ y, so G = ∂L/∂y is the gradient arriving from above",
        "Inputs (no two entries of x are equal):",
        f"  x = {fmt_array(inputs['x'])}",
        f"  G = {fmt_array(inputs['G'])}",
        f"Compute ∂L/∂x{format_index(index)} {INDEX_NOTE}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    overlap = params.get("overlap")
    if overlap is None:
        overlap = bool(rng.random() < 0.5)
    layouts = (HAND_LAYOUTS if difficulty is Difficulty.HAND else CALC_LAYOUTS)[overlap]
    setup = Setup(*pick(rng, layouts))

    def shared_winner(inputs: dict) -> bool:
        # With overlap, some entry should win two windows, or nothing adds up.
        positions = list(_winners(inputs, setup).values())
        return len(set(positions)) < len(positions)

    accept = shared_winner if overlap else (lambda inputs: True)
    inputs = resample(rng, lambda r: _draw_inputs(r, difficulty, setup), accept)
    winners = _winners(inputs, setup)
    index = _choose_index(rng, winners, setup)
    loss, y, x = _pool(inputs, setup)
    loss.backward()
    answer = float(x.grad[index]) + 0.0
    check_derivative(lambda v: _loss_value(v, setup), inputs, "x", index, answer)
    return Exercise(
        generator="maxpool-backward",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, index),
        spec={
            "window": setup.window,
            "stride": setup.stride,
            "padding": 0,
            "convention": "y[i, j] = max of x[s·i : s·i + k, s·j : s·j + k]",
            "loss": "L = Σ G ⊙ y",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative("x", index),
        answer=answer,
        solution=_solution(inputs, setup, index, answer, y, winners),
        slips=_slips(inputs, setup, index, answer) if extras_wanted() else {},
    )
