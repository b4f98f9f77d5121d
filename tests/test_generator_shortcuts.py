"""The shortcuts taken to make exercises faster give the same numbers and text as before:
hand draws from the same random stream (one call for many draws too), numbers formatted
as NumPy formats them, mlp-backward's NumPy network agreeing with the engine's, its
solution and steps read off one walk of the graph, and JSON written as json.dumps writes
it."""

from __future__ import annotations

import json
import math
from enum import StrEnum

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drill.exercises import mlp
from drill.exercises.base import Difficulty
from drill.exercises.common import (
    GRID,
    derivative_note,
    draw,
    draw_all,
    draws,
    fmt,
    guided_steps,
    named_nodes,
    pick,
    random_index,
    worked_solution,
)
from drill.exercises.registry import make
from drill.exercises.worksheet import build, indented_json, render_json


@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 3)])
@pytest.mark.parametrize("low, high, nonzero", [(-2.0, 2.0, True), (-1.0, 1.0, False)])
def test_hand_draws_are_what_rng_choice_drew(shape, low, high, nonzero):
    for seed in range(20):
        ours, reference = np.random.default_rng(seed), np.random.default_rng(seed)
        steps = np.arange(math.ceil(low / GRID), math.floor(high / GRID) + 1)
        if nonzero:
            steps = steps[steps != 0]
        expected = np.asarray(reference.choice(steps, size=shape), dtype=np.float64) * GRID
        drawn = draw(ours, Difficulty.HAND, shape, low, high, nonzero)
        assert np.array_equal(drawn, expected) and np.shape(drawn) == np.shape(expected)
        assert ours.bit_generator.state == reference.bit_generator.state


def _numpy_fmt(x: float, digits: int) -> str:
    return np.format_float_positional(x, precision=digits, unique=True, fractional=False, trim="-")


@settings(max_examples=800, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=1e-4, max_value=999_999, allow_nan=False),
        st.integers(-40_000, 40_000).map(lambda n: n / 100),
        st.integers(-4_000, 4_000).map(lambda n: n / 8),
    ),
    st.sampled_from([3, 4, 5, 6]),
)
def test_numbers_are_formatted_as_numpy_formats_them(x, digits):
    for value in (x, -x):
        if value.is_integer() or abs(value) < 1e-4 or abs(value) >= 1e6:
            continue
        assert fmt(value, digits) == _numpy_fmt(value, digits)


def test_numbers_halfway_between_two_texts_round_as_numpy_rounds_them():
    from drill.exercises.common import _number_text

    # n / 2**k is exact in binary, so many of these lie exactly halfway at the last shown
    # figure (1.0625 to 4 figures): both round half to even.
    for n in range(1, 3000):
        for power in (4, 6, 9, 12):
            value = n / 2**power
            if value.is_integer():
                continue
            for digits in (3, 4, 5, 6):
                assert _number_text(value, digits) == _numpy_fmt(value, digits), (value, digits)


@pytest.mark.parametrize("activation", mlp.ACTIVATIONS)
@pytest.mark.parametrize("loss", mlp.LOSSES)
@pytest.mark.parametrize("wrt", mlp.PARAMETERS)
def test_the_numpy_network_agrees_with_the_engine(activation, loss, wrt):
    rng = np.random.default_rng(7)
    for _ in range(3):
        params = {"activation": activation, "loss": loss, "wrt": wrt, "outputs": 2}
        setup = mlp._choose_setup(rng, Difficulty.CALC, params)
        inputs = mlp._draw_inputs(rng, Difficulty.CALC, setup)
        graph, answer = mlp._answer(inputs, setup)
        z1, h1, z2 = mlp._forward(inputs, setup)
        dz2 = mlp._loss_gradient(z2, inputs["y"], loss)
        assert mlp._pushed_back(inputs, setup, z1, h1, dz2) == pytest.approx(answer, abs=1e-12)
        assert mlp._numpy_loss(inputs, setup) == pytest.approx(graph.item(), abs=1e-12)


# -- one call to the generator for many draws ------------------------------------------

WANTED = [
    ("x", (2,), -2.0, 2.0, True),
    ("W", (3, 2), -1.5, 1.5, True),
    ("b", (3,), -1.0, 1.0, False),
    ("s", (), -1.0, 1.0, False),
    ("one", (1,), 0.0, 0.5, True),
]


@pytest.mark.parametrize("difficulty", list(Difficulty))
def test_draw_all_is_draw_after_draw_from_one_call(difficulty):
    for seed in range(40):
        ours, reference = np.random.default_rng(seed), np.random.default_rng(seed)
        drawn = draw_all(ours, difficulty, WANTED)
        assert list(drawn) == [name for name, *_ in WANTED]
        for name, shape, low, high, nonzero in WANTED:
            expected = draw(reference, difficulty, shape, low, high, nonzero)
            assert np.array_equal(drawn[name], expected) and drawn[name].shape == np.shape(expected)
        assert ours.bit_generator.state == reference.bit_generator.state


@pytest.mark.parametrize("difficulty", list(Difficulty))
def test_draws_are_what_draw_gives_one_after_another(difficulty):
    wanted = [(shape, low, high, nonzero) for _, shape, low, high, nonzero in WANTED]
    for seed in range(40):
        ours, reference = np.random.default_rng(seed), np.random.default_rng(seed)
        drawn = draws(ours, difficulty, *wanted)
        for value, (shape, low, high, nonzero) in zip(drawn, wanted, strict=True):
            expected = draw(reference, difficulty, shape, low, high, nonzero)
            # The same values, and the same kind of value (a scalar by hand, an array else).
            assert type(value) is type(expected) and np.shape(value) == np.shape(expected)
            assert np.array_equal(value, expected)
        assert ours.bit_generator.state == reference.bit_generator.state


def test_a_single_choice_is_picked_without_a_draw_as_numpy_would():
    for seed in range(20):
        ours, reference = np.random.default_rng(seed), np.random.default_rng(seed)
        assert pick(ours, ["only"]) == "only" and reference.integers(1) == 0
        assert random_index(ours, (1, 3)) == (0, int(reference.integers(3)))
        assert ours.bit_generator.state == reference.bit_generator.state


# -- JSON with an indent, written without the json module's Python encoder --------------


class Colour(StrEnum):
    RED = "red"


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([Colour.RED, np.float64(0.1), np.float64("nan")]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
        st.dictionaries(st.one_of(st.integers(-9, 9), st.booleans(), st.none()), inner, max_size=2),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_indented_json_is_what_json_dumps_writes(value):
    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_a_worksheet_in_json_is_what_json_dumps_writes():
    for difficulty in Difficulty:
        sheet = build(["mlp-backward", "softmax-cross-entropy", "sampling"], 15, 3, difficulty)
        for steps in (False, True):
            records = [exercise.to_dict(steps=steps) for exercise in sheet.exercises]
            written = render_json(sheet.exercises, steps=steps)
            assert written == json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def test_what_json_refuses_indented_json_refuses_alike():
    with pytest.raises(TypeError, match="int64 is not JSON serializable"):
        indented_json({"n": [1.0, np.int64(2)]})


# -- one walk of the graph for the answer, the solution and the steps --------------------


def test_mlp_backward_reads_its_solution_and_steps_as_the_graph_gives_them():
    for seed in range(30):
        exercise = make("mlp-backward", seed, difficulty=list(Difficulty)[seed % 2])
        inputs = {name: np.array(value) for name, value in exercise.inputs.items()}
        sizes = (len(inputs["x"]), len(inputs["b1"]), len(inputs["y"]))
        wrt, index = exercise.asked["wrt"], tuple(exercise.asked["index"])
        setup = mlp.Setup(exercise.spec["activation"], exercise.spec["loss"], sizes, wrt, index)
        loss, answer = mlp._answer(inputs, setup)  # a graph of its own, read node by node
        z1 = named_nodes(loss)["z1"].value
        notes = {"z1": derivative_note(setup.activation, "z1", z1)}  # f′ from the engine
        assert exercise.answer == answer
        assert exercise.solution == worked_solution(loss, wrt, index, answer, notes)
        assert exercise.steps == guided_steps(loss, wrt, index, answer)


def test_seeds_set_at_once_give_the_states_numpy_gives():
    from drill.exercises.seeding import pcg64_states

    seeds = [0, 1, 2, 2**31, 2**32 - 1, *np.random.default_rng(5).integers(0, 2**32, 300)]
    states = pcg64_states([int(seed) for seed in seeds])
    for seed, (state, increment) in zip(seeds, states, strict=True):
        numpy_state = np.random.PCG64(int(seed)).state["state"]
        assert numpy_state == {"state": state, "inc": increment}, seed
    with pytest.raises(ValueError, match="32-bit"):
        pcg64_states([2**32])


@pytest.mark.parametrize("extras", [True, False])
def test_make_all_makes_what_make_makes(extras):
    from drill.exercises.registry import make_all, names

    def described(exercise):
        return json.dumps(
            {**exercise.to_dict(steps=True), "slips": exercise.slips}, sort_keys=True, default=str
        )

    # Seeds past 32 bits take default_rng's own seeding, between the others.
    jobs = [
        (name, seed, {}, difficulty)
        for name in names()
        for difficulty in Difficulty
        for seed in (3, 2**40 + 3, 4_000_000_000)
    ]
    made = list(make_all(jobs, extras=extras))
    assert len(made) == len(jobs)
    for job, exercise in zip(jobs, made, strict=True):
        assert described(exercise) == described(make(*job, extras=extras)), job


# -- checks and notes worked out with less: the same numbers ---------------------------


def test_the_plain_activations_of_the_checks_are_the_engines():
    from drill.engine import activation, leaky_relu
    from drill.exercises.common import plain_activation

    values = np.random.default_rng(2).uniform(-4.0, 4.0, size=200)
    values[:3] = (0.5, -0.5, 3.0)
    for name in ("identity", "relu", "sigmoid", "tanh", "softplus", "gelu"):
        assert np.allclose(plain_activation(name, values), activation(name)(values).value)
        assert np.isclose(plain_activation(name, values[0]), activation(name)(values[0]).item())
    assert np.allclose(plain_activation("leaky_relu", values, 0.2), leaky_relu(values, 0.2).value)
    with pytest.raises(ValueError, match="no activation"):
        plain_activation("swish", values)


def test_chain_rule_checks_its_graphs_with_plain_numbers():
    from drill.exercises import chain_rule

    rng = np.random.default_rng(4)
    for template in chain_rule.TEMPLATES.values():
        for _ in range(40):
            values = dict(zip(chain_rule.INPUTS, rng.uniform(-2.0, 2.0, size=3), strict=True))
            engine_value = chain_rule._build(values, template).item()
            assert np.isclose(chain_rule._loss_value(values, template), engine_value, rtol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "half_sse", "bce"])
def test_single_neuron_checks_with_a_numpy_forward_pass(loss):
    from drill.exercises import neuron

    rng = np.random.default_rng(5)
    for activation_name in neuron.ACTIVATIONS:
        slope = 0.1 if activation_name == "leaky_relu" else None
        setup = neuron.Setup(activation_name, loss, 3, "w", (1,), slope)
        for _ in range(20):
            inputs = {
                "x": rng.uniform(-2, 2, 3),
                "w": rng.uniform(-2, 2, 3),
                "b": np.float64(rng.uniform(-1, 1)),
                "y": np.float64(rng.integers(2) if loss == "bce" else rng.uniform(-1, 1)),
            }
            expected = neuron._build(inputs, setup).item()
            assert np.isclose(neuron._loss_value(inputs, setup), expected, rtol=1e-12)


def test_convolution_and_pooling_check_with_the_sliding_windows_they_replace():
    from drill.exercises import conv_backward, pooling

    rng = np.random.default_rng(6)
    for difficulty in Difficulty:
        for _ in range(60):
            setup = conv_backward._choose_setup(rng, difficulty, {})
            inputs = conv_backward._draw_inputs(rng, difficulty, setup)
            k, s, p = setup.kernel, setup.stride, setup.padding
            x = np.pad(inputs["x"], ((0, 0), (p, p), (p, p)))
            windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
            y = np.einsum("ocuv,cijuv->oij", inputs["W"], windows[:, ::s, ::s])
            expected = float((y * inputs["G"]).sum())
            assert np.isclose(conv_backward._loss_value(inputs, setup), expected, rtol=1e-12)
            assert np.array_equal(conv_backward._padded(inputs["x"], p), x)
    for overlap in (False, True):
        for layout in pooling.HAND_LAYOUTS[overlap] + pooling.CALC_LAYOUTS[overlap]:
            setup = pooling.Setup(*layout)
            for _ in range(20):
                inputs = pooling._draw_inputs(rng, Difficulty.CALC, setup)
                windows = np.lib.stride_tricks.sliding_window_view(inputs["x"], (setup.window,) * 2)
                y = windows[:: setup.stride, :: setup.stride].max(axis=(-2, -1))
                expected = float((y * inputs["G"]).sum())
                assert pooling._loss_value(inputs, setup) == pytest.approx(expected, rel=1e-12)
                for (i, j), (r, c) in pooling._winners(inputs, setup).items():
                    s, w = setup.stride, setup.window
                    assert (
                        inputs["x"][r, c] == inputs["x"][i * s : i * s + w, j * s : j * s + w].max()
                    )


@pytest.mark.parametrize("activation_name", ["sigmoid", "tanh"])
def test_vanishing_slopes_are_the_engines_local_derivatives(activation_name):
    from drill.exercises import vanishing
    from drill.exercises.common import activation_function, local_derivative

    rng = np.random.default_rng(7)
    for layers in (2, 3, 4, 5):
        setup = vanishing.Setup(activation_name, "h0", layers)
        for difficulty in Difficulty:
            inputs = vanishing._draw_inputs(rng, difficulty, setup)
            root = vanishing._build(inputs, setup)
            nodes, f = named_nodes(root), activation_function(activation_name)
            expected = [
                float(local_derivative(f, nodes[f"z{i}"].value)) for i in range(1, layers + 1)
            ]
            assert vanishing._derivatives(root, setup) == expected


def test_numbers_are_kept_apart_by_their_figures():
    assert fmt(0.123456, 4) == "0.1235" and fmt(0.123456, 6) == "0.123456"
    assert fmt(np.float64(0.123456), 4) == "0.1235" and fmt(np.array(2.5)) == "2.5"
    assert fmt(-0.0) == fmt(0.0) == "0"


def test_exercises_stay_frozen_values_with_their_defaults():
    import dataclasses

    from drill.exercises.base import Exercise, Tolerance

    one = Exercise("g", 1, Difficulty.HAND, "q", {}, {}, {}, 1.5)
    other = Exercise("g", 1, Difficulty.HAND, "q", {}, {}, {}, 1.5)
    assert one == other and one.tolerance == Tolerance() and one.slips == {}
    assert one.slips is not other.slips  # a mapping of its own, as the default factory gave
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.answer = 2.0  # type: ignore[misc]
    changed = dataclasses.replace(one, answer=2.5, slips={"s": 1.0})
    assert (changed.answer, changed.slips, changed.question) == (2.5, {"s": 1.0}, "q")
