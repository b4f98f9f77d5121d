"""What every gradient generator shares: drawing inputs, checking answers, writing text.

The usual shape of a generator:

    activation = choose(rng, params, "activation", ("relu", "tanh"))
    inputs = resample(rng, draw_inputs, acceptable)      # e.g. clear_of_kinks(...)
    loss = build_graph(inputs)                           # engine nodes, named for the trace
    loss.backward()
    answer = float(node.grad[index])
    check_derivative(lambda v: build_graph(v).item(), inputs, "W1", index, answer)
    solution = worked_solution(loss, "W1", index, answer)

Inputs on the `hand` grid are multiples of 0.5; `calc` inputs are any floats, rounded
to two decimals so that the numbers printed in the question are exactly the ones used.
Answers always keep full float64 precision; only the displayed text is rounded.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from drill.engine import Tensor, TraceEntry, topological_order, trace
from drill.engine import activation as engine_activation
from drill.engine import leaky_relu as engine_leaky_relu
from drill.exercises.base import Difficulty, Step, Tolerance

T = TypeVar("T")

GRID = 0.5  # the step of `hand` inputs
CALC_DECIMALS = 2  # `calc` inputs are shown, and used, with this many decimals
KINK_MARGIN = 0.25  # a ReLU pre-activation closer than this to 0 is redrawn
MAX_TRIES = 1000
CHECK_STEP = 1e-6
CHECK_REL = 1e-6
# Smaller answers are redrawn: the default absolute tolerance (1e-3) would accept 0.
SMALLEST_ANSWER = 0.01

ASKED_LOSS: dict[str, str] = {"value": "loss"}
INDEX_NOTE = "(indices start at 0)"

# How the question states each activation and its derivative, so it can be worked by
# hand. {v} is the variable's name, {slope} the leaky ReLU's slope.
_ACTIVATION_TEMPLATES = {
    "identity": "identity({v}) = {v}",
    "relu": "relu({v}) = max(0, {v})",
    "leaky_relu": "leaky_relu({v}) = {v} if {v} > 0, else {slope}·{v}",
    "sigmoid": "sigmoid({v}) = σ({v}) = 1 / (1 + e^(−{v}))",
    "tanh": "tanh({v}) = (e^{v} − e^(−{v})) / (e^{v} + e^(−{v}))",
    "softplus": "softplus({v}) = log(1 + e^{v}), natural log",
    "gelu": "gelu({v}) = {v}·Φ({v}), with Φ the standard normal CDF, Φ({v}) = ½(1 + erf({v}/√2))",
}
_DERIVATIVE_TEMPLATES = {
    "identity": "1",
    "relu": "1 if {v} > 0, else 0",
    "leaky_relu": "1 if {v} > 0, else {slope}",
    "sigmoid": "σ({v})(1 − σ({v}))",
    "tanh": "1 − tanh²({v})",
    "softplus": "σ({v}) = 1 / (1 + e^(−{v}))",
    "gelu": "Φ({v}) + {v}·φ({v}), with φ({v}) = e^(−{v}²/2) / √(2π)",
}


def activation_text(name: str, v: str = "z", slope: float | None = None) -> str:
    """The definition of activation `name` in variable `v`, as a question states it."""
    return _ACTIVATION_TEMPLATES[name].format(v=v, slope=fmt(slope or 0.0))


def derivative_text(name: str, v: str = "z", slope: float | None = None) -> str:
    """The derivative of activation `name` at `v`, as a worked solution states it."""
    return _DERIVATIVE_TEMPLATES[name].format(v=v, slope=fmt(slope or 0.0))


# -- what only study uses -------------------------------------------------------------

# Slips (likely wrong answers, named when graded) and guided steps serve a study session
# alone: an export writes the question, the answer and the solution. Without them an
# exercise costs about a fifth less to make (benchmarks/README.md).
_EXTRAS: ContextVar[bool] = ContextVar("exercise_extras", default=True)


def extras_wanted() -> bool:
    """False while exercises are made without slips and guided steps (`without_extras`):
    a generator then skips computing them and gives an empty mapping or tuple instead."""
    return _EXTRAS.get()


class without_extras:
    """Exercises made inside have no slips and no guided steps; the same question,
    answer, solution and tolerance otherwise. (A class rather than a generator: an export
    enters it for each of its thousands of exercises.)"""

    def __enter__(self) -> None:
        self._token = _EXTRAS.set(False)

    def __exit__(self, *exc_info: object) -> None:
        _EXTRAS.reset(self._token)


class GradientCheckFailed(RuntimeError):
    """The engine's answer disagrees with central differences: a bug, never a user error."""


class NoAcceptableDraw(RuntimeError):
    """No draw passed the generator's conditions; its ranges or params cannot be met."""


# -- choices and draws ---------------------------------------------------------------


def pick(rng: np.random.Generator, choices: Sequence[T]) -> T:
    """One item of `choices`, as the Python value itself (never a NumPy scalar)."""
    if len(choices) == 1:  # rng.integers(1) takes nothing from the stream: skip its cost
        return choices[0]
    return choices[int(rng.integers(len(choices)))]


def choose(rng: np.random.Generator, params: Mapping[str, Any], key: str, choices: Sequence[T]):
    """The value a deck pinned in `params`, else one drawn from `choices`."""
    if key in params and params[key] is not None:
        return params[key]
    return pick(rng, choices)


def draw(
    rng: np.random.Generator,
    difficulty: Difficulty,
    shape: tuple[int, ...] = (),
    low: float = -2.0,
    high: float = 2.0,
    nonzero: bool = False,
) -> np.ndarray:
    """Values in [low, high]: multiples of 0.5 for `hand`, two-decimal floats for `calc`.

    `nonzero` keeps zeros out (a zero weight or input makes a gradient trivially zero).
    """
    if difficulty is Difficulty.HAND:
        steps = _grid_steps(low, high, nonzero)
        if not shape:
            # One value: the same integer from the same stream, without the size (for
            # which NumPy's integers calls np.prod, two thirds of the cost of the call).
            return steps[rng.integers(len(steps))] * GRID
        # What rng.choice(steps, size=shape) draws, without its overhead (a third of the
        # time of an mlp-backward exercise): the same integers from the same stream.
        return steps[rng.integers(0, len(steps), size=shape)] * GRID
    values = np.round(rng.uniform(low, high, size=shape), CALC_DECIMALS)
    if nonzero:
        # Rounding can land on 0; push those to the smallest shown step instead.
        smallest = 10.0**-CALC_DECIMALS
        values = np.where(values == 0.0, smallest, values)
    return np.asarray(values, dtype=np.float64)


Wanted = tuple[tuple[str, tuple[int, ...], float, float, bool], ...]


def draws(rng: np.random.Generator, difficulty: Difficulty, *wanted: tuple[Any, ...]) -> list[Any]:
    """draw(rng, difficulty, shape, low, high, nonzero) for each (shape, low, high,
    nonzero) of `wanted`, in that order, as draw gives them (a hand-drawn scalar is a
    NumPy float, a calculator one a 0-d array), from one call to `rng` (draw_all): for
    generators that draw several values in a row, a call to NumPy's generator costs more
    than the values it draws."""
    plan = draw_plan(tuple((str(i), *each) for i, each in enumerate(wanted)))
    drawn = list(plan.draw(rng, difficulty).values())
    if difficulty is Difficulty.HAND:
        return [value[()] if value.ndim == 0 else value for value in drawn]
    return drawn


def draw_all(
    rng: np.random.Generator, difficulty: Difficulty, wanted: Iterable[Sequence[Any]]
) -> dict[str, Any]:
    """draw() for each (name, shape, low, high, nonzero) of `wanted`, in that order, from
    one call to `rng`: the same values, leaving `rng` in the same state, without the
    overhead of a call for each array (most of the cost of drawing small arrays)."""
    return draw_plan(tuple(tuple(each) for each in wanted)).draw(rng, difficulty)


@dataclass(frozen=True)
class DrawPlan:
    """What draw_all needs, worked out once for a `wanted`: per drawn value, where its
    grid's values start in `grid`, how many there are, its range and whether it must be
    nonzero; per array, its name, shape and slice."""

    grid: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    nonzero: np.ndarray
    pieces: tuple[tuple[str, tuple[int, ...], int, int], ...]

    def draw(self, rng: np.random.Generator, difficulty: Difficulty) -> dict[str, Any]:
        if difficulty is Difficulty.HAND:
            values = self.grid[self.offsets + rng.integers(0, self.counts)]
        else:
            values = np.round(rng.uniform(self.lows, self.highs), CALC_DECIMALS)
            values = np.where((values == 0.0) & self.nonzero, 10.0**-CALC_DECIMALS, values)
        return {name: values[start:stop].reshape(shape) for name, shape, start, stop in self.pieces}


@functools.cache
def draw_plan(wanted: Wanted) -> DrawPlan:
    """The plan of draw_all for `wanted` (kept: generators draw the same shapes again)."""
    grids, offsets, counts, lows, highs, nonzero, pieces = [], [], [], [], [], [], []
    start = size = 0
    for name, shape, low, high, keep_out_zero in wanted:
        grid = _grid_steps(low, high, keep_out_zero)
        n = math.prod(shape)
        offsets += [size] * n
        counts += [len(grid)] * n
        lows += [low] * n
        highs += [high] * n
        nonzero += [keep_out_zero] * n
        pieces.append((name, shape, start, start + n))
        grids.append(grid * GRID)
        start += n
        size += len(grid)
    return DrawPlan(
        grid=np.concatenate(grids),
        offsets=np.array(offsets, dtype=np.int64),
        counts=np.array(counts, dtype=np.int64),
        lows=np.array(lows, dtype=np.float64),
        highs=np.array(highs, dtype=np.float64),
        nonzero=np.array(nonzero, dtype=bool),
        pieces=tuple(pieces),
    )


@functools.cache
def _grid_steps(low: float, high: float, nonzero: bool) -> np.ndarray:
    """The multiples of GRID in [low, high], in units of GRID (read-only: shared)."""
    steps = np.arange(math.ceil(low / GRID), math.floor(high / GRID) + 1, dtype=np.float64)
    if nonzero:
        steps = steps[steps != 0]
    steps.flags.writeable = False
    return steps


def clear_of_kinks(values: Iterable[Any], margin: float = KINK_MARGIN) -> bool:
    """True when every value lies farther than `margin` from 0 (a ReLU's kink)."""
    return all((np.abs(np.asarray(v, dtype=np.float64)) > margin).all() for v in values)


def resample(
    rng: np.random.Generator,
    draw_once: Callable[[np.random.Generator], T],
    acceptable: Callable[[T], bool],
    tries: int = MAX_TRIES,
) -> T:
    """Draw until `acceptable` holds; the same rng state always gives the same result."""
    for _ in range(tries):
        candidate = draw_once(rng)
        if acceptable(candidate):
            return candidate
    raise NoAcceptableDraw(f"no acceptable draw in {tries} tries")


def random_index(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A uniformly drawn position in an array of `shape` (() for a scalar)."""
    return tuple(0 if n == 1 else int(rng.integers(n)) for n in shape)  # see pick()


def one_hot(size: int, hot: int) -> np.ndarray:
    target = np.zeros(size)
    target[hot] = 1.0
    return target


# -- the independent check ------------------------------------------------------------


def central_difference(
    f: Callable[[dict[str, np.ndarray]], float],
    inputs: Mapping[str, Any],
    wrt: str,
    index: Sequence[int],
    step: float = CHECK_STEP,
) -> float:
    """(f(v + h) − f(v − h)) / 2h for one element of one input, in float64."""

    # f only reads its inputs: they are converted (float64 arrays as they are), and only
    # the shifted one is copied.
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in inputs.items()}
    at = tuple(index)

    def shifted(delta: float) -> float:
        moved = dict(arrays)
        moved[wrt] = arrays[wrt].copy()
        moved[wrt][at] += delta
        return float(f(moved))

    return (shifted(step) - shifted(-step)) / (2.0 * step)


def plain_activation(name: str, v: Any, slope: float | None = None) -> Any:
    """Activation `name` of `v` in plain NumPy (math.erf for gelu), for a forward pass
    that shares no engine code: central-difference checks evaluate their function so."""
    if name == "identity":
        return v
    if name == "relu":
        return np.maximum(v, 0.0)
    if name == "leaky_relu":
        return np.where(v > 0, v, (0.01 if slope is None else slope) * v)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-v))
    if name == "tanh":
        return np.tanh(v)
    if name == "softplus":
        return np.logaddexp(0.0, v)
    if name == "gelu":
        cdf = [0.5 * (1.0 + math.erf(x / math.sqrt(2.0))) for x in np.ravel(v).tolist()]
        return v * np.reshape(cdf, np.shape(v))
    raise ValueError(f"no activation called {name!r}")


def check_derivative(
    f: Callable[[dict[str, np.ndarray]], float],
    inputs: Mapping[str, Any],
    wrt: str,
    index: Sequence[int],
    answer: float,
    rel: float = CHECK_REL,
) -> None:
    """Raise GradientCheckFailed unless `answer` matches central differences of `f`.

    `f` maps the inputs to the scalar asked about, using only a forward pass, so the
    check does not share the backward code that produced `answer`.
    """
    numeric = central_difference(f, inputs, wrt, index)
    if not abs(numeric - answer) <= rel * max(1.0, abs(answer)):
        raise GradientCheckFailed(
            f"∂/∂{wrt}{format_index(index)}: engine {answer!r}, central difference {numeric!r}"
        )


def local_derivative(function: Callable[[Tensor], Tensor], at: Any) -> np.ndarray:
    """f′ at each element of `at`, from the engine (for an elementwise function f)."""
    point = Tensor(at)
    out = function(point)
    out.backward(seed=np.ones_like(out.value))
    return point.grad


def derivative_note(
    name: str, v: str, at: Any, slope: float | None = None, values: Any = None
) -> str:
    """ "where f′(v) = <definition>, so f′(v) = <values>", for a worked solution. `values`
    are f′ at `at` when the caller has them already; else the engine computes them."""
    if values is None:
        values = local_derivative(activation_function(name, slope), at)
    shown = fmt_array(values)
    return f"where {name}′(z) = {derivative_text(name, 'z', slope)}, so {name}′({v}) = {shown}"


def activation_function(name: str, slope: float | None = None) -> Callable[[Any], Tensor]:
    """The engine's activation `name`, with the leaky ReLU's slope bound."""
    if name == "leaky_relu":
        return lambda z: engine_leaky_relu(z, slope if slope is not None else 0.01)
    return engine_activation(name)


def named_nodes(root: Tensor) -> dict[str, Tensor]:
    """The named nodes `root` depends on, by name, to read gradients or rerun backward."""
    return {node.name: node for node in topological_order(root) if node.name}


def asked_gradient(loss: Tensor, wrt: str, index: tuple[int, ...] = ()) -> float:
    """Run the backward pass from `loss`; ∂loss/∂wrt[index], read off the named node."""
    loss.backward()
    return float(named_nodes(loss)[wrt].grad[index])


def distinct_slips(slips: Mapping[str, float], answer: float) -> dict[str, float]:
    """Slips that a grader can tell apart from the answer and from each other."""
    kept: dict[str, float] = {}
    if not extras_wanted():
        return kept
    for description, value in slips.items():
        value = float(value)
        seen = [answer, *kept.values()]
        if math.isfinite(value) and all(not math.isclose(value, v, abs_tol=1e-9) for v in seen):
            kept[description] = value
    return kept


SLIP_MARGIN = 2.0  # a slip lies at least this many default tolerances from the answer


def slips_apart(slips: Mapping[str, Any], answer: Any) -> dict[str, Any]:
    """Slips a grader can tell apart: each lies clearly outside the default tolerance
    around the answer (twice over, so a slip worked from rounded numbers is still named),
    in some entry, and differs from the slips kept before it. For scalar and array
    answers alike: scalars stay floats, arrays become nested lists."""
    if not extras_wanted():
        return {}
    truth = np.asarray(answer, dtype=np.float64)
    default = Tolerance()
    bound = SLIP_MARGIN * np.maximum(default.abs, default.rel * np.abs(truth))
    kept: dict[str, Any] = {}
    for description, value in slips.items():
        array = np.asarray(value, dtype=np.float64)
        if array.shape != truth.shape or not np.all(np.isfinite(array)):
            continue
        if not np.any(np.abs(array - truth) > bound):
            continue
        if any(np.allclose(array, other, rtol=0.0, atol=1e-9) for other in kept.values()):
            continue
        kept[description] = float(array) if array.ndim == 0 else (array + 0.0).tolist()
    return kept


# -- text -------------------------------------------------------------------------------


# Texts fmt made already, by number of figures, then by number: an exercise shows each
# number several times (an input in the question, again in the solution and the steps),
# and by hand most numbers are the same few multiples of 0.5.
_FORMATTED: dict[int, dict[float, str]] = {}
_FORMATTED_MAX = 4096


def fmt(x: float, digits: int = 4) -> str:
    """A number for display: integers plainly, others to `digits` significant figures."""
    texts = _FORMATTED.get(digits)
    if texts is None:
        texts = _FORMATTED[digits] = {}
    if type(x) is not float:
        x = float(x)
    text = texts.get(x)
    if text is None:
        if len(texts) >= _FORMATTED_MAX:
            texts.clear()
        text = texts[x] = _number_text(x, digits)
    return text


def _number_text(x: float, digits: int) -> str:
    if x == 0.0:
        return "0"  # also turns −0.0 into 0
    if math.isinf(x):  # a masked attention score
        return "−∞" if x < 0 else "∞"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if abs(x) < 1e-4 or abs(x) >= 1e6:
        return f"{x:.{digits - 1}e}"
    # Python's repr is the shortest text that reads back as x; with no more than `digits`
    # significant figures it is what NumPy would print, at a tenth of the cost (generated
    # numbers are mostly short: 0.5, -1.25).
    text = repr(x)
    if len(text.lstrip("-").replace(".", "").lstrip("0")) <= digits:
        return text
    # Longer: rounded to `digits` figures. Python's %g rounds the exact value half to
    # even, as NumPy's Dragon4 does, and drops trailing zeros as trim="-" does, at a third
    # of the cost; it writes an exponent from 10**digits up, which NumPy does not.
    text = f"{x:.{digits}g}"
    if "e" not in text:
        return text
    return np.format_float_positional(x, precision=digits, unique=True, fractional=False, trim="-")


def fmt_array(value: Any, digits: int = 4) -> str:
    """A scalar, vector or matrix for display: 1.5, [1, -0.5], [[1, 2], [3, 4]]."""
    if type(value) is np.ndarray and value.dtype == np.float64:
        array = value  # no conversion to make (the usual case: a node's value)
    else:
        array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return fmt(float(array), digits)
    return _fmt_nested(array.tolist(), digits)


def _fmt_nested(items: list[Any], digits: int) -> str:
    # An array's tolist() nests evenly: when one item is a list, every item is.
    if items and isinstance(items[0], list):
        return "[" + ", ".join([_fmt_nested(item, digits) for item in items]) + "]"
    known = _FORMATTED.get(digits) or {}  # fmt's texts, read without a call for each number
    return "[" + ", ".join([known.get(x) or fmt(x, digits) for x in items]) + "]"


def fmt_count(n: int) -> str:
    """An integer count for display, its thousands separated: 131,072."""
    return f"{int(n):,}"


def fmt_sci(x: float, digits: int = 6) -> str:
    """A large or small number in the e-notation `drill` reads back: 1.2e21, 7e9, 0.5."""
    text = f"{float(x):.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 input channel", "3 input channels"."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


HINT_DIGITS = 5  # significant figures of a given value; the 1% tolerance absorbs the rest
HINT_ARGUMENT_DIGITS = 6  # an argument is shown exactly when it lies on a grid


def useful_values(values: Sequence[tuple[str, float]], digits: int = HINT_DIGITS) -> str:
    """ "Useful value: e^(0.5) ≈ 1.6487." or "Useful values: a ≈ 1, b ≈ 2.", or "".

    A `hand` question lists the values a person would need a calculator for (tanh,
    exponentials, logarithms, powers, roots), rounded for display only.
    """
    if not values:
        return ""
    heading = "Useful value" if len(values) == 1 else "Useful values"
    listed = ", ".join(f"{label} ≈ {fmt(value, digits)}" for label, value in values)
    return f"{heading}: {listed}."


def tabulate(
    template: str, function: Callable[[float], Any], arguments: Any
) -> list[tuple[str, float]]:
    """(label, function(a)) for each distinct argument a, smallest first, for useful_values.

    `template` places the argument in the label: "e^({})" gives "e^(0.5)".
    """
    distinct = sorted({float(a) for a in np.ravel(arguments)})
    return [(template.format(fmt(a, HINT_ARGUMENT_DIGITS)), float(function(a))) for a in distinct]


# How a hint names the value of each activation that needs a table; the others are
# piecewise linear and need none.
_HINT_SYMBOLS = {"sigmoid": "σ", "tanh": "tanh"}
# By hand, σ and tanh inputs stay within ±3: further out f(z) is so close to 0 or ±1 that
# f′(z) or σ(z) − y, worked from f(z) as the question rounds it, would be off by over 1%.
HAND_SQUASH_LIMIT = 3.0


def unsaturated(name: str, arguments: Any) -> bool:
    """False when activation `name` is σ or tanh and an argument is beyond HAND_SQUASH_LIMIT."""
    return name not in _HINT_SYMBOLS or bool((np.abs(arguments) <= HAND_SQUASH_LIMIT).all())


def activation_values(name: str, arguments: Any) -> list[tuple[str, float]]:
    """σ(v) or tanh(v) at each distinct argument, from the engine, for useful_values."""
    if name not in _HINT_SYMBOLS:
        return []
    f = activation_function(name)
    return tabulate(_HINT_SYMBOLS[name] + "({})", lambda v: f(v).item(), arguments)


def format_index(index: Sequence[int]) -> str:
    """ "[0, 1]" for an element, "" for a scalar."""
    return f"[{', '.join(str(i) for i in index)}]" if len(index) else ""


def asked_derivative(wrt: str, index: Sequence[int]) -> dict[str, Any]:
    return {"wrt": wrt, "index": [int(i) for i in index]}


def input_lines(inputs: Mapping[str, Any]) -> list[str]:
    """One "name = value" line per input, in the given order."""
    return [f"  {name} = {fmt_array(value)}" for name, value in inputs.items()]


def json_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as plain JSON values: floats and nested lists of floats."""
    return {name: np.asarray(value, dtype=np.float64).tolist() for name, value in inputs.items()}


# -- the worked solution ---------------------------------------------------------------


def forward_lines(entries: Sequence[TraceEntry]) -> list[str]:
    """ "name = formula = value" for each computed node, in the order it was computed."""
    lines = ["Forward pass:"]
    for entry in entries:
        if entry.is_leaf:
            continue
        formula = f" = {entry.forward}" if entry.forward else ""
        lines.append(f"  {entry.name}{formula} = {fmt_array(entry.value)}")
    return lines


def backward_lines(
    entries: Sequence[TraceEntry],
    wrt: str,
    on_path: set[str],
    notes: Mapping[str, str] | None = None,
) -> list[str]:
    """∂root/∂node for the computed nodes in `on_path`, last first, then for `wrt`.

    `notes` adds a line under a node's gradient, e.g. the value of a local derivative.
    """
    notes = notes or {}
    root = entries[-1].name
    lines = [f"Backward pass (∂{root}/∂{root} = 1):"]
    computed = [e for e in entries[:-1] if not e.is_leaf and e.name in on_path]
    asked = [e for e in entries if e.name == wrt]
    for entry in [*reversed(computed), *asked]:
        rule = f" = {entry.backward}" if entry.backward else ""
        lines.append(f"  ∂{root}/∂{entry.name}{rule} = {fmt_array(entry.grad)}")
        if entry.name in notes:
            lines.append(f"    {notes[entry.name]}")
    return lines


def names_between(root: Tensor, wrt: str) -> set[str]:
    """Names of the nodes through which the input named `wrt` reaches `root`."""
    return _names_reached(topological_order(root), wrt)


def _names_reached(order: Sequence[Tensor], wrt: str) -> set[str]:
    """The names in `order` (a topological order) of the nodes the input `wrt` reaches."""
    reached: set[Tensor] = set()  # a Tensor hashes by identity
    names: set[str] = set()
    for node in order:
        if node.name == wrt or not reached.isdisjoint(node.parents):
            reached.add(node)
            if node.name:
                names.add(node.name)
    return names


@dataclass(frozen=True)
class Walk:
    """A graph read once after its backward pass: its trace, and the names of the nodes
    between the input `wrt` and the root. The worked solution and the steps both read
    it, so a generator that needs both walks its graph once, not four times."""

    root: str | None
    wrt: str
    entries: list[TraceEntry]
    on_path: set[str]

    def entry(self, name: str) -> TraceEntry:
        """The trace entry of the node called `name` (a KeyError names a missing one)."""
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)


def walk(root: Tensor, wrt: str) -> Walk:
    """`root`'s graph, read once: call after root.backward()."""
    order = topological_order(root)
    entries = trace(root, order, copies=False)  # read at once, while the graph is as it is
    return Walk(root.name, wrt, entries, _names_reached(order, wrt))


def worked_solution(
    root: Tensor,
    wrt: str,
    index: Sequence[int],
    answer: float,
    notes: Mapping[str, str] | None = None,
) -> list[str]:
    """Forward values, then the local gradient at each node between `root` and the input
    `wrt` in reverse topological order, then the answer. Call after root.backward()."""
    return solution_from(walk(root, wrt), index, answer, notes)


def solution_from(
    walked: Walk, index: Sequence[int], answer: float, notes: Mapping[str, str] | None = None
) -> list[str]:
    """worked_solution, read off a graph walked already."""
    entries = walked.entries
    return [
        *forward_lines(entries),
        *backward_lines(entries, walked.wrt, walked.on_path, notes),
        f"So ∂{walked.root}/∂{walked.wrt}{format_index(index)} = {fmt(answer, 6)}.",
    ]


def value_solution(root: Tensor, answer: float) -> list[str]:
    """The solution when the asked number is the root's own value (e.g. the loss)."""
    return [*forward_lines(trace(root)), f"So {root.name} = {fmt(answer, 6)}."]


def guided_steps(
    root: Tensor,
    wrt: str,
    index: Sequence[int],
    answer: float,
    skip: Iterable[str] = (),
) -> tuple[Step, ...]:
    """The steps of a guided exercise, read off the trace as worked_solution reads it:
    each computed value in forward order (the root's own value left out: the gradient
    does not need it), then ∂root/∂node back along the path to `wrt`, then the asked
    entry. `skip` leaves out nodes whose value the question already gives. Call after
    root.backward()."""
    if not extras_wanted():
        return ()
    return steps_from(walk(root, wrt), index, answer, skip)


def steps_from(
    walked: Walk, index: Sequence[int], answer: float, skip: Iterable[str] = ()
) -> tuple[Step, ...]:
    """guided_steps, read off a graph walked already."""
    if not extras_wanted():
        return ()
    skipped = set(skip)
    entries, root = walked.entries, walked.root
    computed = [e for e in entries[:-1] if not e.is_leaf and e.name not in skipped]
    steps = [Step(e.name, plain_value(e.value), e.forward or "") for e in computed]
    for entry in reversed(computed):
        if entry.name in walked.on_path:
            grad = plain_value(entry.grad)
            steps.append(Step(f"∂{root}/∂{entry.name}", grad, entry.backward or ""))
    asked = walked.entry(walked.wrt)
    name = f"∂{root}/∂{walked.wrt}{format_index(index)}"
    return (*steps, Step(name, float(answer), asked.backward or ""))


def plain_value(value: Any) -> Any:
    """A number or a nested list of numbers, as the JSON contract writes values."""
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array.tolist()
