"""Guided steps: the step lists generators give, the run that checks them, `drill study
--steps` and `drill gen --steps`.

The step values are recomputed here with NumPy and autograd from the exercise's inputs,
not read from drill's engine, so a step list that drifts from its exercise fails.
"""

from __future__ import annotations

import json
import math
import textwrap

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from generator_support import arrays
from rich.console import Console
from typer.testing import CliRunner

from drill.cli import app
from drill.exercises import make
from drill.exercises.base import Difficulty, Exercise, Step
from drill.exercises.grading import ParseError, format_value
from drill.exercises.guided import GuidedRun, NoSteps
from drill.model import Rating
from drill.review.session import Session
from drill.review.store import Store
from drill.ui.exercise_view import ask_steps

WITH_STEPS = [
    "mlp-backward",
    "single-neuron",
    "chain-rule-graph",
    "layernorm-backward",
    "attention-backward",
    "rmsnorm-backward",
    "gated-activation-derivative",
    "rnn-bptt",
]
SEEDS = range(20)


def values(ex: Exercise) -> dict[str, object]:
    return {step.name: step.value for step in ex.steps}


def wrong(step: Step) -> str:
    """A wrong value of the step's own shape (another shape is asked again, not graded)."""
    return format_value((np.asarray(step.value) + 100.0).tolist())


# -- every step list ------------------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_STEPS)
def test_steps_end_on_the_asked_value_and_read_back(name):
    for difficulty in (Difficulty.HAND, Difficulty.CALC):
        for seed in SEEDS:
            ex = make(name, seed, difficulty=difficulty)
            assert len(ex.steps) >= 2 or name == "layernorm-backward", (seed, ex.steps)
            last = ex.steps[-1]
            wrt = ex.asked["wrt"]
            shown = {"gamma": "γ", "beta": "β"}.get(wrt, wrt)
            index = "".join(f"[{', '.join(map(str, ex.asked['index']))}]" * bool(ex.asked["index"]))
            assert last.name == f"∂L/∂{shown}{index}" and last.value == ex.answer
            assert len({step.name for step in ex.steps}) == len(ex.steps)
            for step in ex.steps:
                # what the run shows is what it would accept
                assert GuidedRun(_only(ex, step)).answer(format_value(step.value)).correct
                assert all(math.isfinite(v) for v in np.ravel(step.value))


def _only(ex: Exercise, step: Step) -> Exercise:
    """The exercise with `step` as its only step, to check one value on its own."""
    return Exercise.from_dict({**ex.to_dict(steps=True), "steps": [step.to_dict()]})


def test_mlp_steps_follow_the_forward_then_the_backward_pass():
    for seed in SEEDS:
        ex = make("mlp-backward", seed, {"loss": "half_sse", "wrt": "W1"}, Difficulty.CALC)
        p, act = arrays(ex.inputs), ex.spec["activation"]
        f = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
        f["tanh"] = np.tanh
        z1 = p["W1"] @ p["x"] + p["b1"]
        h1 = f[act](z1)
        z2 = p["W2"] @ h1 + p["b2"]
        d2 = z2 - p["y"]
        dh1 = p["W2"].T @ d2
        slope = {"relu": (z1 > 0) * 1.0, "sigmoid": h1 * (1 - h1), "tanh": 1 - h1**2}[act]
        expected = {
            "z1": z1,
            "h1": h1,
            "z2": z2,
            "∂L/∂z2": d2,
            "∂L/∂h1": dh1,
            "∂L/∂z1": dh1 * slope,
        }
        got = values(ex)
        assert list(got)[:6] == list(expected)
        for name, value in expected.items():
            np.testing.assert_allclose(got[name], value, rtol=1e-9, atol=1e-12)


def test_attention_steps_match_autograd():
    for seed in SEEDS:
        ex = make("attention-backward", seed, {"wrt": "Q"}, Difficulty.CALC)
        p = arrays(ex.inputs)
        S = p["Q"] @ p["K"].T * ex.spec["scale"]
        allowed = np.tril(np.ones(S.shape, bool)) if ex.spec["causal"] else np.ones(S.shape, bool)

        def loss_of_scores(scores, p=p, allowed=allowed):
            e = anp.exp(scores - anp.max(scores, axis=1, keepdims=True)) * allowed
            return anp.sum(p["G"] * anp.dot(e / anp.sum(e, axis=1, keepdims=True), p["V"]))

        e = np.exp(S - S.max(axis=1, keepdims=True)) * allowed
        P = e / e.sum(axis=1, keepdims=True)
        got = values(ex)
        assert list(got)[:4] == ["S", "P", "∂L/∂P", "∂L/∂S"]
        np.testing.assert_allclose(got["S"], S, rtol=1e-12)  # unmasked: numbers one can type
        np.testing.assert_allclose(got["P"], P, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(got["∂L/∂P"], p["G"] @ p["V"].T, rtol=1e-12)
        np.testing.assert_allclose(got["∂L/∂S"], grad(loss_of_scores)(S), rtol=1e-9, atol=1e-12)


def test_layernorm_steps_and_the_one_step_of_beta():
    for seed in SEEDS:
        ex = make("layernorm-backward", seed, difficulty=Difficulty.CALC)
        p = arrays(ex.inputs)
        if ex.asked["wrt"] == "beta":
            assert len(ex.steps) == 1  # ∂L/∂β = g: nothing on the way
            continue
        mu = p["x"].mean()
        s = math.sqrt(p["x"].var() + ex.spec["eps"])
        got = values(ex)
        assert got["μ"] == pytest.approx(mu) and got["s"] == pytest.approx(s)
        np.testing.assert_allclose(got["x̂"], (p["x"] - mu) / s, rtol=1e-9)
        if ex.asked["wrt"] == "x":
            np.testing.assert_allclose(got["∂L/∂x̂"], p["gamma"] * p["g"], rtol=1e-9)
        else:  # ∂L/∂γ = g ⊙ x̂ needs only the forward pass
            assert [step.name for step in ex.steps][-2] == "x̂"


def test_generators_without_steps_leave_them_empty():
    assert make("conv-output-size", 1).steps == ()
    assert make("rope-rotation", 1).steps == ()


# -- the run --------------------------------------------------------------------------------


def mlp_exercise() -> Exercise:
    return make("mlp-backward", 7, {"activation": "relu", "loss": "half_sse", "wrt": "W1"})


def test_all_steps_right_proposes_good():
    ex = mlp_exercise()
    run = GuidedRun(ex)
    for step in ex.steps:
        assert run.answer(format_value(step.value)).correct
    assert run.current is None and run.correct and run.first_miss is None
    assert run.proposal() is Rating.GOOD
    assert run.final_typed == format_value(ex.answer)


@pytest.mark.parametrize(("miss", "expected"), [(0, Rating.AGAIN), (2, Rating.AGAIN)])
def test_an_early_miss_proposes_again(miss, expected):
    ex = mlp_exercise()
    n = len(ex.steps)
    assert n == 7 and 2 * miss < n
    run = GuidedRun(ex)
    for i, step in enumerate(ex.steps):
        run.answer(wrong(step) if i == miss else format_value(step.value))
    assert run.first_miss == miss and run.right == n - 1 and not run.correct
    assert run.proposal() is expected


def test_a_late_miss_proposes_hard_and_later_steps_build_on_the_shown_value():
    ex = mlp_exercise()
    run = GuidedRun(ex)
    for i, step in enumerate(ex.steps):
        typed = None if i == 4 else format_value(step.value)  # skipped: shown, not typed
        result = run.answer(typed)
        assert result.correct is (i != 4)
    assert run.first_miss == 4 and run.proposal() is Rating.HARD
    assert run.results[4].typed is None


def test_an_unreadable_step_is_not_recorded_and_the_last_step_names_slips():
    ex = mlp_exercise()
    run = GuidedRun(ex)
    with pytest.raises(ParseError):
        run.answer("not a number")
    assert run.position == 0
    for step in ex.steps[:-1]:
        run.answer(format_value(step.value))
    flipped = format_value(-ex.answer)
    result = run.answer(flipped)
    assert not result.correct and result.verdict.slip == "sign flipped"
    assert run.proposal() is Rating.HARD  # 6 of 7 right before the miss
    with pytest.raises(IndexError):
        run.answer("1")


def test_a_run_needs_steps():
    with pytest.raises(NoSteps):
        GuidedRun(make("conv-output-size", 1))


def test_ask_steps_shows_the_rule_and_value_at_a_miss():
    ex = mlp_exercise()
    typed = iter(["oops", "0", wrong(ex.steps[0])] + [format_value(s.value) for s in ex.steps[1:]])
    console = Console(record=True, width=200)
    run = ask_steps(console, lambda: next(typed), ex)
    text = console.export_text()
    first = ex.steps[0]
    assert f"Step 1 of {len(ex.steps)}: z1 = ?" in text
    assert "Could not read that" in text  # text, and a number for a vector: asked again
    assert f"✗ Not quite: z1 = W1 x + b1 = {format_value(first.value)}" in text
    assert f"✓ ∂L/∂z2 = {format_value(values(ex)['∂L/∂z2'])}" in text
    assert f"6 of {len(ex.steps)} steps right; the first miss: z1." in text
    assert "Worked solution" in text
    assert run.proposal() is Rating.AGAIN


# -- drill study --steps --------------------------------------------------------------------

DECK = textwrap.dedent(
    """\
    id: guided
    title: Guided
    cards:
      - id: mlp
        type: compute
        generator: mlp-backward
        params: {activation: relu, loss: half_sse, wrt: W1}
    """
)


@pytest.fixture
def guided_deck(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "guided.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    monkeypatch.setattr(Session, "new_seed", lambda self: 7)  # the exercise is mlp_exercise()


def study(*args: str, input: str):
    return CliRunner().invoke(app, ["study", "guided", *args], input=input)


def reviews():
    with Store.open() as store:
        return store.reviews()


@pytest.mark.usefixtures("guided_deck")
def test_study_steps_all_right_records_good():
    ex = mlp_exercise()
    answers = "".join(format_value(step.value) + "\n" for step in ex.steps)
    result = study("--steps", input=answers + "\n")
    assert result.exit_code == 0, result.output
    assert f"All {len(ex.steps)} steps right." in result.output
    (row,) = reviews()
    assert (row.rating, row.correct, row.answer) == (Rating.GOOD, True, format_value(ex.answer))
    assert row.seed == 7


@pytest.mark.usefixtures("guided_deck")
def test_study_steps_first_miss_proposes_again_and_shows_the_value():
    ex = mlp_exercise()
    answers = [wrong(ex.steps[0])] + [format_value(step.value) for step in ex.steps[1:]]
    result = study("--steps", input="\n".join(answers) + "\n\n")
    assert result.exit_code == 0, result.output
    assert f"z1 = W1 x + b1 = {format_value(ex.steps[0].value)}" in result.output
    (row,) = reviews()
    assert (row.rating, row.correct) == (Rating.AGAIN, False)


@pytest.mark.usefixtures("guided_deck")
def test_the_config_default_and_no_steps(drill_home):
    (drill_home / "config.toml").write_text("guided_steps = true\n", encoding="utf-8")
    ex = mlp_exercise()
    answers = "".join(format_value(step.value) + "\n" for step in ex.steps)
    result = study(input=answers + "\n")
    assert "Step 1 of" in result.output and reviews()[0].rating is Rating.GOOD
    plain = study("--no-steps", "--cram", input=format_value(ex.answer) + "\n\n")
    assert plain.exit_code == 0, plain.output
    assert "Step 1 of" not in plain.output and "✓ Correct." in plain.output


def test_config_shows_the_setting():
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0 and "guided_steps" in result.output


# -- drill gen --steps ----------------------------------------------------------------------


def gen(*args: str):
    return CliRunner().invoke(app, ["gen", *args])


def test_gen_steps_in_text_markdown_and_json():
    ex = make("mlp-backward", 0)  # any: the worksheet's own seeds are checked via JSON
    assert ex.steps
    text = gen("mlp-backward", "conv-output-size", "--steps", "--seed", "3")
    assert text.exit_code == 0, text.output
    records = json.loads(
        gen("mlp-backward", "conv-output-size", "--steps", "--seed", "3", "-f", "json").stdout
    )
    mlp, conv = records
    assert "steps" not in conv
    assert [set(step) for step in mlp["steps"]] == [{"name", "value", "rule"}] * len(mlp["steps"])
    assert mlp["steps"][-1]["value"] == mlp["answer"]
    names = ", ".join(step["name"] for step in mlp["steps"])
    assert f"Steps: {names}." in text.stdout
    assert f"  1. z1 = W1 x + b1 = {format_value(mlp['steps'][0]['value'])}" in text.stdout
    md = gen("mlp-backward", "--steps", "--seed", "3", "-f", "md").stdout
    assert "```text\nSteps:\n  1. z1 = W1 x + b1 = " in md
    assert "Steps: z1, h1, z2" in md


def test_gen_steps_without_answers_gives_names_only():
    records = json.loads(gen("layernorm-backward", "--steps", "--no-answers", "-f", "json").stdout)
    assert records[0]["steps"] and all(set(step) == {"name"} for step in records[0]["steps"])
    assert "answer" not in records[0]
    plain = json.loads(gen("layernorm-backward", "-f", "json").stdout)
    assert "steps" not in plain[0]  # the contract is unchanged without --steps
