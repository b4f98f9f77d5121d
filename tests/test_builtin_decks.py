"""The built-in decks: each lints clean and meets the content rules every card must keep.

Plain yaml.safe_load is used wherever the loader is not the point, so a loader bug cannot
hide a content problem (and the other way round).
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from drill.decks.loader import check_deck, load_collection
from drill.home.paths import builtin_decks_dir
from drill.model import CardType

MAX_ANSWER_WORDS = 120  # longer answers should be split into several cards
MAX_PROMPT_WORDS = 50  # a reversed card asks its answer: it must read as a question
MAX_TYPED_WORDS = 6  # a typed answer is short: a number, a term
MIN_NEW_TYPE_CARDS = 60  # cloze, choice, typed-answer and reversed cards across the decks
MIN_EACH_NEW_TYPE = 5
MIN_DECKS = 30
MIN_BASIC_CARDS = 1000
MIN_BASIC_CARDS_PER_NEW_DECK = 25

DECK_FILES = sorted(builtin_decks_dir().glob("*.yaml"))


@cache
def raw_deck(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def is_basic(card: dict[str, Any]) -> bool:
    return card.get("type", CardType.BASIC.value) == CardType.BASIC.value


def basic_cards(path: Path) -> list[dict[str, Any]]:
    return [card for card in raw_deck(path)["cards"] if is_basic(card)]


def card_type(card: dict[str, Any]) -> str:
    return card.get("type", CardType.BASIC.value)


def questions_of(card: dict[str, Any]) -> list[str]:
    """What the card asks: its question, a cloze card's text, and for a reversed card its
    answer too (the reverse asks it)."""
    kind = card_type(card)
    if kind == CardType.CLOZE.value:
        return [str(card["text"])]
    if kind in (CardType.BASIC.value, CardType.CHOICE.value):
        return [str(card["q"]), *([str(card["a"])] if card.get("reverse") else [])]
    return []


def answer_of(card: dict[str, Any]) -> str | None:
    """The text shown as the answer, if the card has one of its own (a cloze card's answer
    is its text, already counted as its question; a compute card's is generated)."""
    kind = card_type(card)
    if kind == CardType.BASIC.value:
        return str(card["a"])
    if kind in (CardType.CLOZE.value, CardType.CHOICE.value) and card.get("a"):
        return str(card["a"])
    return None


def revealed_words(card: dict[str, Any]) -> int:
    """How many words the answer side shows."""
    kind = card_type(card)
    if kind == CardType.CLOZE.value:
        return len(f"{card['text']} {card.get('a') or ''}".split())
    if kind == CardType.CHOICE.value:
        answers = card["answer"] if isinstance(card["answer"], list) else [card["answer"]]
        return len(" ".join([*map(str, answers), str(card.get("a") or "")]).split())
    return len(str(card.get("a") or "").split())


def normalised(text: str) -> str:
    """Answers that differ only in spacing or case count as the same answer."""
    return " ".join(text.split()).casefold()


def test_builtin_decks_are_found():
    assert DECK_FILES, f"no *.yaml in {builtin_decks_dir()}"


@pytest.fixture(params=DECK_FILES, ids=lambda path: path.stem)
def deck_file(request) -> Path:
    return request.param


def test_deck_lints_clean(deck_file):
    deck, errors = check_deck(deck_file)
    assert [str(error) for error in errors] == []
    assert deck is not None and deck.cards


def test_deck_id_matches_file_name(deck_file):
    # One deck per file, named after its id, so `drill show DECK/CARD` points at the file.
    assert raw_deck(deck_file)["id"] == deck_file.stem


def test_card_ids_are_unique_within_deck(deck_file):
    counts = Counter(card["id"] for card in raw_deck(deck_file)["cards"])
    assert [card_id for card_id, n in counts.items() if n > 1] == []


def test_every_card_has_ref_and_tags(deck_file):
    cards = raw_deck(deck_file)["cards"]
    assert [card["id"] for card in cards if not str(card.get("ref") or "").strip()] == []
    assert [card["id"] for card in cards if not card.get("tags")] == []


def test_basic_cards_have_question_and_answer(deck_file):
    empty = [
        card["id"]
        for card in basic_cards(deck_file)
        if not str(card.get("q") or "").strip() or not str(card.get("a") or "").strip()
    ]
    assert empty == []


def test_answers_are_short(deck_file):
    too_long = {
        card["id"]: words
        for card in raw_deck(deck_file)["cards"]
        if (words := revealed_words(card)) > MAX_ANSWER_WORDS
    }
    assert too_long == {}


def test_cloze_and_choice_cards_have_what_they_ask_with(deck_file):
    cards = raw_deck(deck_file)["cards"]
    clozes = [c for c in cards if card_type(c) == CardType.CLOZE.value]
    choices = [c for c in cards if card_type(c) == CardType.CHOICE.value]
    assert [c["id"] for c in clozes if "{{c1::" not in str(c.get("text") or "")] == []
    assert [c["id"] for c in choices if not c.get("q") or len(c.get("choices") or ()) < 2] == []


def test_reversed_and_typed_answers_are_short(deck_file):
    cards = basic_cards(deck_file)
    long_prompts = [
        c["id"] for c in cards if c.get("reverse") and len(str(c["a"]).split()) > MAX_PROMPT_WORDS
    ]
    long_typed = [
        c["id"]
        for c in cards
        if "type_answer" in c and len(str(c["type_answer"]).split()) > MAX_TYPED_WORDS
    ]
    assert (long_prompts, long_typed) == ([], [])


def test_deck_ids_are_unique():
    counts = Counter(raw_deck(path)["id"] for path in DECK_FILES)
    assert [deck_id for deck_id, n in counts.items() if n > 1] == []


def test_no_answer_is_repeated():
    owners: dict[str, list[str]] = {}
    for path in DECK_FILES:
        deck_id = raw_deck(path)["id"]
        for card in raw_deck(path)["cards"]:
            if (answer := answer_of(card)) is not None:
                owners.setdefault(normalised(answer), []).append(f"{deck_id}/{card['id']}")
    assert [keys for keys in owners.values() if len(keys) > 1] == []


def test_no_question_is_repeated():
    # A reversed card asks its answer, so that counts as a question too.
    owners: dict[str, list[str]] = {}
    for path in DECK_FILES:
        deck_id = raw_deck(path)["id"]
        for card in raw_deck(path)["cards"]:
            for question in questions_of(card):
                owners.setdefault(normalised(question), []).append(f"{deck_id}/{card['id']}")
    assert [keys for keys in owners.values() if len(keys) > 1] == []


def test_collection_loads_every_builtin_deck():
    # What `drill study` sees with an empty DRILL_HOME: all built-in decks and no warnings.
    collection = load_collection()
    assert [str(error) for error in collection.errors] == []
    assert sorted(deck.id for deck in collection.decks) == sorted(
        raw_deck(path)["id"] for path in DECK_FILES
    )


def test_enough_decks():
    assert len(DECK_FILES) >= MIN_DECKS


def test_enough_basic_cards():
    total = sum(len(basic_cards(path)) for path in DECK_FILES)
    assert total >= MIN_BASIC_CARDS


def test_the_decks_use_the_other_ways_of_asking():
    # Definitions as cloze, "which of these" as choice, numbers and terms typed, terms both ways.
    kinds: Counter[str] = Counter()
    for path in DECK_FILES:
        for card in raw_deck(path)["cards"]:
            kind = card_type(card)
            if kind in (CardType.CLOZE.value, CardType.CHOICE.value):
                kinds[kind] += 1
            elif kind == CardType.BASIC.value:
                kinds.update(k for k in ("type_answer", "reverse") if card.get(k))
    assert sum(kinds.values()) >= MIN_NEW_TYPE_CARDS, kinds
    assert min(kinds[k] for k in ("cloze", "choice", "type_answer", "reverse")) >= MIN_EACH_NEW_TYPE


def test_the_readme_table_lists_every_deck_with_its_card_count():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- deck table: start -->", "<!-- deck table: end -->"
    table = readme[readme.index(start) : readme.index(end)]
    listed = {
        cells[1].strip("` "): int(cells[2])
        for line in table.splitlines()[3:]
        if (cells := [cell.strip() for cell in line.strip("|").split("|")])
    }
    assert listed == {raw_deck(path)["id"]: len(raw_deck(path)["cards"]) for path in DECK_FILES}
