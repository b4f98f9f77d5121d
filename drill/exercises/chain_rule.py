"""chain-rule-graph: ∂L/∂(an input) in a small scalar graph where one node feeds two others.

The lesson is accumulation: a node used twice receives one gradient contribution per
use, and they add. Each template is a handful of scalar operations built from engine
ops on 0-d tensors; the asked input always reaches L through the fan-out node, so
forgetting one of its two paths gives a wrong answer (the slip this generator names).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor, topological_order
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    SMALLEST_ANSWER,
    GradientCheckFailed,
    asked_derivative,
    check_derivative,
    choose,
    distinct_slips,
    draws,
    fmt,
    guided_steps,
    input_lines,
    json_inputs,
    named_nodes,
    pick,
    tabulate,
    useful_values,
    worked_solution,
)
from drill.exercises.screening import resample_keeping

INPUTS = ("x", "y", "z")
SMALLEST_DIVISOR = 0.5  # a quotient's denominator is kept at least this far from 0


@dataclass(frozen=True)
class Template:
    """One graph shape: how to build it, how the question states it, what may be asked."""

    name: str
    lines: tuple[str, ...]  # the graph as the question states it, node by node
    fan_out: str  # the node that feeds two others
    children: tuple[str, str]  # the two nodes it feeds
    asked: tuple[str, ...]  # inputs whose every path to L crosses the fan-out node
    build: Callable[[dict[str, Tensor]], Tensor]
    # L from plain numbers, for the central-difference check: no engine code shared.
    value: Callable[[float, float, float], float]
    divisor: str | None = None  # a node that divides, kept clear of 0
    uses_exp: bool = False


def _product(v: dict[str, Tensor]) -> Tensor:
    v["x"].backward_note = "∂L/∂a · y"
    v["y"].backward_note = "∂L/∂a · x"
    a = (v["x"] * v["y"]).named("a", "x·y", "∂L/∂b · 1 + ∂L/∂c · 2a")
    b = (a + v["z"]).named("b", "a + z", "c")
    c = (a**2).named("c", "a²", "b")
    return (b * c).named("L", "b·c")


def _square_sum(v: dict[str, Tensor]) -> Tensor:
    v["x"].backward_note = "∂L/∂a · 1"
    v["y"].backward_note = "∂L/∂a · (−1)"
    a = (v["x"] - v["y"]).named("a", "x − y", "∂L/∂b · z + ∂L/∂c · 2a")
    b = (v["z"] * a).named("b", "z·a")
    c = (a**2).named("c", "a²")
    return (b + c).named("L", "b + c")


def _shared_input(v: dict[str, Tensor]) -> Tensor:
    v["x"].backward_note = "∂L/∂a · y + ∂L/∂b · 1"
    a = (v["x"] * v["y"]).named("a", "x·y", "c")
    b = (v["x"] + v["z"]).named("b", "x + z", "∂L/∂c · 2b")
    c = (b**2).named("c", "b²", "a")
    return (a * c).named("L", "a·c")


def _exponential(v: dict[str, Tensor]) -> Tensor:
    v["x"].backward_note = "∂L/∂a · y"
    v["y"].backward_note = "∂L/∂a · x"
    a = (v["x"] * v["y"]).named("a", "x·y", "∂L/∂b · e^a + ∂L/∂c · 1")
    b = engine.exp(a).named("b", "e^a", "c")
    c = (a + v["z"]).named("c", "a + z", "b")
    return (b * c).named("L", "b·c")


def _quotient(v: dict[str, Tensor]) -> Tensor:
    v["x"].backward_note = "∂L/∂a · 1"
    v["y"].backward_note = "∂L/∂a · 1"
    a = (v["x"] + v["y"]).named("a", "x + y", "∂L/∂b · 2a + ∂L/∂c · 1")
    b = (a**2).named("b", "a²", "1 / c")
    c = (a + v["z"]).named("c", "a + z", "−b / c²")
    return (b / c).named("L", "b / c")


TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "product", ("a = x·y", "b = a + z", "c = a²", "L = b·c"), "a", ("b", "c"),
            ("x", "y"), _product, lambda x, y, z: (x * y + z) * (x * y) ** 2,
        ),
        Template(
            "square-sum", ("a = x − y", "b = z·a", "c = a²", "L = b + c"), "a", ("b", "c"),
            ("x", "y"), _square_sum, lambda x, y, z: z * (x - y) + (x - y) ** 2,
        ),
        Template(
            "shared-input", ("a = x·y", "b = x + z", "c = b²", "L = a·c"), "x", ("a", "b"),
            ("x",), _shared_input, lambda x, y, z: x * y * (x + z) ** 2,
        ),
        Template(
            "exponential", ("a = x·y", "b = e^a", "c = a + z", "L = b·c"), "a", ("b", "c"),
            ("x", "y"), _exponential, lambda x, y, z: math.exp(x * y) * (x * y + z),
            uses_exp=True,
        ),
        Template(
            "quotient", ("a = x + y", "b = a²", "c = a + z", "L = b / c"), "a", ("b", "c"),
            ("x", "y"), _quotient, lambda x, y, z: (x + y) ** 2 / (x + y + z), divisor="c",
        ),
    )
}  # fmt: skip
# By hand, the graphs without e^a or a division; calculator exercises use every shape.
HAND_TEMPLATES = ("product", "square-sum", "shared-input")

PARAMS: dict[str, tuple[Any, ...]] = {"template": tuple(TEMPLATES)}


@dataclass(frozen=True)
class Path:
    """One of the two ways from the fan-out node to L, with the engine's numbers."""

    child: str
    upstream: float  # ∂L/∂child
    local: float  # ∂child/∂(fan-out node)
    to_input: float  # ∂child/∂(asked input), for the slip that keeps only this path

    @property
    def contribution(self) -> float:
        return self.upstream * self.local


def _build(values: dict[str, Any], template: Template) -> Tensor:
    return template.build({name: Tensor(values[name], name=name) for name in INPUTS})


def _loss_value(values: dict[str, Any], template: Template) -> float:
    """L from the inputs as plain floats, for the central-difference check."""
    return template.value(*(float(values[name]) for name in INPUTS))


def _paths(loss: Tensor, template: Template, wrt: str) -> list[Path]:
    """Each child's share of the fan-out node's gradient, from separate backward sweeps.

    Leaves every gradient as a plain backward pass of `loss` would, for the trace: the
    children's own passes give the nodes below them new gradient arrays, and each node
    then gets back the one the pass of `loss` left it.
    """
    loss.backward()
    nodes = named_nodes(loss)
    left = [(node, node.grad) for node in topological_order(loss)]
    upstream = {child: float(nodes[child].grad) for child in template.children}
    paths = []
    for child in template.children:
        nodes[child].backward()  # now fan-out.grad = ∂child/∂fan-out, and so on
        local, to_input = float(nodes[template.fan_out].grad), float(nodes[wrt].grad)
        paths.append(Path(child, upstream[child], local, to_input))
    for node, grad in left:
        node.grad = grad
    total = float(nodes[template.fan_out].grad)
    if not np.isclose(sum(p.contribution for p in paths), total, rtol=1e-9, atol=1e-12):
        raise GradientCheckFailed(f"{template.name}: the two paths do not add up to ∂L/∂a")
    return paths


def _factor(x: float) -> str:
    """A number as a factor of a product: negatives in parentheses, "2·(-1.5)"."""
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def _fan_out_note(template: Template, paths: list[Path]) -> str:
    node = template.fan_out
    shares = "; ".join(
        f"via {p.child}: ∂L/∂{p.child}·∂{p.child}/∂{node} = "
        f"{_factor(p.upstream)}·{_factor(p.local)} = {fmt(p.contribution)}"
        for p in paths
    )
    total = fmt(sum(p.contribution for p in paths))
    children = " and ".join(template.children)
    return f"{node} feeds both {children}, so its gradient sums two paths: {shares}; total {total}"


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty) -> dict[str, np.ndarray]:
    scalar = ((), -2.0, 2.0, True)
    return dict(zip(INPUTS, draws(rng, difficulty, *[scalar] * len(INPUTS)), strict=True))


def _judge(
    values: dict[str, Any], template: Template, wrt: str
) -> tuple[bool, tuple[Tensor, list[Path]] | None]:
    """Whether a draw makes a good exercise, with its graph (after a plain backward pass)
    and its two paths, kept for the accepted draw."""
    # A draw may divide by 0 here; it is refused just below, so the warning is noise.
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = _build(values, template)
    if template.divisor and abs(named_nodes(loss)[template.divisor].item()) < SMALLEST_DIVISOR:
        return False, None
    # Both paths must count, or forgetting one would go unpunished.
    paths = _paths(loss, template, wrt)
    if abs(float(named_nodes(loss)[wrt].grad)) < SMALLEST_ANSWER:
        return False, None
    telling = all(abs(p.contribution) > 1e-9 and abs(p.to_input) > 1e-9 for p in paths)
    return telling, (loss, paths)


def _question(template: Template, values: dict[str, Any], wrt: str, hand: bool) -> str:
    lines = [
        "A computational graph on scalars, evaluated node by node:",
        *(f"  {line}" for line in template.lines),
    ]
    if template.uses_exp:
        lines.append("(e is Euler's number, e ≈ 2.71828.)")
    lines += ["Inputs:", *input_lines(values)]
    if hand and template.uses_exp:
        lines.append(useful_values(tabulate("e^({})", np.exp, values["x"] * values["y"])))
    lines.append(f"Compute ∂L/∂{wrt} by backpropagation through the graph.")
    return "\n".join(lines)


def _slips(paths: list[Path], answer: float) -> dict[str, float]:
    slips = {"sign flipped": -answer}
    for kept, dropped in (paths, paths[::-1]):
        slips[f"only the path through {kept.child} (the one through {dropped.child} forgotten)"] = (
            kept.upstream * kept.to_input
        )
    return distinct_slips(slips, answer)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    template = TEMPLATES[
        choose(rng, params, "template", HAND_TEMPLATES if hand else PARAMS["template"])
    ]
    wrt = pick(rng, template.asked)
    values, (loss, paths) = resample_keeping(
        rng, lambda r: _draw_inputs(r, difficulty), lambda v: _judge(v, template, wrt)
    )
    answer = float(named_nodes(loss)[wrt].grad)
    check_derivative(lambda v: _loss_value(v, template), values, wrt, (), answer)
    notes = {template.fan_out: _fan_out_note(template, paths)}
    return Exercise(
        generator="chain-rule-graph",
        seed=0,
        difficulty=difficulty,
        question=_question(template, values, wrt, hand),
        spec={
            "template": template.name,
            "graph": list(template.lines),
            "fan_out": template.fan_out,
        },
        inputs=json_inputs(values),
        asked=asked_derivative(wrt, ()),
        answer=answer,
        solution=worked_solution(loss, wrt, (), answer, notes),
        slips=_slips(paths, answer),
        steps=guided_steps(loss, wrt, (), answer),
    )
