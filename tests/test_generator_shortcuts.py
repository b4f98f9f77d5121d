"""The shortcuts taken to make exercises faster give the same numbers and text as before:
hand draws from the same random stream, numbers formatted as NumPy formats them, and
mlp-backward's NumPy network agreeing with the engine's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drill.exercises import mlp
from drill.exercises.base import Difficulty
from drill.exercises.common import GRID, draw, fmt


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
