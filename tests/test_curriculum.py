"""New cards come in teaching order: stages of decks, interleaved within a stage."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from typer.testing import CliRunner

from drill.cli import app
from drill.decks.curriculum import Curriculum, Stage, load_curriculum
from drill.decks.loader import load_collection
from drill.home.config import Config
from drill.model import Card, CardType
from drill.review.session import Session
from drill.review.store import Store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def cards_of(deck_id: str, count: int) -> list[Card]:
    return [Card(deck_id, f"c{i}", q=f"{deck_id} {i}?", a="A.") for i in range(count)]


def test_every_builtin_deck_has_one_place_and_every_listed_deck_exists():
    curriculum = load_curriculum()
    listed = [deck for stage in curriculum.stages for deck in stage.decks]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(deck.id for deck in load_collection().decks)


def test_decks_of_a_stage_interleave_at_the_pace_of_their_size():
    curriculum = Curriculum((Stage("one", ("a", "b")), Stage("two", ("c",))))
    cards = cards_of("c", 2) + cards_of("b", 2) + cards_of("a", 4)
    ordered = [card.key for card in curriculum.teaching_order(cards)]
    assert ordered == ["a/c0", "b/c0", "a/c1", "a/c2", "b/c1", "a/c3", "c/c0", "c/c1"]


def test_unlisted_decks_join_the_first_stage_after_its_listed_decks():
    curriculum = Curriculum((Stage("one", ("a",)), Stage("two", ("b",))))
    ordered = curriculum.teaching_order(cards_of("b", 1) + cards_of("mine", 1) + cards_of("a", 1))
    assert [card.key for card in ordered] == ["a/c0", "mine/c0", "b/c0"]
    assert str(curriculum.place("mine")) == "1 (your decks)"
    assert str(curriculum.place("b")) == "2 two"


def test_a_fresh_home_starts_with_intro_and_mixes_decks_and_a_compute_card(tmp_path):
    collection = load_collection()
    cards = load_curriculum().teaching_order(collection.cards())
    with Store(tmp_path / "drill.db") as store:
        session = Session(store, cards, Config(), clock=lambda: NOW)
        first = session.queue[:20]
    assert len(first) == 20
    assert first[0].deck_id == "intro"
    assert len({card.deck_id for card in first}) >= 3
    assert any(card.type is CardType.COMPUTE for card in first)


def test_study_shows_an_intro_card_first_in_a_fresh_home():
    result = CliRunner().invoke(app, ["study", "--new", "1"], input="\n3\nq\n")
    assert result.exit_code == 0, result.output
    assert re.search(r" intro/[a-z0-9-]+ ", result.stdout)


def test_drill_decks_lists_each_deck_with_its_stage_in_teaching_order():
    result = CliRunner().invoke(app, ["decks"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["ID", "TITLE", "CARDS", "STAGE", "SOURCE"]
    assert lines[1].startswith("intro ") and "1 Foundations" in lines[1]


def test_the_parsed_curriculum_is_kept_in_the_deck_cache_by_its_checksum(tmp_path, monkeypatch):
    """Read from the deck cache while the file is unchanged (TOML's parser is not asked);
    parsed again as soon as its bytes change, whatever its size and date."""
    from drill.decks import curriculum as module
    from drill.decks.cache import DeckCache

    Store.open().close()  # a home in use: drill keeps a deck cache only there
    path = tmp_path / "curriculum.toml"
    path.write_text('[[stage]]\nname = "one"\ndecks = ["a", "b"]\n', encoding="utf-8")
    parsed = []
    real = module._parse
    monkeypatch.setattr(module, "_parse", lambda *a: parsed.append(1) or real(*a))

    def load() -> Curriculum:
        with DeckCache() as cache:
            return load_curriculum(path, cache)

    first = load()
    assert load() == first == Curriculum((Stage("one", ("a", "b")),))
    assert len(parsed) == 1  # the second came from the cache
    path.write_text('[[stage]]\nname = "one"\ndecks = ["b", "a"]\n', encoding="utf-8")
    assert load().stages[0].decks == ("b", "a") and len(parsed) == 2
    assert load().stages[0].decks == ("b", "a") and len(parsed) == 2
