"""chain-rule-graph, linear-classifier, vanishing-gradient and batchnorm-backward.

Each answer is derived again from the exercise's JSON alone, with autograd or a closed
form written here, never with drill's engine. For chain-rule-graph the graph itself is
read back from the lines the question states, so the text is checked along with the number.
"""

from __future__ import annotations

import json
import math
import re

import autograd.numpy as anp
import numpy as np
import pytest
from generator_support import arrays, autograd_derivative, exercises_for
from typer.testing import CliRunner

from drill.cli import app
from drill.exercises import Difficulty, Exercise, make
from drill.exercises.common import fmt
from drill.exercises.registry import BadParams

GENERATORS = ["chain-rule-graph", "linear-classifier", "vanishing-gradient", "batchnorm-backward"]
SEEDS = range(100)
DIFFICULTIES = [Difficulty.HAND, Difficulty.CALC]


def exercises(name: str, difficulty: Difficulty) -> tuple[Exercise, ...]:
    return exercises_for(name, difficulty, SEEDS)


# -- chain-rule-graph: the graph as the question states it ----------------------------------


def graph_steps(lines, frozen=None):
    """(node, Python expression) for each stated line; `frozen` = (node, name, value)
    replaces `name` by the constant `value` in that node's line (one path cut off)."""
    steps = []
    for line in lines:
        node, expression = (part.strip() for part in line.split("=", 1))
        expression = expression.replace("·", "*").replace("²", "**2").replace("−", "-")
        expression = re.sub(r"e\^(\w+)", r"anp.exp(\1)", expression)
        if frozen and frozen[0] == node:
            expression = re.sub(rf"\b{frozen[1]}\b", f"({frozen[2]!r})", expression)
        steps.append((node, expression))
    return steps


def run_graph(steps, values):
    env = dict(values)
    for node, expression in steps:
        env[node] = eval(expression, {"__builtins__": {}, "anp": anp}, env)
    return env


def graph_loss(p, spec, frozen=None):
    return run_graph(graph_steps(spec["graph"], frozen), p)["L"]


def single_path(exercise, kept, dropped):
    """∂L/∂input with the fan-out node held constant inside `dropped`: only `kept` counts."""
    p = arrays(exercise.inputs)
    fan = exercise.spec["fan_out"]
    value = float(run_graph(graph_steps(exercise.spec["graph"]), p)[fan])
    return autograd_derivative(lambda q, spec: graph_loss(q, spec, (dropped, fan, value)), exercise)


# -- the other three ---------------------------------------------------------------------


def linear_loss(p, spec):
    if spec["model"] == "logistic":
        s = 1.0 / (1.0 + anp.exp(-(anp.dot(p["w"], p["x"]) + p["b"])))
        return -(p["y"] * anp.log(s) + (1.0 - p["y"]) * anp.log(1.0 - s))
    z = anp.dot(p["W"], p["x"]) + p["b"]
    log_p = z - anp.max(z) - anp.log(anp.sum(anp.exp(z - anp.max(z))))
    return -anp.sum(p["y"] * log_p)


def chain_output(p, spec):
    sigmoid = lambda v: 1.0 / (1.0 + anp.exp(-v))  # noqa: E731
    f = sigmoid if spec["activation"] == "sigmoid" else anp.tanh
    h = p["h0"]
    for i in range(spec["layers"]):
        h = f(p["w"][i] * h + p["b"][i])
    return h if spec["of"] != "L" else 0.5 * (h - p["y"]) ** 2


def batchnorm_loss(p, spec):
    x = p["x"]
    centred = x - anp.mean(x)
    y = p["gamma"] * centred / anp.sqrt(anp.mean(centred**2) + spec["eps"]) + p["beta"]
    if spec["loss"] == "linear":
        return anp.sum(p["c"] * y)
    return 0.5 * anp.sum((y - p["t"]) ** 2)


LOSSES = {
    "chain-rule-graph": graph_loss,
    "linear-classifier": linear_loss,
    "vanishing-gradient": chain_output,
    "batchnorm-backward": batchnorm_loss,
}


# -- every generator, many seeds ---------------------------------------------------------


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_answers_match_autograd(name, difficulty):
    for exercise in exercises(name, difficulty):
        expected = autograd_derivative(LOSSES[name], exercise)
        assert exercise.answer == pytest.approx(expected, rel=1e-9, abs=1e-12), exercise.seed


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_json_round_trip(name, difficulty):
    for exercise in exercises(name, difficulty):
        text = exercise.to_json()
        again = Exercise.from_dict(json.loads(text))
        assert again.to_dict() == exercise.to_dict()
        assert again.to_json() == text
        assert isinstance(exercise.answer, float)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_gives_identical_json(name, difficulty):
    for seed, exercise in zip(SEEDS[:30], exercises(name, difficulty), strict=False):
        assert make(name, seed, difficulty=difficulty).to_json() == exercise.to_json()
    assert len({e.to_json() for e in exercises(name, difficulty)}) > len(SEEDS) * 0.9


@pytest.mark.parametrize("name", GENERATORS)
def test_hand_inputs_lie_on_the_half_grid(name):
    for exercise in exercises(name, Difficulty.HAND):
        for value in arrays(exercise.inputs).values():
            assert np.all(value * 2 == np.round(value * 2)), exercise.seed


@pytest.mark.parametrize("name", GENERATORS)
def test_calc_inputs_have_two_decimals(name):
    for exercise in exercises(name, Difficulty.CALC):
        for value in arrays(exercise.inputs).values():
            assert np.all(np.round(value, 2) == value), exercise.seed


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_text_asks_one_number_and_the_solution_ends_on_it(name, difficulty):
    for exercise in exercises(name, difficulty):
        assert exercise.question.splitlines()[-1].startswith("Compute ∂")
        assert exercise.solution[0] == "Forward pass:"
        last = exercise.solution[-1]
        assert last.startswith("So ∂") and last.endswith(f"= {fmt(exercise.answer, 6)}.")
        assert abs(exercise.answer) >= 0.01 or name == "vanishing-gradient"
        assert "sign flipped" in exercise.slips
        for slip in exercise.slips.values():
            assert not math.isclose(slip, exercise.answer, abs_tol=1e-9)


# -- chain-rule-graph -----------------------------------------------------------------------


def test_chain_rule_solution_sums_both_paths_at_the_fan_out_node():
    for difficulty in DIFFICULTIES:
        for exercise in exercises("chain-rule-graph", difficulty):
            fan = exercise.spec["fan_out"]
            notes = [line for line in exercise.solution if "sums two paths" in line]
            assert len(notes) == 1 and notes[0].strip().startswith(f"{fan} feeds both")
            # The note's total is ∂L/∂(fan-out node), printed on the line above it.
            above = exercise.solution[exercise.solution.index(notes[0]) - 1]
            assert above.strip().startswith(f"∂L/∂{fan} =")
            assert notes[0].endswith("total " + above.rsplit("= ", 1)[1])


def test_chain_rule_slips_keep_exactly_one_path():
    for exercise in exercises("chain-rule-graph", Difficulty.CALC)[:40]:
        paths = [s for s in exercise.slips if s.startswith("only the path")]
        assert paths, exercise.seed
        for description in paths:
            kept, dropped = re.match(
                r"only the path through (\w+) \(the one through (\w+)", description
            ).groups()
            expected = single_path(exercise, kept, dropped)
            assert exercise.slips[description] == pytest.approx(expected, rel=1e-9)


def test_chain_rule_asks_an_input_upstream_of_the_fan_out_node():
    for exercise in exercises("chain-rule-graph", Difficulty.CALC):
        wrt, fan = exercise.asked["wrt"], exercise.spec["fan_out"]
        assert exercise.asked["index"] == []
        assert wrt == fan or any(
            line.startswith(f"{fan} =") and re.search(rf"\b{wrt}\b", line)
            for line in exercise.spec["graph"]
        )


def test_every_template_is_drawn_and_hand_ones_avoid_exp_and_division():
    hand = {e.spec["template"] for e in exercises("chain-rule-graph", Difficulty.HAND)}
    calc = {e.spec["template"] for e in exercises("chain-rule-graph", Difficulty.CALC)}
    assert hand == {"product", "square-sum", "shared-input"}
    assert calc == hand | {"exponential", "quotient"}


@pytest.mark.parametrize(
    "template", ["product", "square-sum", "shared-input", "exponential", "quotient"]
)
def test_pinned_template_by_hand_is_honoured(template):
    for seed in range(10):
        exercise = make("chain-rule-graph", seed, {"template": template}, "hand")
        assert exercise.spec["template"] == template
        assert exercise.answer == pytest.approx(autograd_derivative(graph_loss, exercise), rel=1e-9)
        if template == "exponential":
            assert "Useful value: e^(" in exercise.question


# -- linear-classifier ----------------------------------------------------------------------


def test_linear_classifier_matches_the_closed_form_and_names_the_slips():
    for difficulty in DIFFICULTIES:
        for exercise in exercises("linear-classifier", difficulty):
            p = arrays(exercise.inputs)
            if exercise.spec["model"] == "softmax":
                i, j = exercise.asked["index"]
                z = p["W"] @ p["x"] + p["b"]
                prob = np.exp(z - z.max())[i] / np.exp(z - z.max()).sum()
                error = prob - p["y"][i]
            else:
                (j,) = exercise.asked["index"]
                prob = 1.0 / (1.0 + math.exp(-(p["w"] @ p["x"] + p["b"])))
                error = prob - p["y"]
            assert exercise.answer == pytest.approx(error * p["x"][j], rel=1e-9)
            forgot_x = exercise.slips.get(f"the factor x[{j}] forgotten")
            assert forgot_x is None or forgot_x == pytest.approx(error, rel=1e-9)


def test_linear_classifier_models_and_hints():
    for difficulty in DIFFICULTIES:
        models = {e.spec["model"] for e in exercises("linear-classifier", difficulty)}
        assert models == {"softmax", "logistic"}
    hand = exercises("linear-classifier", Difficulty.HAND)
    assert sum("Useful value" in e.question for e in hand) > 90
    for exercise in hand:
        if exercise.spec["model"] == "logistic" and "Useful" in exercise.question:
            assert "Useful value: e^(" in exercise.question  # one value: singular
    for exercise in exercises("linear-classifier", Difficulty.CALC):
        assert "Useful" not in exercise.question


def test_linear_classifier_pins_and_refusals():
    exercise = make("linear-classifier", 3, {"model": "softmax", "classes": 5, "features": 4})
    assert np.shape(exercise.inputs["W"]) == (5, 4)
    assert exercise.asked["wrt"] == "W"
    logistic = make("linear-classifier", 3, {"model": "logistic"}, "calc")
    assert logistic.spec["loss"] == "bce" and logistic.asked["wrt"] == "w"
    with pytest.raises(BadParams):
        make("linear-classifier", 0, {"model": "logistic", "classes": 3})


# -- vanishing-gradient ---------------------------------------------------------------------


def test_sigmoid_chains_shrink_by_at_least_a_quarter_per_layer():
    for difficulty in DIFFICULTIES:
        for exercise in exercises("vanishing-gradient", difficulty):
            if exercise.spec["activation"] == "sigmoid" and exercise.asked["wrt"] == "h0":
                w = arrays(exercise.inputs)["w"]
                assert abs(exercise.answer) <= np.prod(np.abs(w)) / 4 ** len(w)


def test_vanishing_hand_gives_the_forward_pass_to_six_figures():
    for exercise in exercises("vanishing-gradient", Difficulty.HAND):
        p = arrays(exercise.inputs)
        h = float(p["h0"])
        f = (
            (lambda v: 1 / (1 + math.exp(-v)))
            if exercise.spec["activation"] == "sigmoid"
            else math.tanh
        )
        for i in range(exercise.spec["layers"]):
            h = f(p["w"][i] * h + p["b"][i])
            assert f"h{i + 1} ≈ {fmt(h, 6)}" in exercise.question
    for exercise in exercises("vanishing-gradient", Difficulty.CALC):
        assert "done for you" not in exercise.question


def test_vanishing_asks_what_it_says_and_grades_small_answers_relatively():
    for exercise in exercises("vanishing-gradient", Difficulty.CALC):
        k = exercise.spec["layers"]
        if exercise.asked == {"wrt": "h0", "index": []}:
            assert exercise.question.splitlines()[-1].startswith(f"Compute ∂h{k}/∂h0")
        else:
            assert exercise.asked == {"wrt": "w", "index": [0]}
            assert exercise.question.splitlines()[-1].startswith("Compute ∂L/∂w1")
        assert exercise.tolerance.abs < 1e-6
    activations = {e.spec["activation"] for e in exercises("vanishing-gradient", "calc")}
    assert activations == {"sigmoid", "tanh"}


def test_vanishing_slip_without_the_activation_factors():
    exercise = make("vanishing-gradient", 4, {"asked": "h0", "layers": 5}, "calc")
    w = arrays(exercise.inputs)["w"]
    symbol = "σ" if exercise.spec["activation"] == "sigmoid" else "tanh"
    assert exercise.slips[f"the {symbol}′ factors left out"] == pytest.approx(np.prod(w))


# -- batchnorm-backward ---------------------------------------------------------------------


def test_batchnorm_by_hand_has_an_exact_sigma_and_no_epsilon():
    for exercise in exercises("batchnorm-backward", Difficulty.HAND):
        sigma = math.sqrt(np.var(exercise.inputs["x"]))
        assert sigma > 0 and sigma * 2 == round(sigma * 2)
        assert exercise.spec["eps"] == 0.0 and "ε = 0" in exercise.question
        assert "biased variance" in exercise.question
    for exercise in exercises("batchnorm-backward", Difficulty.CALC):
        assert exercise.spec["eps"] == 1e-5 and "ε = 10⁻⁵" in exercise.question


def test_batchnorm_slip_that_treats_the_statistics_as_constants():
    seen = 0
    for exercise in exercises("batchnorm-backward", Difficulty.CALC):
        if exercise.asked["wrt"] != "x":
            continue
        p = arrays(exercise.inputs)
        (j,) = exercise.asked["index"]
        x, gamma, beta = p["x"], p["gamma"], p["beta"]
        s = math.sqrt(x.var() + exercise.spec["eps"])
        y = gamma * (x - x.mean()) / s + beta
        upstream = p["c"] if exercise.spec["loss"] == "linear" else y - p["t"]
        slip = exercise.slips.get("μ and σ² treated as constants")
        if slip is not None:
            assert slip == pytest.approx(gamma * upstream[j] / s, rel=1e-9)
            seen += 1
        # The gradient of a batch-normalized loss sums to zero over the batch.
        assert "through μ" in "\n".join(exercise.solution)
    assert seen > 20


def test_batchnorm_every_target_and_the_refused_hand_batch():
    asked = {e.asked["wrt"] for e in exercises("batchnorm-backward", Difficulty.HAND)}
    assert asked == {"x", "gamma", "beta"}
    losses = {e.spec["loss"] for e in exercises("batchnorm-backward", Difficulty.CALC)}
    assert losses == {"linear", "squared"}
    pinned = make("batchnorm-backward", 2, {"batch": 6, "wrt": "gamma", "loss": "linear"}, "hand")
    assert len(pinned.inputs["x"]) == 6 and pinned.asked == {"wrt": "gamma", "index": []}
    with pytest.raises(BadParams):
        make("batchnorm-backward", 0, {"batch": 3}, "hand")


# -- through the CLI ----------------------------------------------------------------------


def test_drill_gen_serves_the_four_generators():
    result = CliRunner().invoke(app, ["gen", *GENERATORS, "-n", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["generator"] for r in records] == [g for g in GENERATORS for _ in range(2)]
    for record in records:
        again = make(record["generator"], record["seed"], difficulty=record["difficulty"])
        assert again.to_dict() == record
