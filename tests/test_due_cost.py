"""A study session's queue and closing summary cost what a day shows, not the backlog.

A large home holds more due than a day takes: 16,000 overdue reviews and 11,000 new cards
at 100,000 cards, for 200 reviews and 20 new cards a day. A session's summary counts the
reviews due today only up to one past what is left of the day's limit, and the day's
first new cards are sorted from the front of the study index's list of new cards, their
states read for those alone (drill.review.due). Checked without a clock: SQLite's
virtual-machine steps, which do not depend on the machine, as the backlog grows; and
the counts and queue against the card-by-card oracle, where the front of the list of new
cards holds cards that are not shown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from queue_support import oracle_build_queue, oracle_count_due, vm_steps

from drill.decks.index import StudyIndex, load_index
from drill.decks.loader import load_collection
from drill.home.config import Config
from drill.model import CardState
from drill.review.due import CardList, DueQuery
from drill.review.queue import day_end
from drill.review.session import Session
from drill.review.store import CardRecord, Store

NOW = datetime(2026, 5, 4, 15, 30, tzinfo=UTC)


def _home(tmp_path, monkeypatch, name: str, cards: int) -> StudyIndex:
    """A home in use whose one deck, `d`, holds `cards` plain cards, read from the deck
    cache's index (as every command after the first reads it), `d` chosen."""
    folder = tmp_path / name / "decks"
    folder.mkdir(parents=True)
    written = "".join(f"  - {{id: c{i:04d}, q: Q{i}?, a: A{i}.}}\n" for i in range(cards))
    (folder / "d.yaml").write_text(f"id: d\ntitle: D\ncards:\n{written}", encoding="utf-8")
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / name / "home"))
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    Store.open().close()  # a home in use: drill keeps a deck cache only there
    load_index()  # parsed once, then cached
    index = load_index()
    index.select(["d"])
    return index


def _deck_cards():
    return next(deck for deck in load_collection().decks if deck.id == "d").cards


def _overdue(key: str, days: int = 1) -> CardRecord:
    due = NOW - timedelta(days=days)
    return CardRecord(key, CardState.REVIEW, None, 5.0, 5.0, due, due - timedelta(days=5), 3)


def _summary_steps(tmp_path, monkeypatch, backlog: int) -> int:
    index = _home(tmp_path, monkeypatch, f"backlog{backlog}", backlog)
    config = Config(reviews_per_day=10)
    with Store.open() as store:
        store.replace_states(_overdue(card.key) for card in _deck_cards())
        with DueQuery(store, index, NOW, config) as query:
            assert query.kept  # counted from the index's own lists, as drill study does
            total = query.total()
            assert total == query.counts()[1]  # what `drill due` shows in all
            assert (total.review, total.next_due) == (10, day_end(NOW, config.rollover_hour))
            return vm_steps(store, query.total)


def test_a_summary_counts_the_reviews_a_day_lets_in_not_the_backlog(tmp_path, monkeypatch):
    # Counting each overdue review takes some 30 steps; counting up to the day's limit
    # takes the same steps however many wait behind it.
    more = _summary_steps(tmp_path, monkeypatch, 800) - _summary_steps(tmp_path, monkeypatch, 200)
    assert more / 600 < 1


def _new_queue_steps(tmp_path, monkeypatch, new: int) -> int:
    index = _home(tmp_path, monkeypatch, f"new{new}", new)
    with Store.open() as store, DueQuery(store, index, NOW, Config(new_per_day=5)) as query:
        assert query.kept
        assert len(query.queue_keys()[1]) == 5
        return vm_steps(store, query.queue_keys)


def test_the_first_new_cards_are_taken_from_the_front_of_the_list(tmp_path, monkeypatch):
    # Joining each new card with its state and sorting them all takes some 30 steps a
    # card; keeping the first few in order, and reading the states of those alone, 15.
    more = _new_queue_steps(tmp_path, monkeypatch, 1600) - _new_queue_steps(
        tmp_path, monkeypatch, 400
    )
    assert more / 1200 < 23


@pytest.mark.parametrize("hidden", [0, 3, 30, 74], ids=lambda n: f"{n} hidden")
@pytest.mark.parametrize("source", ["index", "list"])
def test_new_cards_behind_many_that_are_not_shown_come_in_order(
    hidden, source, tmp_path, monkeypatch
):
    """The front of the list of new cards may hold cards that are not shown (counted as
    new for want of a due date, in another state): the next ones come, in order, however
    many there are, as the card-by-card oracle has them (and all there are, when fewer
    than the day takes); the counts agree."""
    index = _home(tmp_path, monkeypatch, "home", 80)
    cards = _deck_cards()
    config = Config(new_per_day=5, reviews_per_day=3)
    records = {
        card.key: CardRecord(card.key, CardState.REVIEW, None, 5.0, 5.0, None, NOW, 2)
        for card in cards[:hidden]  # a review card that lost its due date: not shown
    }
    records |= {card.key: _overdue(card.key, days) for days, card in enumerate(cards[-4:], 1)}
    with Store.open() as store:
        store.replace_states(records.values())
        keys = [card.key for card in oracle_build_queue(cards, records, NOW, config)]
        session = Session(store, index if source == "index" else cards, config, clock=lambda: NOW)
        assert [card.key for card in session.queue] == keys
        assert len(keys) == 3 + min(5, 76 - hidden)  # 3 reviews, the new cards left
        picked = index if source == "index" else CardList(cards)
        with DueQuery(store, picked, NOW, config) as query:
            assert query.total() == oracle_count_due(cards, records, NOW, config)
