"""Gradients through attention, normalization, gated units, RoPE, convolution, pooling
and recurrent layers: 100 seeds × both difficulties per generator, in which every choice a
generator draws (its spec's options, the input asked about) comes up, as in 300.

Each answer is derived again here from the exercise's JSON alone (inputs, spec, asked),
with autograd or NumPy written out in this file, never with drill's engine: that checks
the number and proves the JSON is enough for anyone to recheck it. RoPE is checked with
complex numbers, a different road to the same rotation.
"""

from __future__ import annotations

import json
import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from generator_support import arrays, autograd_derivative, exercises_for
from test_engine import ag_gelu

from drill.exercises import Difficulty, Exercise, make
from drill.exercises.common import fmt
from drill.exercises.grading import check, close, format_value
from drill.exercises.registry import BadParams

GRADIENT_GENERATORS = [
    "attention-backward",
    "layernorm-backward",
    "rmsnorm-backward",
    "gated-activation-derivative",
    "conv2d-backward",
    "maxpool-backward",
    "rnn-bptt",
]
VALUE_GENERATORS = ["attention-weights", "rope-rotation"]
MIXED = ["lstm-gates"]  # forward values and gradients
GENERATORS = GRADIENT_GENERATORS + VALUE_GENERATORS + MIXED
SEEDS = range(100)
DIFFICULTIES = [Difficulty.HAND, Difficulty.CALC]


def exercises(name: str, difficulty: Difficulty) -> tuple[Exercise, ...]:
    return exercises_for(name, difficulty, SEEDS)


# -- independent references -------------------------------------------------------------


def ag_softmax_rows(S, allowed):
    """Row softmax over the allowed entries only: masked entries get weight 0."""
    shifted = S - anp.max(anp.where(allowed, S, -1e300), axis=1, keepdims=True)
    e = anp.exp(anp.where(allowed, shifted, 0.0)) * allowed
    return e / anp.sum(e, axis=1, keepdims=True)


def allowed_of(spec, n, m):
    return np.tril(np.ones((n, m), dtype=bool)) if spec["causal"] else np.ones((n, m), bool)


def attention_loss(p, spec):
    n, m = p["Q"].shape[0], p["K"].shape[0]
    P = ag_softmax_rows(anp.dot(p["Q"], p["K"].T) * spec["scale"], allowed_of(spec, n, m))
    return anp.sum(p["G"] * anp.dot(P, p["V"]))


def layernorm_loss(p, spec):
    x = p["x"]
    mu = anp.mean(x)
    var = anp.mean((x - mu) ** 2)
    y = p["gamma"] * (x - mu) / anp.sqrt(var + spec["eps"]) + p["beta"]
    return anp.sum(p["g"] * y)


def rmsnorm_loss(p, spec):
    y = p["gamma"] * p["x"] / anp.sqrt(anp.mean(p["x"] ** 2) + spec["eps"])
    return anp.sum(p["g"] * y)


def gated_loss(p, spec):
    a, b = anp.dot(p["W"], p["x"]), anp.dot(p["V"], p["x"])
    act = a / (1.0 + anp.exp(-a)) if spec["activation"] == "silu" else ag_gelu(a)
    return anp.sum(p["g"] * act * b)


def conv2d_loss(p, spec):
    """Σ G ⊙ y with y the cross-correlation, one kernel offset (u, v) at a time."""
    s, pad = spec["stride"], spec["padding"]
    x = anp.concatenate([anp.zeros((p["x"].shape[0], pad, p["x"].shape[2])), p["x"]], axis=1)
    x = anp.concatenate([x, anp.zeros((x.shape[0], pad, x.shape[2]))], axis=1)
    x = anp.concatenate([anp.zeros((x.shape[0], x.shape[1], pad)), x], axis=2)
    x = anp.concatenate([x, anp.zeros((x.shape[0], x.shape[1], pad))], axis=2)
    _, _, kh, kw = p["W"].shape
    m = p["G"].shape[1]
    y = 0.0
    for u in range(kh):
        for v in range(kw):
            patch = x[:, u : u + s * (m - 1) + 1 : s, v : v + s * (m - 1) + 1 : s]
            y = y + anp.einsum("oc,chw->ohw", p["W"][:, :, u, v], patch)
    return anp.sum(p["G"] * y)


def maxpool_loss(p, spec):
    k, s = spec["window"], spec["stride"]
    m = p["G"].shape[0]
    total = 0.0
    for i in range(m):
        for j in range(m):
            total = total + p["G"][i, j] * anp.max(p["x"][i * s : i * s + k, j * s : j * s + k])
    return total


def rnn_loss(p, spec):
    h1 = anp.tanh(anp.dot(p["W"], p["h0"]) + anp.dot(p["U"], p["x1"]) + p["b"])
    h2 = anp.tanh(anp.dot(p["W"], h1) + anp.dot(p["U"], p["x2"]) + p["b"])
    return 0.5 * anp.sum((h2 - p["y"]) ** 2)


def lstm_forward(p):
    H = p["h_prev"].shape[0]
    z = anp.dot(p["W"], p["x"]) + anp.dot(p["U"], p["h_prev"]) + p["b"]

    def sig(v):
        return 1.0 / (1.0 + anp.exp(-v))

    i, f, g, o = sig(z[:H]), sig(z[H : 2 * H]), anp.tanh(z[2 * H : 3 * H]), sig(z[3 * H :])
    c = f * p["c_prev"] + i * g
    return c, o * anp.tanh(c)


def lstm_loss(p, spec):
    return anp.sum(p["g_h"] * lstm_forward(p)[1])


def rope_by_complex_numbers(x, position, base):
    x = np.asarray(x, dtype=float)
    d = x.size
    theta = base ** (-np.arange(0, d, 2) / d)
    return (x[0::2] + 1j * x[1::2]) * np.exp(1j * position * theta)


def rope_answer(ex: Exercise):
    base, inputs = ex.spec["base"], ex.inputs
    q = rope_by_complex_numbers(inputs["q"], inputs["m"], base)
    if ex.spec["asked"] == "rotated":
        out = np.empty(2 * q.size)
        out[0::2], out[1::2] = q.real, q.imag
        return out
    k = rope_by_complex_numbers(inputs["k"], inputs["n"], base)
    return float(np.sum(q * np.conj(k)).real)


def attention_weights_answer(ex: Exercise):
    p = arrays(ex.inputs)
    n, m = p["Q"].shape[0], p["K"].shape[0]
    S = p["Q"] @ p["K"].T / math.sqrt(p["Q"].shape[1])
    allowed = allowed_of(ex.spec, n, m)
    e = np.where(allowed, np.exp(np.where(allowed, S, 0.0)), 0.0)
    P = e / e.sum(axis=1, keepdims=True)
    (row,) = ex.asked["index"]
    return P[row] if ex.spec["asked"] == "weights" else (P @ p["V"])[row]


LOSSES = {
    "attention-backward": attention_loss,
    "layernorm-backward": layernorm_loss,
    "rmsnorm-backward": rmsnorm_loss,
    "gated-activation-derivative": gated_loss,
    "conv2d-backward": conv2d_loss,
    "maxpool-backward": maxpool_loss,
    "rnn-bptt": rnn_loss,
    "lstm-gates": lstm_loss,
}


def expected_answer(ex: Exercise):
    if ex.generator == "rope-rotation":
        return rope_answer(ex)
    if ex.generator == "attention-weights":
        return attention_weights_answer(ex)
    if ex.generator == "lstm-gates" and ex.spec["asked"] in ("c", "h"):
        c, h = lstm_forward(arrays(ex.inputs))
        return float({"c": c, "h": h}[ex.spec["asked"]][ex.asked["index"][0]])
    return autograd_derivative(LOSSES[ex.generator], ex)


# -- every generator, 100 seeds × both difficulties ------------------------------------------


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_answers_match_an_independent_derivation(name, difficulty):
    for ex in exercises(name, difficulty):
        np.testing.assert_allclose(
            ex.answer, expected_answer(ex), rtol=1e-9, atol=1e-12, err_msg=str(ex.seed)
        )


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_json_round_trip_and_contract(name, difficulty):
    for ex in exercises(name, difficulty):
        assert ex.generator == name and ex.difficulty is difficulty
        text = ex.to_json()
        again = Exercise.from_dict(json.loads(text))
        assert again.to_dict() == ex.to_dict() and again.to_json() == text
        assert set(ex.to_dict()) == {
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
        record = ex.to_dict(steps=True)
        assert ("steps" in record) == bool(ex.steps)
        assert Exercise.from_dict(json.loads(json.dumps(record))).steps == tuple(ex.steps)


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_exercise_and_seeds_vary(name):
    for difficulty in DIFFICULTIES:
        for seed in (0, 7, 12345):
            assert make(name, seed, difficulty=difficulty) == make(
                name, seed, difficulty=difficulty
            )
        questions = {ex.question for ex in exercises(name, difficulty)}
        assert len(questions) > len(SEEDS) * 0.9


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("name", GENERATORS)
def test_the_solution_ends_on_the_answer_and_slips_are_told_apart(name, difficulty):
    for ex in exercises(name, difficulty):
        assert ex.question.splitlines()[-1].startswith("Compute")
        last = ex.solution[-1]
        assert last.startswith("So ") and last.endswith(".")
        shown = last.rsplit(" = ", 1)[1].removesuffix(".")
        assert check(shown, ex).correct, (ex.seed, last)
        assert check(format_value(ex.answer), ex).correct
        for description, slipped in ex.slips.items():
            assert not close(slipped, ex.answer, ex.tolerance) or description == "", ex.seed
            verdict = check(format_value(slipped), ex)
            assert not verdict.correct and verdict.slip is not None, (ex.seed, description)


@pytest.mark.parametrize("name", GENERATORS)
def test_hand_inputs_lie_on_the_half_grid_and_calc_inputs_show_exactly(name):
    for ex in exercises(name, Difficulty.HAND):
        for value in arrays(ex.inputs).values():
            assert np.all(value * 2 == np.round(value * 2)), ex.seed
    for ex in exercises(name, Difficulty.CALC):
        for value in arrays(ex.inputs).values():
            assert np.all(np.round(value, 2) == value), ex.seed


@pytest.mark.parametrize("name", GRADIENT_GENERATORS)
def test_gradient_answers_are_never_about_zero(name):
    for difficulty in DIFFICULTIES:
        for ex in exercises(name, difficulty):
            if name == "maxpool-backward" and ex.answer == 0.0:
                continue  # an entry that wins no window: the 0 is the lesson
            assert abs(ex.answer) >= 0.01, ex.seed


def test_every_choice_is_drawn():
    def seen(name, key, difficulty=Difficulty.CALC):
        return {json.dumps(key(ex)) for ex in exercises(name, difficulty)}

    assert seen("attention-backward", lambda e: e.asked["wrt"]) == {'"Q"', '"K"', '"V"'}
    assert seen("attention-backward", lambda e: e.spec["causal"]) == {"true", "false"}
    assert seen("attention-weights", lambda e: e.spec["asked"]) == {'"weights"', '"output"'}
    assert seen("layernorm-backward", lambda e: e.asked["wrt"]) == {'"x"', '"gamma"', '"beta"'}
    assert seen("gated-activation-derivative", lambda e: e.spec["activation"]) == {
        '"silu"',
        '"gelu"',
    }
    assert seen("rope-rotation", lambda e: e.spec["asked"]) == {'"rotated"', '"score"'}
    assert seen("conv2d-backward", lambda e: e.asked["wrt"]) == {'"W"', '"x"'}
    assert seen("rnn-bptt", lambda e: e.asked["wrt"]) == {'"W"', '"U"', '"b"', '"h0"'}
    assert seen("lstm-gates", lambda e: e.spec["asked"]) == {
        '"c"',
        '"h"',
        '"c_prev"',
        '"b"',
    }
    zeros = [ex for ex in exercises("maxpool-backward", Difficulty.HAND) if ex.answer == 0.0]
    assert 0 < len(zeros) < len(SEEDS) / 2


# -- the contracts the issue fixes exactly ------------------------------------------------------


def test_attention_backward_contract():
    for difficulty in DIFFICULTIES:
        for ex in exercises("attention-backward", difficulty):
            p = arrays(ex.inputs)
            assert set(p) == {"Q", "K", "V", "G"}
            (n, d), (m, d_k), (m_v, dv) = p["Q"].shape, p["K"].shape, p["V"].shape
            assert d == d_k and m == m_v and p["G"].shape == (n, dv)
            assert isinstance(ex.spec["causal"], bool)
            assert ex.spec["scale"] == 1 / math.sqrt(d)
            if ex.spec["causal"]:
                assert n == m
            assert ex.asked["wrt"] in ("Q", "K", "V") and len(ex.asked["index"]) == 2
            if difficulty is Difficulty.HAND:
                assert d in (1, 4)  # 1/√d exact


def test_layernorm_backward_contract():
    for difficulty in DIFFICULTIES:
        for ex in exercises("layernorm-backward", difficulty):
            p = arrays(ex.inputs)
            assert set(p) == {"x", "gamma", "beta", "g"}
            assert len({value.shape for value in p.values()}) == 1
            assert ex.spec["eps"] == (0.0 if difficulty is Difficulty.HAND else 1e-5)
            assert ex.asked["wrt"] in ("x", "gamma", "beta")
            if difficulty is Difficulty.HAND:
                sigma = math.sqrt(np.var(p["x"]))
                assert sigma > 0 and sigma * 2 == round(sigma * 2)  # no square roots by hand


def test_rmsnorm_by_hand_has_an_exact_root_mean_square():
    for ex in exercises("rmsnorm-backward", Difficulty.HAND):
        r = math.sqrt(np.mean(np.square(ex.inputs["x"])))
        assert ex.spec["eps"] == 0.0 and r > 0 and r * 2 == round(r * 2)


def test_causal_attention_weights_hide_the_future():
    for difficulty in DIFFICULTIES:
        for ex in exercises("attention-weights", difficulty):
            (row,) = ex.asked["index"]
            if ex.spec["causal"] and ex.spec["asked"] == "weights":
                assert row >= 1
                assert all(w == 0.0 for w in ex.answer[row + 1 :])
                assert sum(ex.answer) == pytest.approx(1.0)


def test_rope_score_depends_only_on_the_distance():
    for ex in exercises("rope-rotation", Difficulty.CALC):
        if ex.spec["asked"] != "score":
            continue
        inputs = dict(ex.inputs)
        shifted = {**inputs, "m": inputs["m"] + 5, "n": inputs["n"] + 5}
        moved = Exercise.from_dict({**ex.to_dict(), "inputs": shifted})
        assert rope_answer(moved) == pytest.approx(ex.answer, rel=1e-9, abs=1e-12)


# -- slips, recomputed here -------------------------------------------------------------------


def test_attention_slips_match_their_description():
    for ex in exercises("attention-backward", Difficulty.CALC)[:100]:
        unscaled = {**ex.spec, "scale": 1.0}
        slip = ex.slips.get("scale 1/√d left out (forward and backward)")
        if slip is not None:
            expected = autograd_derivative(lambda p, _, s=unscaled: attention_loss(p, s), ex)
            assert slip == pytest.approx(expected, rel=1e-9, abs=1e-12)
        if ex.spec["causal"] and "causal mask ignored" in ex.slips:
            open_spec = {**ex.spec, "causal": False}
            expected = autograd_derivative(lambda p, _, s=open_spec: attention_loss(p, s), ex)
            assert ex.slips["causal mask ignored"] == pytest.approx(expected, rel=1e-9)


def test_layernorm_slip_that_treats_the_statistics_as_constants():
    for ex in exercises("layernorm-backward", Difficulty.CALC):
        if ex.asked["wrt"] != "x":
            continue
        p = arrays(ex.inputs)
        (i,) = ex.asked["index"]
        s = math.sqrt(np.var(p["x"]) + ex.spec["eps"])
        constants = ex.slips.get("μ and σ² treated as constants")
        if constants is not None:
            assert constants == pytest.approx(p["g"][i] * p["gamma"][i] / s, rel=1e-9)


def test_rnn_slip_that_keeps_only_the_last_step():
    for ex in exercises("rnn-bptt", Difficulty.CALC):
        if ex.asked["wrt"] != "W":
            continue
        p = arrays(ex.inputs)
        W_step1 = p["W"]

        def last_step_only(W, p=p, W_step1=W_step1):
            h1 = anp.tanh(anp.dot(W_step1, p["h0"]) + anp.dot(p["U"], p["x1"]) + p["b"])
            h2 = anp.tanh(anp.dot(W, h1) + anp.dot(p["U"], p["x2"]) + p["b"])
            return 0.5 * anp.sum((h2 - p["y"]) ** 2)

        expected = grad(last_step_only)(p["W"])[tuple(ex.asked["index"])]
        slip = ex.slips["only the last step (the weights are used at both steps)"]
        assert slip == pytest.approx(expected, rel=1e-9, abs=1e-12)
        # and the step-1 share is big enough to be told apart at the 1% tolerance
        assert abs(slip - ex.answer) > 0.02 * abs(ex.answer)


def test_conv_slip_of_the_flipped_kernel():
    for ex in exercises("conv2d-backward", Difficulty.CALC):
        slip = ex.slips.get("kernel flipped (true convolution instead of cross-correlation)")
        if slip is None:
            continue
        o, c, u, v = ex.asked["index"]
        k = len(ex.inputs["W"][0][0])
        flipped = {**ex.to_dict(), "asked": {"wrt": "W", "index": [o, c, k - 1 - u, k - 1 - v]}}
        expected = autograd_derivative(conv2d_loss, Exercise.from_dict(flipped))
        assert slip == pytest.approx(expected, rel=1e-9)


def test_maxpool_average_pooling_slip():
    for ex in exercises("maxpool-backward", Difficulty.HAND):
        spec, (r, c) = ex.spec, ex.asked["index"]
        k, s = spec["window"], spec["stride"]
        G = np.asarray(ex.inputs["G"])
        covering = [
            G[i, j]
            for i in range(G.shape[0])
            for j in range(G.shape[1])
            if i * s <= r < i * s + k and j * s <= c < j * s + k
        ]
        slip = ex.slips.get("gradient spread evenly over each window (average pooling)")
        if slip is not None:
            assert slip == pytest.approx(sum(covering) / k**2)


# -- hand questions list what they need ------------------------------------------------------


def test_hand_questions_list_the_transcendental_values():
    for ex in exercises("attention-backward", Difficulty.HAND)[:60]:
        p = arrays(ex.inputs)
        S = p["Q"] @ p["K"].T * ex.spec["scale"]
        n, m = S.shape
        allowed = allowed_of(ex.spec, n, m)
        for i in range(n):
            if allowed[i].sum() > 1:
                for value in S[i][allowed[i]]:
                    if value != 0:
                        assert f"e^({fmt(value, 6)}) ≈" in ex.question, ex.seed
    for ex in exercises("rnn-bptt", Difficulty.HAND)[:60]:
        assert "h1[0] ≈" in ex.question and "h2[1] ≈" in ex.question
    for ex in exercises("rope-rotation", Difficulty.HAND)[:60]:
        assert "cos(" in ex.question and "sin(" in ex.question


# -- params ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "check_fn"),
    [
        ("attention-backward", {"causal": True, "wrt": "K"}, lambda e: e.spec["causal"]),
        ("attention-weights", {"asked": "output"}, lambda e: "V" in e.inputs),
        ("layernorm-backward", {"wrt": "beta", "features": 6}, lambda e: len(e.inputs["x"]) == 6),
        ("rmsnorm-backward", {"wrt": "gamma"}, lambda e: e.asked["wrt"] == "gamma"),
        (
            "gated-activation-derivative",
            {"activation": "gelu"},
            lambda e: e.spec["unit"] == "GeGLU",
        ),
        ("rope-rotation", {"asked": "score"}, lambda e: "k" in e.inputs),
        ("conv2d-backward", {"wrt": "x"}, lambda e: len(e.asked["index"]) == 3),
        ("maxpool-backward", {"overlap": True}, lambda e: e.spec["stride"] < e.spec["window"]),
        ("rnn-bptt", {"wrt": "h0"}, lambda e: e.asked["wrt"] == "h0"),
        ("lstm-gates", {"asked": "c_prev"}, lambda e: "g_h" in e.inputs),
    ],
)
def test_pinned_params_are_honoured(name, params, check_fn):
    for difficulty in DIFFICULTIES:
        for seed in range(15):
            ex = make(name, seed, params, difficulty)
            assert check_fn(ex), (seed, difficulty)
            np.testing.assert_allclose(ex.answer, expected_answer(ex), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("attention-backward", {"causal": "yes"}),
        ("layernorm-backward", {"wrt": "mu"}),
        ("rope-rotation", {"base": 500}),
        ("maxpool-backward", {"overlap": 1}),
    ],
)
def test_bad_params_are_refused(name, params):
    with pytest.raises(BadParams):
        make(name, 0, params)


def test_layernorm_by_hand_refuses_three_features():
    with pytest.raises(BadParams, match="σ can come out exact"):
        make("layernorm-backward", 0, {"features": 3}, Difficulty.HAND)
    assert len(make("layernorm-backward", 0, {"features": 3}, Difficulty.CALC).inputs["x"]) == 3
