"""A session's queue and closing counts, and `drill due`'s counts per deck, come from SQL
(drill.review.due); they are those every card's state gives, counted card by card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from queue_support import oracle_build_queue, oracle_count_due

from drill.home.config import Config
from drill.model import Card, CardState, Rating
from drill.review.due import CardList, DueQuery
from drill.review.queue import day_end, day_start
from drill.review.session import Session
from drill.review.store import Store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CARDS = [Card("de"[i % 2], f"c{i:02d}", q="q", a="a") for i in range(12)]

states = st.sampled_from(list(CardState))
records = st.builds(
    lambda state, due_hours, suspended: (state, due_hours, suspended),
    states,
    st.none() | st.integers(-72, 24 * 40),
    st.booleans(),
)


def put(store: Store, rows: dict[int, tuple]) -> None:
    with store.write() as db:
        for index, (state, due_hours, suspended) in rows.items():
            due = None if due_hours is None else NOW + timedelta(hours=due_hours)
            db.execute(
                "INSERT INTO card_state (key, state, due, suspended, reps, lapses, leech)"
                " VALUES (?, ?, ?, ?, 1, 0, 0)",
                (
                    CARDS[index].key,
                    int(state),
                    None if due is None else round(due.timestamp() * 1000),
                    int(suspended),
                ),
            )


@settings(max_examples=40, deadline=None)
@given(rows=st.dictionaries(st.integers(0, len(CARDS) - 1), records, max_size=len(CARDS)))
def test_the_queue_is_the_one_every_record_gives(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("db") / "drill.db"
    config = Config(new_per_day=5, reviews_per_day=6)
    with Store(path) as store:
        put(store, rows)
        everything = store.cards()
        done = store.counts_since(day_start(NOW, config.rollover_hour))
        session = Session(store, CARDS, config, clock=lambda: NOW)
        assert session.queue == oracle_build_queue(CARDS, everything, NOW, config, done)
        expected = oracle_count_due(CARDS, everything, NOW, config, done)
        summary = session.finish()
        assert summary.remaining == expected.total
        assert summary.next_due == (NOW if expected.total else expected.next_due)


def test_review_cards_due_later_come_as_due_dates(tmp_path):
    with Store(tmp_path / "drill.db") as store:
        put(
            store,
            {
                0: (CardState.REVIEW, 2, False),  # due today: a record
                1: (CardState.REVIEW, 24 * 5, False),  # due later: a key
                2: (CardState.REVIEW, 24 * 5, True),  # suspended: a record
                3: (CardState.LEARNING, 24 * 5, False),  # learning: a record
                4: (CardState.NEW, None, False),  # new, with a row: a record
            },
        )
        records, later = store.session_records(day_end(NOW, 4))
    assert sorted(records) == sorted(CARDS[i].key for i in (0, 2, 3, 4))
    assert list(later) == [CARDS[1].key] and len(later) == 1
    assert later[CARDS[1].key] == NOW + timedelta(days=5)
    assert CARDS[0].key not in later


def test_a_card_answered_in_the_session_counts_at_the_end(tmp_path):
    with Store(tmp_path / "drill.db") as store:
        session = Session(store, CARDS[:2], Config(), clock=lambda: NOW)
        card = session.next_card()
        assert card is not None
        session.outcomes(card)
        session.answer(card, Rating.EASY)  # now in review, due days later
        summary = session.finish()
    assert summary.remaining == 1  # the other new card


@settings(max_examples=40, deadline=None)
@given(rows=st.dictionaries(st.integers(0, len(CARDS) - 1), records, max_size=len(CARDS)))
def test_due_counts_are_those_every_record_gives(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("db") / "drill.db"
    config = Config(new_per_day=3, reviews_per_day=4)
    with Store(path) as store:
        put(store, rows)
        everything = store.cards()
        with DueQuery(store, CardList(CARDS), NOW, config) as query:
            query.done_today = (1, 0)
            by_deck, total, _ = query.counts()
    for deck_id in "de":
        deck_cards = [card for card in CARDS if card.deck_id == deck_id]
        expected = oracle_count_due(deck_cards, everything, NOW, config, (1, 0))
        # A deck's own next_due is its learning cards' only (the total has them all).
        assert by_deck[deck_id] == expected._replace(next_due=by_deck[deck_id].next_due)
    assert total == oracle_count_due(CARDS, everything, NOW, config, (1, 0))
