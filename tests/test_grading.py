"""Typed answers: what is read, what is refused with a hint, and how it is graded."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drill.errors import DrillError
from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.grading import (
    MAX_CHARS,
    ParseError,
    Verdict,
    WrongShape,
    check,
    format_value,
    likely_slip,
    parse,
    shape_of,
)


def exercise(answer, tolerance=None, slips=None) -> Exercise:
    return Exercise(
        generator="test",
        seed=0,
        difficulty=Difficulty.HAND,
        question="?",
        spec={},
        inputs={},
        asked={},
        answer=answer,
        tolerance=tolerance or Tolerance(),
        slips=slips or {},
    )


ACCEPTED = [
    ("3", 3.0),
    ("  42  ", 42.0),
    ("-7", -7.0),
    ("+0.5", 0.5),
    ("0.25", 0.25),
    (".5", 0.5),
    ("5.", 5.0),
    ("1e-3", 0.001),
    ("1.2E+02", 120.0),
    ("-2.5e1", -25.0),
    ("3/4", 0.75),
    ("-1/2", -0.5),
    ("1 / 4", 0.25),
    ("1e1/4", 2.5),
    ("−0.25", -0.25),  # the Unicode minus sign
    ("−1/2", -0.5),
    ("-0", 0.0),
    ("[0.1, -0.2]", [0.1, -0.2]),
    ("0.1 -0.2", [0.1, -0.2]),
    ("0.1, -0.2", [0.1, -0.2]),
    ("0.1,-0.2", [0.1, -0.2]),
    ("(1, 2)", [1.0, 2.0]),
    ("[0.5]", [0.5]),
    ("[ 1  2   3 ]", [1.0, 2.0, 3.0]),
    ("1/2 −3/4", [0.5, -0.75]),
    ("1 2; 3 4", [[1.0, 2.0], [3.0, 4.0]]),
    ("1, 2; 3, 4;", [[1.0, 2.0], [3.0, 4.0]]),
    ("[1 2; 3 4]", [[1.0, 2.0], [3.0, 4.0]]),
    ("[[1,2],[3,4]]", [[1.0, 2.0], [3.0, 4.0]]),
    ("[[1, 2] [3, 4]]", [[1.0, 2.0], [3.0, 4.0]]),
    ("[1, 2], [3, 4]", [[1.0, 2.0], [3.0, 4.0]]),
    ("[[1,2];[3,4]]", [[1.0, 2.0], [3.0, 4.0]]),
    ("1; 2; 3", [[1.0], [2.0], [3.0]]),
]


@pytest.mark.parametrize(("typed", "expected"), ACCEPTED)
def test_accepted_inputs(typed, expected):
    assert parse(typed) == expected


REJECTED = [
    ("", "type a number"),
    ("   ", "type a number"),
    ("abc", "cannot read 'abc'"),
    ("x = 1", "cannot read"),
    ("1,,2", "empty entry"),
    ("1e", "cannot read '1e'"),
    ("--1", "cannot read"),
    ("1_000", "cannot read"),
    ("nan", "cannot read"),
    ("inf", "cannot read"),
    ("٣", "cannot read"),  # a digit of another script
    ("1/0", "divides by zero"),
    ("1/2/3", "cannot read"),
    ("1e400", "too large"),
    ("1e308/1e-308", "too large"),
    ("[1, 2", "brackets"),
    ("[1, 2]]", "brackets"),
    ("[1] 2", "brackets"),
    ("[]", "empty"),
    (";", "empty"),
    ("1 2; 3", "different lengths (1, 2)"),
    ("[[1], [2, 3]]", "different lengths"),
]


@pytest.mark.parametrize(("typed", "hint"), REJECTED)
def test_rejected_inputs_give_a_hint(typed, hint):
    with pytest.raises(ParseError) as caught:
        parse(typed)
    assert hint in str(caught.value)


def test_parse_error_is_a_drill_error_so_the_cli_can_show_it():
    assert issubclass(ParseError, DrillError)


def test_overlong_input_is_refused_politely():
    with pytest.raises(ParseError, match=f"the limit is {MAX_CHARS}"):
        parse("1 " * MAX_CHARS)


def test_a_long_number_within_the_limit_is_read():
    assert parse("1" * 300) == float("1" * 300)


def test_non_text_is_a_programming_error():
    with pytest.raises(TypeError):
        parse(0.5)  # type: ignore[arg-type]


# --- checking ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "truth", "correct"),
    [
        ("1.0", 1.0, True),
        ("1.01", 1.0, True),  # exactly rel·|t|
        ("1.0101", 1.0, False),
        ("0.99", 1.0, True),
        ("0.9899", 1.0, False),
        ("0.001", 0.0, True),  # exactly abs
        ("-0.001", 0.0, True),
        ("0.0011", 0.0, False),
        ("0.0005", 0.0001, True),  # the absolute floor wins for tiny truths
        ("1e-3", 2e-3, True),
        ("100", 100.5, True),
        ("99", 100.5, False),
        ("-1/3", -0.333333, True),
    ],
)
def test_tolerance_edges(typed, truth, correct):
    assert check(typed, exercise(truth)).correct is correct


def test_custom_tolerance_is_used():
    loose = exercise(10.0, Tolerance(rel=0.1, abs=0.0))
    assert check("10.9", loose).correct
    assert not check("11.1", loose).correct


@pytest.mark.parametrize(
    ("typed", "correct"),
    [
        ("15", True),
        ("15.0", True),
        ("30/2", True),
        ("1.5e1", True),
        ("15.0001", False),
        ("14", False),
    ],
)
def test_integer_answers_must_match_exactly(typed, correct):
    assert check(typed, exercise(15, Tolerance(exact=True))).correct is correct


def test_vector_is_checked_elementwise():
    ex = exercise([1.5, -2.0])
    assert check("[1.5, -2]", ex).correct
    assert check("1.5 -2.01", ex).correct
    assert not check("1.5 -2.1", ex).correct


def test_matrix_answer():
    ex = exercise([[1.0, 2.0], [3.0, 4.0]])
    assert check("1 2; 3 4", ex).correct
    assert check("[[1, 2], [3, 4]]", ex).correct
    assert not check("1 2; 4 3", ex).correct


@pytest.mark.parametrize(
    ("typed", "truth", "note"),
    [
        ("1.5", [1.5, -2.0], "the answer is a vector of 2 numbers; yours is a single number"),
        (
            "1 2 3",
            [1.0, 2.0],
            "the answer is a vector of 2 numbers; yours is a vector of 3 numbers",
        ),
        ("1 2; 3 4", [1.0, 2.0, 3.0, 4.0], "yours is a 2×2 array"),
        ("1 2", 3.0, "the answer is a single number; yours is a vector of 2 numbers"),
    ],
)
def test_a_shape_mismatch_is_asked_again_with_a_note(typed, truth, note):
    with pytest.raises(WrongShape) as caught:
        check(typed, exercise(truth))
    assert note in str(caught.value)
    assert isinstance(caught.value, ParseError)  # callers ask again, as for unreadable text


@pytest.mark.parametrize("typed", ["0.5", "[0.5]", "[[0.5]]"])
def test_a_single_number_may_be_bracketed(typed):
    assert check(typed, exercise(0.5)).correct
    assert check(typed, exercise([0.5])).correct


def test_a_column_of_numbers_is_the_vector():
    assert check("1; 2; 3", exercise([1.0, 2.0, 3.0])).correct


def test_verdict_keeps_what_was_typed_and_the_truth():
    verdict = check("[0.5]", exercise(0.5))
    assert verdict == Verdict(correct=True, value=[0.5], truth=0.5)
    assert verdict.truth_text == "0.5"


def test_numpy_truths_are_accepted():
    np = pytest.importorskip("numpy")
    ex = exercise(np.array([0.25, -1.0]))
    assert check("0.25 -1", ex).correct


def test_unparseable_answers_are_never_graded():
    with pytest.raises(ParseError):
        check("one half", exercise(0.5))


# --- slips -------------------------------------------------------------------------------


def test_a_named_slip_is_recognised():
    ex = exercise([1.5, -2.0], slips={"ReLU mask forgotten": [1.5, 2.0]})
    verdict = check("1.5 2", ex)
    assert not verdict.correct
    assert verdict.slip == "ReLU mask forgotten"


def test_sign_flip_is_generic():
    assert check("-0.75", exercise(0.75)).slip == "sign flipped"
    assert check("-1.5 2", exercise([1.5, -2.0])).slip == "sign flipped"
    assert check("-15", exercise(15, Tolerance(exact=True))).slip == "sign flipped"


def test_named_slips_come_before_the_sign_flip():
    ex = exercise(2.0, slips={"1/n missing": -2.0})
    assert check("-2", ex).slip == "1/n missing"


def test_no_slip_for_a_right_answer_or_an_unexplained_one():
    ex = exercise(0.75, slips={"p instead of 1/p": 0.1875})
    assert likely_slip(0.75, ex) is None
    assert check("0.5", ex).slip is None
    assert check("0.1875", ex).slip == "p instead of 1/p"


def test_a_zero_answer_has_no_sign_flip():
    assert check("0.5", exercise(0.0)).slip is None


# --- formatting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.5, "0.5"),
        (1 / 3, "0.333333"),
        (-2 / 3, "-0.666667"),
        (123456789.0, "1.23457e+08"),
        (1e-7, "1e-07"),
        (-0.0, "0"),
        (15, "15"),
        ([0.1, -0.25], "[0.1, -0.25]"),
        ([[1.0, 2.0], [3.0, 4.5]], "[[1, 2], [3, 4.5]]"),
    ],
)
def test_format_value_to_six_significant_figures(value, text):
    assert format_value(value) == text


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=6))
@settings(max_examples=60)
def test_formatted_truth_reads_back_as_correct(values):
    ex = exercise(values if len(values) > 1 else values[0])
    assert check(format_value(ex.answer), ex).correct


def test_shape_of():
    assert shape_of(1.0) == ()
    assert shape_of([1.0, 2.0]) == (2,)
    assert shape_of([[1.0, 2.0, 3.0]] * 2) == (2, 3)


# --- robustness --------------------------------------------------------------------------

_ANSWER_ALPHABET = st.sampled_from([*"0123456789.,;:+-−eE/ []()\t\nx_٣", "1e999", "nan"])


@given(st.text())
@settings(max_examples=300)
def test_any_text_raises_nothing_but_parse_error(text):
    with contextlib.suppress(ParseError):
        parse(text)


@given(st.lists(_ANSWER_ALPHABET, max_size=40).map("".join))
@settings(max_examples=300)
def test_number_like_text_raises_nothing_but_parse_error(text):
    try:
        value = parse(text)
    except ParseError:
        return
    assert len(shape_of(value)) <= 2
    with contextlib.suppress(WrongShape):  # grading what parsed raises nothing else either
        check(text, exercise([1.0, 2.0]))


@given(st.text(min_size=MAX_CHARS + 1, max_size=MAX_CHARS + 50))
@settings(max_examples=10)
def test_long_text_raises_nothing_but_parse_error(text):
    with pytest.raises(ParseError):
        parse(text)
