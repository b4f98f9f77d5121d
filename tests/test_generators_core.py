"""The four contract generators, and the helpers they share.

Each answer is re-derived here from the exercise's JSON alone (inputs, spec, asked), with
autograd or a formula written out in this file, never with drill's engine: that both
checks the number and proves the JSON is enough for anyone to recheck it.
"""

from __future__ import annotations

import json
import math

import autograd.numpy as anp
import numpy as np
import pytest
from generator_support import arrays, autograd_derivative, exercises_for

from drill.engine import Tensor
from drill.exercises import Difficulty, Exercise, make
from drill.exercises.common import (
    GradientCheckFailed,
    NoAcceptableDraw,
    check_derivative,
    choose,
    clear_of_kinks,
    distinct_slips,
    draw,
    fmt,
    fmt_array,
    resample,
    worked_solution,
)
from drill.exercises.registry import BadParams

GENERATORS = ["mlp-backward", "single-neuron", "activation-derivative", "softmax-cross-entropy"]
SEEDS = range(200)
DIFFICULTIES = [Difficulty.HAND, Difficulty.CALC]


def exercises(name: str, difficulty: Difficulty) -> tuple[Exercise, ...]:
    return exercises_for(name, difficulty, SEEDS)


# -- independent references -----------------------------------------------------------


def ag_activation(name, spec):
    return {
        "identity": lambda a: a,
        "relu": lambda a: anp.maximum(a, 0.0),
        "leaky_relu": lambda a: anp.where(a > 0, a, spec.get("slope", 0.01) * a),
        "sigmoid": lambda a: 1.0 / (1.0 + anp.exp(-a)),
        "tanh": anp.tanh,
    }[name]


def ag_log_softmax(z):
    shifted = z - anp.max(z)
    return shifted - anp.log(anp.sum(anp.exp(shifted)))


def mlp_loss(p, spec):
    h = ag_activation(spec["activation"], spec)(anp.dot(p["W1"], p["x"]) + p["b1"])
    z2 = anp.dot(p["W2"], h) + p["b2"]
    if spec["loss"] == "mse":
        return anp.mean((z2 - p["y"]) ** 2)
    if spec["loss"] == "half_sse":
        return 0.5 * anp.sum((z2 - p["y"]) ** 2)
    return -anp.sum(p["y"] * ag_log_softmax(z2))


def neuron_loss(p, spec):
    z = anp.dot(p["w"], p["x"]) + p["b"]
    if spec["loss"] == "bce":
        s = 1.0 / (1.0 + anp.exp(-z))
        return -(p["y"] * anp.log(s) + (1.0 - p["y"]) * anp.log(1.0 - s))
    a = ag_activation(spec["activation"], spec)(z)
    return (a - p["y"]) ** 2 if spec["loss"] == "mse" else 0.5 * (a - p["y"]) ** 2


def activation_derivative_by_hand(name, x, slope):
    sigma = 1.0 / (1.0 + math.exp(-x))
    return {
        "relu": 1.0 if x > 0 else 0.0,
        "leaky_relu": 1.0 if x > 0 else slope,
        "sigmoid": sigma * (1.0 - sigma),
        "tanh": 1.0 - math.tanh(x) ** 2,
        "softplus": sigma,
        "gelu": 0.5 * (1 + math.erf(x / math.sqrt(2)))
        + x * math.exp(-(x**2) / 2) / math.sqrt(2 * math.pi),
    }[name]


def softmax_by_hand(z):
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


def expected_answer(exercise: Exercise) -> float:
    name, spec, inputs = exercise.generator, exercise.spec, exercise.inputs
    if name == "mlp-backward":
        return autograd_derivative(mlp_loss, exercise)
    if name == "single-neuron":
        return autograd_derivative(neuron_loss, exercise)
    if name == "activation-derivative":
        return activation_derivative_by_hand(spec["activation"], inputs["x"], spec.get("slope"))
    p = softmax_by_hand(inputs["z"])
    if exercise.asked == {"value": "loss"}:
        return -math.log(p[inputs["y"].index(1.0)])
    (i,) = exercise.asked["index"]
    return p[i] - inputs["y"][i]


# -- every generator, many seeds ----------------------------------------------------


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_answers_match_an_independent_derivation(name, difficulty):
    for exercise in exercises(name, difficulty):
        expected = expected_answer(exercise)
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
        assert set(exercise.to_dict()) == {
            "generator",
            "seed",
            "difficulty",
            "question",
            "spec",
            "inputs",
            "asked",
            "answer",
            "tolerance",
            "solution",
        }


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_gives_identical_json(name, difficulty):
    for seed, exercise in zip(SEEDS[:40], exercises(name, difficulty), strict=False):
        assert make(name, seed, difficulty=difficulty).to_json() == exercise.to_json()
    assert len({e.to_json() for e in exercises(name, difficulty)}) > len(SEEDS) // 2


@pytest.mark.parametrize("name", GENERATORS)
def test_hand_inputs_lie_on_the_half_grid(name):
    for exercise in exercises(name, Difficulty.HAND):
        for value in arrays(exercise.inputs).values():
            assert np.all(value * 2 == np.round(value * 2)), exercise.seed


@pytest.mark.parametrize("name", GENERATORS)
def test_calc_inputs_are_shown_exactly(name):
    for exercise in exercises(name, Difficulty.CALC):
        for input_name, value in exercise.inputs.items():
            assert np.all(np.round(np.asarray(value), 2) == np.asarray(value))
            if name != "activation-derivative":
                assert f"{input_name} = {fmt_array(value)}" in exercise.question


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_text_asks_one_number_and_the_solution_ends_on_it(name, difficulty):
    for exercise in exercises(name, difficulty):
        assert exercise.question.splitlines()[-1].startswith(("Compute", "Useful value"))
        assert "Compute" in exercise.question
        last = exercise.solution[-1]
        assert last.startswith("So ") and last.endswith(f"= {fmt(exercise.answer, 6)}.")
        assert exercise.solution[0] == "Forward pass:"
        for slip in exercise.slips.values():
            assert not math.isclose(slip, exercise.answer, abs_tol=1e-9)


def test_relu_networks_keep_clear_of_the_kink():
    for difficulty in DIFFICULTIES:
        for exercise in exercises("mlp-backward", difficulty):
            p = arrays(exercise.inputs)
            if exercise.spec["activation"] == "relu":
                assert np.all(np.abs(p["W1"] @ p["x"] + p["b1"]) > 0.25)
            assert exercise.answer != 0.0
        for exercise in exercises("single-neuron", difficulty):
            p = arrays(exercise.inputs)
            if exercise.spec["activation"] in ("relu", "leaky_relu"):
                assert abs(p["w"] @ p["x"] + p["b"]) > 0.25


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_answers_are_never_zero_up_to_rounding(activation):
    # With a softmax, p − y can cancel across two outputs and leave a gradient of 1e-17.
    for difficulty in DIFFICULTIES:
        for seed in range(60):
            params = {"activation": activation, "loss": "cross_entropy"}
            assert abs(make("mlp-backward", seed, params, difficulty).answer) >= 0.01, seed


def test_every_choice_is_drawn_over_the_seeds():
    seen = {(e.spec["activation"], e.spec["loss"]) for e in exercises("mlp-backward", "calc")}
    assert {a for a, _ in seen} == {"relu", "sigmoid", "tanh"}
    assert {loss for _, loss in seen} == {"mse", "half_sse", "cross_entropy"}
    activations = {e.spec["activation"] for e in exercises("activation-derivative", "hand")}
    assert activations == {"relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu"}
    asked = {e.asked.get("wrt") for e in exercises("single-neuron", "calc")}
    assert asked == {"w", "b", "x"}
    kinds = {json.dumps(e.asked) for e in exercises("softmax-cross-entropy", "hand")}
    assert '{"value": "loss"}' in kinds and len(kinds) > 2


# -- pinned params --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "key", "value"),
    [
        ("mlp-backward", {"activation": "tanh", "loss": "cross_entropy"}, "loss", "cross_entropy"),
        ("mlp-backward", {"activation": "sigmoid"}, "activation", "sigmoid"),
        ("single-neuron", {"loss": "bce"}, "activation", "sigmoid"),
        ("single-neuron", {"activation": "leaky_relu", "slope": 0.2}, "slope", 0.2),
        ("activation-derivative", {"activation": "gelu"}, "activation", "gelu"),
        ("softmax-cross-entropy", {"asked": "loss"}, "asked", "loss"),
    ],
)
def test_pinned_params_are_honoured(name, params, key, value):
    for seed in range(20):
        for difficulty in DIFFICULTIES:
            exercise = make(name, seed, params, difficulty)
            assert exercise.spec[key] == value
            assert exercise.answer == pytest.approx(expected_answer(exercise), rel=1e-9)


def test_pinned_sizes_and_target():
    exercise = make("mlp-backward", 1, {"inputs": 4, "hidden": 3, "outputs": 2, "wrt": "W2"})
    assert np.shape(exercise.inputs["W1"]) == (3, 4)
    assert np.shape(exercise.inputs["W2"]) == (2, 3)
    assert exercise.asked["wrt"] == "W2"
    assert len(make("softmax-cross-entropy", 1, {"classes": 6}).inputs["z"]) == 6
    assert make("single-neuron", 1, {"wrt": "b"}).asked == {"wrt": "b", "index": []}


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mlp-backward", {"loss": "cross_entropy", "outputs": 1}),
        ("single-neuron", {"loss": "bce", "activation": "relu"}),
        ("mlp-backward", {"activation": "gelu"}),
        ("single-neuron", {"depth": 3}),
    ],
)
def test_impossible_params_are_refused(name, params):
    with pytest.raises(BadParams):
        make(name, 0, params)


# -- slips, recomputed here -------------------------------------------------------------


def test_mlp_slips_match_their_description():
    for seed in range(30):
        exercise = make("mlp-backward", seed, {"loss": "mse", "outputs": 3}, "calc")
        assert exercise.slips["sign flipped"] == -exercise.answer
        # ∂L/∂z2 is linear in the scale of the loss, so a lost 1/n multiplies by n.
        missing = exercise.slips["1/n missing from the mean squared error"]
        assert missing == pytest.approx(3 * exercise.answer, rel=1e-9)


def test_relu_mask_slip_ignores_the_mask():
    for seed in range(30):
        exercise = make("mlp-backward", seed, {"activation": "relu", "wrt": "b1"}, "hand")
        p = arrays(exercise.inputs)
        z2 = p["W2"] @ np.maximum(p["W1"] @ p["x"] + p["b1"], 0) + p["b2"]
        n = len(z2) if exercise.spec["loss"] == "mse" else 2  # ∂L/∂z2 = (2/n)(z2 − y) or z2 − y
        # Without the mask, ∂L/∂b1 is ∂L/∂h1 = W2ᵀ ∂L/∂z2 on every unit, dead or not.
        unmasked = float((p["W2"].T @ ((2 / n) * (z2 - p["y"])))[exercise.asked["index"][0]])
        if "ReLU mask forgotten" in exercise.slips:
            assert exercise.slips["ReLU mask forgotten"] == pytest.approx(unmasked, rel=1e-9)
        else:
            assert unmasked == pytest.approx(exercise.answer, rel=1e-9)


def test_softmax_and_neuron_slips():
    for seed in range(30):
        grad_ex = make("softmax-cross-entropy", seed, {"asked": "gradient"}, "calc")
        (i,) = grad_ex.asked["index"]
        p = softmax_by_hand(grad_ex.inputs["z"])
        if grad_ex.inputs["y"][i] == 1.0:
            assert grad_ex.slips["y not subtracted from p"] == pytest.approx(p[i])
        neuron = make("single-neuron", seed, {"loss": "mse", "activation": "tanh"}, "calc")
        halved = neuron.slips["factor 2 of the square missing"]
        assert halved == pytest.approx(neuron.answer / 2, rel=1e-9)


# -- the shared helpers ---------------------------------------------------------------


def test_draw_hand_grid_and_calc_decimals():
    rng = np.random.default_rng(0)
    hand = draw(rng, Difficulty.HAND, (500,), -1.5, 1.5, nonzero=True)
    assert set(hand.tolist()) == {-1.5, -1.0, -0.5, 0.5, 1.0, 1.5}
    calc = draw(rng, Difficulty.CALC, (500,), -2.0, 2.0, nonzero=True)
    assert np.all(np.round(calc, 2) == calc) and np.all(calc != 0)
    assert np.all((calc >= -2.0) & (calc <= 2.0))


def test_choose_prefers_pinned_values():
    rng = np.random.default_rng(0)
    assert choose(rng, {"loss": "mse"}, "loss", ("bce",)) == "mse"
    assert choose(rng, {}, "loss", ("bce",)) == "bce"


def test_kinks_and_resampling():
    assert clear_of_kinks([np.array([0.3, -1.0])])
    assert not clear_of_kinks([np.array([0.3, -0.25])])
    rng = np.random.default_rng(1)
    assert resample(rng, lambda r: r.integers(10), lambda v: v == 7) == 7
    with pytest.raises(NoAcceptableDraw):
        resample(rng, lambda r: 0, lambda v: v == 1, tries=5)


def test_check_derivative_catches_a_wrong_answer():
    def f(v):
        return float(np.sum(v["x"] ** 3))

    inputs = {"x": np.array([1.0, 2.0])}
    check_derivative(f, inputs, "x", (1,), 12.0)
    with pytest.raises(GradientCheckFailed, match=r"∂/∂x\[1\]"):
        check_derivative(f, inputs, "x", (1,), 12.1)


def test_number_formatting():
    assert [fmt(v) for v in (0.5, -1.0, -0.0, 1 / 3, 2.5e-6)] == [
        "0.5",
        "-1",
        "0",
        "0.3333",
        "2.500e-06",
    ]
    assert fmt_array([[0.5, -1.0], [1.5, 0.0]]) == "[[0.5, -1], [1.5, 0]]"


def test_worked_solution_lists_only_the_path_to_the_asked_input():
    a = Tensor(2.0, name="a")
    b = Tensor(3.0, name="b")
    u = (a * 2.0).named("u", forward="2a", backward="∂L/∂v · 1")
    w = (b * b).named("w", forward="b²")
    v = (u + w).named("v", forward="u + w")
    loss = (v**2).named("L", forward="v²", backward=None)
    v.backward_note = "2v"
    loss.backward()
    lines = worked_solution(loss, "a", (), 52.0, notes={"u": "note"})
    assert lines == [
        "Forward pass:",
        "  u = 2a = 4",
        "  w = b² = 9",
        "  v = u + w = 13",
        "  L = v² = 169",
        "Backward pass (∂L/∂L = 1):",
        "  ∂L/∂v = 2v = 26",
        "  ∂L/∂u = ∂L/∂v · 1 = 26",
        "    note",
        "  ∂L/∂a = 52",
        "So ∂L/∂a = 52.",
    ]


def test_distinct_slips_drops_duplicates_and_the_answer():
    slips = distinct_slips({"same": 1.0, "other": 2.0, "again": 2.0 + 1e-12, "nan": math.nan}, 1.0)
    assert slips == {"other": 2.0}
