"""Cloze, multiple-choice, typed-answer and reversed cards: the deck format and its lint
errors, the cards each schedules, sibling burying, checking answers, the study screen,
and the round trips through the parse cache, JSON and Anki."""

from __future__ import annotations

import json
import random
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.decks import cloze
from drill.decks.cache import DeckCache, stamp_file
from drill.decks.loader import check_deck, load_deck, load_sources
from drill.decks.scheduled import scheduled, scheduled_cards
from drill.exchange.export import Format, render
from drill.exchange.jsonfmt import parse_json, render_json
from drill.exercises.choice import BadPick, check_picks, parse_picks, shuffled
from drill.exercises.typed_answer import Piece, check_typed
from drill.home.config import Config
from drill.model import Card, CardState, CardType, Deck, Rating
from drill.review.session import Session
from drill.review.siblings import bury_siblings
from drill.review.store import CardRecord, Review, Store

DECK = textwrap.dedent(
    """\
    id: types
    title: Card types
    cards:
      - id: softmax
        type: cloze
        text: 'Softmax maps {{c1::logits::scores}} to {{c2::probability}}: $p_i \\propto e^{z_i}$.'
        a: Subtract the max first.
        tags: [definition]
        ref: Goodfellow et al. (2016), §6.2.2.3
      - id: convex
        type: choice
        q: Which of these losses is convex in the logits?
        choices: [Cross-entropy, 0-1 loss, Sigmoid then MSE]
        answer: Cross-entropy
        a: Log-sum-exp is convex.
      - id: optimizers
        type: choice
        q: Which of these are optimizers?
        choices: [Adam, ReLU, SGD]
        answer: [Adam, SGD]
        multiple: true
      - id: adam-year
        q: In which year was Adam first posted on arXiv?
        a: 2014, by Kingma and Ba.
        type_answer: "2014"
        accept: [December 2014]
      - id: relu
        q: What is ReLU?
        a: $\\max(0, x)$
        reverse: true
    """
)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def write(folder: Path, text: str, name: str = "types.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def deck(tmp_path) -> Deck:
    return load_deck(write(tmp_path / "decks", DECK))


def errors_of(tmp_path: Path, cards: str) -> list[str]:
    path = write(tmp_path, "id: d\ntitle: D\ncards:\n" + cards)
    _, errors = check_deck(path)
    return [str(error).replace(str(path), "F") for error in errors]


# -- the deck format ---------------------------------------------------------------------


def test_each_type_is_read_with_its_fields(deck):
    softmax, convex, optimizers, adam, relu = deck.cards
    assert softmax.type is CardType.CLOZE
    assert softmax.text.startswith("Softmax maps {{c1::logits::scores}}")
    assert softmax.a == "Subtract the max first."
    assert (convex.type, convex.choices, convex.answers, convex.multiple) == (
        CardType.CHOICE,
        ("Cross-entropy", "0-1 loss", "Sigmoid then MSE"),
        ("Cross-entropy",),
        False,
    )
    assert (optimizers.answers, optimizers.multiple) == (("Adam", "SGD"), True)
    assert (adam.type, adam.type_answer, adam.accept) == (
        CardType.BASIC,
        "2014",
        ("December 2014",),
    )
    assert relu.reverse and not adam.reverse


def test_each_deletion_and_each_reverse_is_a_card_of_its_own(deck):
    keys = [card.key for card in scheduled_cards(deck.cards)]
    assert keys == [
        "types/softmax#c1",
        "types/softmax#c2",
        "types/convex",
        "types/optimizers",
        "types/adam-year",
        "types/relu",
        "types/relu#reverse",
    ]
    reverse = scheduled(deck.cards[4])[1]
    assert (reverse.q, reverse.a, reverse.note_key) == (
        "$\\max(0, x)$",
        "What is ReLU?",
        "types/relu",
    )


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        (
            "  - id: c\n    type: cloze\n    text: No deletion here.\n",
            "F:6:11: card 'c': a cloze card needs a deletion, like {{c1::answer}}",
        ),
        (
            "  - id: c\n    type: cloze\n    text: The {{c1:chain rule}}.\n",
            "F:6:11: card 'c': a deletion's number is followed by two colons, as in"
            " {{c1::…}}, not '{{c1:'",
        ),
        (
            "  - id: c\n    type: cloze\n    text: The {{c1::chain rule.\n",
            "F:6:11: card 'c': {{c1:: is never closed with '}}'",
        ),
        (
            "  - id: c\n    type: cloze\n    q: Why?\n    text: The {{c1::rule}}.\n",
            "F:6:8: card 'c': a cloze card has no 'q': its question is the 'text', with deletions",
        ),
        (
            "  - id: c\n    type: choice\n    q: Q?\n    choices: [Adam, SGD]\n    answer: Adma\n",
            "F:8:13: card 'c': answer 'Adma' is not one of the choices (did you mean 'Adam'?)",
        ),
        (
            "  - id: c\n    type: choice\n    q: Q?\n    choices: [Adam]\n    answer: Adam\n",
            "F:7:14: card 'c': a choice card needs at least 2 choices",
        ),
        (
            "  - id: c\n    type: choice\n    q: Q?\n    choices: [A, B]\n    answer: [A, B]\n",
            "F:8:13: card 'c': several answers need 'multiple: true'",
        ),
        (
            "  - id: c\n    type: choice\n    q: Q?\n    choices: [A, B, a]\n    answer: A\n",
            "F:7:21: card 'c': choice 'a' is listed twice (first at line 7)",
        ),
        (
            "  - id: c\n    type: choice\n    q: Q?\n    answer: A\n",
            "F:4:5: card 'c': missing 'choices'",
        ),
        (
            "  - id: c\n    type: cloze\n    text: '{{c1::x}}'\n    type_answer: x\n",
            "F:7:18: card 'c': only basic cards take 'type_answer' (remove 'type: cloze')",
        ),
        (
            "  - id: c\n    q: Q?\n    a: A.\n    choices: [A, B]\n",
            "F:7:14: card 'c': only choice cards take 'choices' (add 'type: choice')",
        ),
        (
            "  - id: c\n    q: Q?\n    a: A.\n    reverse: yes please\n",
            "F:7:14: card 'c': 'reverse' must be true or false, not 'yes please'",
        ),
        (
            "  - id: c\n    q: Q?\n    a: A.\n    accept: [B]\n",
            "F:7:13: card 'c': 'accept' lists other typed answers: add 'type_answer'",
        ),
        (
            "  - id: c\n    q: Q?\n    a: A.\n    type_answer: |\n      two\n      lines\n",
            "F:7:18: card 'c': 'type_answer' must be one line",
        ),
    ],
    ids=[
        "cloze-no-deletion",
        "cloze-one-colon",
        "cloze-unclosed",
        "cloze-with-q",
        "choice-answer-not-a-choice",
        "choice-one-choice",
        "choice-several-answers",
        "choice-twice",
        "choice-no-choices",
        "typed-on-cloze",
        "choices-on-basic",
        "reverse-not-bool",
        "accept-alone",
        "typed-two-lines",
    ],
)
def test_mistakes_are_lint_errors_at_file_line_column(tmp_path, cards, expected):
    assert expected in errors_of(tmp_path, cards)


def test_lint_reports_the_new_types_through_the_command(tmp_path):
    path = write(tmp_path, "id: d\ntitle: D\ncards:\n  - id: c\n    type: cloze\n    text: x\n")
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{path}:6:11: card 'c': a cloze card needs a deletion, like {{{{c1::answer}}}}"
    )


# -- cloze deletions --------------------------------------------------------------------


def test_deletions_with_hints_numbers_and_math_that_holds_braces():
    text = r"Scale by {{c2::$\frac{1}{\sqrt{d_k}}$::a factor}} after {{c1::QK^T}} and {{c2::x}}."
    deletions = cloze.parse(text)
    assert [(d.number, d.answer, d.hint) for d in deletions] == [
        (2, r"$\frac{1}{\sqrt{d_k}}$", "a factor"),
        (1, "QK^T", None),
        (2, "x", None),
    ]
    assert cloze.numbers(text) == (1, 2)
    shown = cloze.render(text, 2, hidden=cloze.blank)
    assert shown == "Scale by [a factor] after QK^T and […]."


def test_nested_and_empty_deletions_are_refused():
    messages = [problem.message for problem in cloze.problems("{{c1::a {{c2::b}} c}} {{c3::}}")]
    assert messages == ["deletions cannot be nested in one another", "deletion c3 is empty"]
    assert cloze.problems("{{code}} and {{ other }} are not deletions") == []


# -- answers: choices and typed ---------------------------------------------------------


def test_choices_come_in_a_fresh_order_drawn_from_the_rng():
    choices = [f"choice {n}" for n in range(6)]
    orders = {tuple(shuffled(choices, random.Random(seed))) for seed in range(20)}
    assert len(orders) > 10
    assert shuffled(choices, random.Random(3)) == shuffled(choices, random.Random(3))
    assert sorted(shuffled(choices, random.Random(3))) == choices


@pytest.mark.parametrize(
    ("typed", "count", "multiple", "picks"),
    [
        ("2", 3, False, (2,)),
        ("1 3", 3, True, (1, 3)),
        ("3,1", 3, True, (3, 1)),
        ("13", 4, True, (1, 3)),
    ],
)
def test_picks_are_read_by_number(typed, count, multiple, picks):
    assert parse_picks(typed, count, multiple) == picks


@pytest.mark.parametrize(
    ("typed", "multiple"), [("4", False), ("0", False), ("a", False), ("1 2", False)]
)
def test_a_pick_that_is_no_choice_is_asked_again(typed, multiple):
    with pytest.raises(BadPick):
        parse_picks(typed, 3, multiple)


def test_a_choice_answer_is_right_only_with_every_right_choice_and_no_other():
    shown = ["SGD", "ReLU", "Adam"]
    assert check_picks(shown, [1, 3], ("Adam", "SGD")).correct
    partly = check_picks(shown, [1], ("Adam", "SGD"))
    assert (partly.correct, partly.missed, partly.wrong) == (False, ("Adam",), ())
    wrong = check_picks(shown, [1, 2, 3], ("Adam", "SGD"))
    assert (wrong.correct, wrong.wrong) == (False, ("ReLU",))


@pytest.mark.parametrize(
    ("typed", "canonical", "right"),
    [
        ("  Cross-Entropy ", "cross entropy", True),
        ("ＲｅＬＵ", "ReLU", True),  # full-width letters, NFKC
        ("0.50", "1/2", True),
        (".5", "0.5", True),
        ("1,000", "1000", True),
        ("1e-3", "0.001", True),
        ("0.6931", "0.693", True),  # rounds to the precision asked
        ("0.69", "0.693", False),  # less precise than asked
        ("0.333", "1/3", True),
        ("0.3", "1/3", False),
        ("7.0", "7", True),
        ("6.9", "7", False),
        ("√d", "sqrt d", False),  # symbols count
        ("Adam", "AdamW", False),
        ("x - 1", "x-1", True),
    ],
)
def test_typed_answers_are_normalised_and_numbers_compared_as_numbers(typed, canonical, right):
    assert check_typed(typed, canonical).correct is right


def test_an_accepted_alternative_is_right_and_named():
    verdict = check_typed("december 2014", "2014", ["December 2014"])
    assert (verdict.correct, verdict.matched) == (True, "December 2014")


def test_the_diff_marks_wrong_and_missing_characters_ignoring_case():
    verdict = check_typed("cros Entropy", "Cross-entropy")
    assert verdict.typed == (Piece("cros", True), Piece(" ", False), Piece("Entropy", True))
    assert verdict.expected == (Piece("Cros", True), Piece("s-", False), Piece("entropy", True))
    assert check_typed("RELU", "ReLU").exact


# -- scheduling: sibling cards are buried ------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def session(store, cards, clock, **kwargs) -> Session:
    config = Config(new_per_day=20, learning_steps=("10m",))
    return Session(store, cards, config, clock=clock, rng=random.Random(1), **kwargs)


def test_one_card_of_a_note_a_day_and_the_sibling_the_next_day(store, deck):
    cards = scheduled_cards(deck.cards)
    clock = Clock(NOW)
    first = session(store, cards, clock)
    shown = [card.key for card in first.queue]
    assert shown == [
        "types/softmax#c1",
        "types/convex",
        "types/optimizers",
        "types/adam-year",
        "types/relu",
    ]
    first.answer(first.next_card(), Rating.EASY)  # c1 goes to review, days away
    assert "types/softmax#c2" not in [card.key for card in first.queue]
    # A new session the same day still holds c2 back: its sibling was reviewed today.
    assert "types/softmax#c2" not in [card.key for card in session(store, cards, clock).queue]
    clock.now = NOW + timedelta(days=1)
    assert "types/softmax#c2" in [card.key for card in session(store, cards, clock).queue]


def test_answering_a_card_buries_its_sibling_and_undo_brings_it_back(store):
    note = Card("d", "relu", q="What is ReLU?", a="max(0, x)", reverse=True)
    forward, backward = scheduled(note)
    clock = Clock(NOW)
    # The reverse was studied yesterday and is due today; the forward card is new.
    then = NOW - timedelta(days=3)
    after = CardRecord(backward.key, CardState.REVIEW, None, 3.0, 5.0, NOW, then, 1)
    store.record(
        Review(backward.key, then, Rating.GOOD, CardState.NEW, CardState.REVIEW, NOW), after
    )
    run = session(store, [forward, backward], clock)
    assert [card.key for card in run.queue] == ["d/relu#reverse"]  # one of the two
    answered = run.answer(run.next_card(), Rating.GOOD)
    assert answered.buried == ()
    assert run.next_card() is None
    assert run.finish().remaining == 0  # the buried forward card is not "still due"
    run.undo()
    assert [card.key for card in run._front + run.queue] == ["d/relu#reverse"]


def test_learning_siblings_are_never_buried():
    note = Card("d", "c", type=CardType.CLOZE, text="{{c1::a}} {{c2::b}}")
    c1, c2 = scheduled(note)
    learning = CardRecord(c2.key, CardState.LEARNING, 0, 1.0, 5.0, NOW, NOW, 1)
    kept = bury_siblings([c1, c2], {c2.key: learning}, {c2.key}, NOW + timedelta(hours=8))
    assert [card.key for card in kept] == ["d/c#c2"]  # c1 (new) waits; c2 keeps its steps


def test_due_counts_leave_buried_siblings_out(tmp_path, monkeypatch):
    write(tmp_path / "decks", DECK)
    monkeypatch.setenv("DRILL_DECKS", str(tmp_path / "decks"))
    result = CliRunner().invoke(app, ["due", "types"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split() == ["types", "5", "0", "0", "0"]


# -- the study screen, scripted ----------------------------------------------------------


@pytest.fixture
def one_card(tmp_path, monkeypatch):
    """Write a deck holding one card (YAML lines under `cards:`) where study finds it."""

    def make(card: str) -> None:
        write(tmp_path / "decks", "id: t\ntitle: T\ncards:\n" + textwrap.dedent(card))
        monkeypatch.setenv("DRILL_DECKS", str(tmp_path / "decks"))

    return make


def reviews():
    with Store.open() as store:
        return store.reviews()


def test_a_right_choice_proposes_good_and_logs_the_choice(one_card, monkeypatch):
    one_card(
        """\
        - id: c
          type: choice
          q: Which one is an optimizer?
          choices: [ReLU, Adam, Dropout]
          answer: Adam
        """
    )
    # The order is drawn afresh at each review; pinned here to the reverse of the file's.
    monkeypatch.setattr("drill.exercises.choice.shuffled", lambda choices, rng: list(choices)[::-1])
    result = CliRunner().invoke(app, ["study", "t"], input="2\n\n")
    assert " 1. Dropout\n" in result.output.replace(" │", "").replace("│", "")
    assert "✓ Correct." in result.output
    assert " ✓ 2. Adam  ← yours" in result.output
    assert "Enter: good" in result.output
    assert [(r.key, r.rating, r.answer, r.correct) for r in reviews()] == [
        ("t/c", Rating.GOOD, "Adam", True)
    ]
    assert "Answers checked: 1 of 1 correct." in result.output


def test_a_wrong_typed_answer_shows_the_diff_and_proposes_again(one_card):
    one_card(
        """\
        - id: c
          q: Name the loss of logistic regression.
          a: The **binary cross-entropy** (log loss).
          type_answer: binary cross-entropy
        """
    )
    result = CliRunner().invoke(app, ["study", "t"], input="binary entropy\n\n")
    assert result.exit_code == 0, result.output
    assert "✗ Not quite." in result.output
    assert "   typed: binary entropy" in result.output
    assert "expected: binary cross-entropy" in result.output
    assert "Enter: again" in result.output
    assert [(r.rating, r.answer, r.correct) for r in reviews()] == [
        (Rating.AGAIN, "binary entropy", False)
    ]


def test_a_cloze_card_hides_its_deletion_until_revealed(one_card):
    one_card(
        """\
        - id: c
          type: cloze
          text: "Backprop applies the {{c1::chain rule}} from the {{c2::loss}} backwards."
        """
    )
    result = CliRunner().invoke(app, ["study", "t", "--new", "1"], input="\n3\n")
    question, _, answer = result.output.partition("Enter: show answer")
    assert "Backprop applies the […] from the loss backwards." in question
    assert "chain rule" not in question
    assert "Backprop applies the chain rule from the loss backwards." in answer
    assert [(r.key, r.rating) for r in reviews()] == [("t/c#c1", Rating.GOOD)]


# -- round trips: parse cache, JSON, Anki -------------------------------------------------


def test_the_parse_cache_gives_back_every_field(tmp_path, deck):
    path = deck.path
    with DeckCache(tmp_path / "cache.db") as cache:
        cache.put(stamp_file(path, 10**6), deck, None)
    with DeckCache(tmp_path / "cache.db") as cache:
        hit = cache.get(path, stamp_file(path, 10**6))
    assert hit is not None
    assert hit.deck == deck


def test_json_export_and_import_give_the_same_cards(tmp_path, deck, monkeypatch):
    again = parse_json(render_json([deck]))
    assert again[0].cards == deck.cards  # every field (positions in the file aside)
    # And through the commands: export, import under a new id, read back by lint.
    source = tmp_path / "decks"
    monkeypatch.setenv("DRILL_DECKS", str(source))
    exported = tmp_path / "types.json"
    result = CliRunner().invoke(app, ["export", "types", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document["decks"][0]["cards"][2]["answer"] == ["Adam", "SGD"]
    result = CliRunner().invoke(app, ["import", str(exported), "--id", "types-copy"])
    assert result.exit_code == 0, result.output
    copy = load_sources([Path(result.output.split(": ")[-1].strip())]).decks[0]
    assert [card.to_dict() for card in copy.cards] == [card.to_dict() for card in deck.cards]


anki_collection = pytest.importorskip("anki.collection")


def import_into_anki(tmp_path, decks):
    rendered = render(decks, Format.APKG, timestamp=1_700_000_000.0)
    package = tmp_path / "cards.apkg"
    package.write_bytes(rendered.content)
    col = anki_collection.Collection(str(tmp_path / "collection.anki2"))
    request = anki_collection.ImportAnkiPackageRequest(
        package_path=str(package), options=anki_collection.ImportAnkiPackageOptions()
    )
    col.import_anki_package(request)
    return col


def anki_note(col, key):
    (note_id,) = col.find_notes(f'"Key:{key}"')
    return col.get_note(note_id)


def test_each_type_imports_into_anki_as_its_note_type(tmp_path, deck):
    col = import_into_anki(tmp_path, [deck])
    try:
        assert col.note_count() == 5
        softmax = anki_note(col, "types/softmax")
        assert softmax.note_type()["name"] == "drill cloze"
        assert softmax.note_type()["type"] == 1  # MODEL_CLOZE
        assert len(softmax.cards()) == 2  # one per deletion
        assert softmax["Text"] == (
            "<p>Softmax maps {{c1::logits::scores}} to {{c2::probability}}:"
            " \\(p_i \\propto e^{z_i}\\).</p>"
        )
        assert "[scores]" in softmax.cards()[0].question()

        convex = anki_note(col, "types/convex")
        assert convex.note_type()["name"] == "drill"
        assert '<ol class="choices"><li>Cross-entropy</li>' in convex["Question"]
        assert convex["Answer"].startswith(
            '<p class="result">Answer: <strong>Cross-entropy</strong>'
        )

        typed = anki_note(col, "types/adam-year")
        assert typed.note_type()["name"] == "drill typed"
        assert typed["Typed"] == "2014"
        assert "{{type:Typed}}" in typed.note_type()["tmpls"][0]["qfmt"]
        assert len(typed.cards()) == 1  # no reverse asked

        relu = anki_note(col, "types/relu")
        assert relu.note_type()["name"] == "drill reversed"
        assert len(relu.cards()) == 2
        assert relu["Answer"] == "<p>\\(\\max(0, x)\\)</p>"
        assert col.card_count() == 2 + 1 + 1 + 1 + 2
    finally:
        col.close()


def test_a_cloze_formula_ending_in_braces_keeps_its_deletion_whole_in_anki(tmp_path):
    card = Card("m", "scale", type=CardType.CLOZE, text=r"Divide by {{c1::$\sqrt{d_{k}}$}}.")
    col = import_into_anki(tmp_path, [Deck("m", "Math", (card,))])
    try:
        note = anki_note(col, "m/scale")
        assert note["Text"] == r"<p>Divide by {{c1::\(\sqrt{d_{k} }\)}}.</p>"
        answer = note.cards()[0].answer()
        assert r"\(\sqrt{d_{k} }\)" in answer
    finally:
        col.close()


# -- the keys of cloze and reversed cards across the store, stats, doctor, renames ---------


def test_u_s_and_q_alone_at_the_typed_prompt_are_keys(one_card):
    one_card(
        """\
        - id: c
          q: Name the loss of logistic regression.
          a: The binary cross-entropy.
          type_answer: binary cross-entropy
        """
    )
    result = CliRunner().invoke(app, ["study", "t"], input="s\n")
    assert "Suspended t/c." in result.output
    with Store.open() as store:
        assert store.card("t/c").suspended
    assert reviews() == []


def test_stats_and_doctor_count_each_deletion_as_a_card(tmp_path, monkeypatch):
    write(tmp_path / "decks", DECK)
    monkeypatch.setenv("DRILL_DECKS", str(tmp_path / "decks"))
    CliRunner().invoke(app, ["study", "types", "--new", "1"], input="\n3\nq\n")  # softmax#c1
    stats = json.loads(CliRunner().invoke(app, ["stats", "types", "--json"]).output)
    assert stats["cards"]["total"] == 7  # 2 deletions, 2 choice, 1 typed, 1 card + reverse
    assert stats["cards"]["learning"] == 1
    doctor = CliRunner().invoke(app, ["doctor"])
    assert "orphaned" not in doctor.output


def test_a_renamed_cloze_card_keeps_each_deletions_history(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    old = "id: r\ntitle: R\ncards:\n  - id: old\n    type: cloze\n    text: '{{c1::a}} {{c2::b}}'\n"
    write(folder, old, "r.yaml")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    CliRunner().invoke(app, ["study", "r", "--new", "1"], input="\n3\nq\n")
    write(folder, old.replace("id: old", "id: new\n    was: old"), "r.yaml")
    result = CliRunner().invoke(app, ["show", "r/new#c1"])
    assert result.exit_code == 0, result.output
    assert "good" in result.output  # the review made under r/old#c1
    with Store.open() as store:
        assert store.card("r/new#c1") is not None and store.card("r/old#c1") is None
