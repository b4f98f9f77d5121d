"""A session reads only the records of cards it may show (Store.session_records); its
queue and its closing counts are the same as if it had read every card's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from drill.config import Config
from drill.model import Card, CardState, Rating
from drill.queue import build_queue, count_due, day_end, day_start
from drill.session import Session
from drill.store import Store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CARDS = [Card("d", f"c{i:02d}", q="q", a="a") for i in range(12)]

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
        assert session.queue == build_queue(CARDS, everything, NOW, config, done)
        expected = count_due(CARDS, everything, NOW, config, done)
        summary = session.finish()
        assert summary.remaining == expected.total
        assert summary.next_due == (NOW if expected.total else expected.next_due)


def test_review_cards_due_later_are_keys_only(tmp_path):
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
    assert sorted(records) == ["d/c00", "d/c02", "d/c03", "d/c04"]
    assert later == {"d/c01"}


def test_a_card_answered_in_the_session_counts_at_the_end(tmp_path):
    with Store(tmp_path / "drill.db") as store:
        session = Session(store, CARDS[:2], Config(), clock=lambda: NOW)
        card = session.next_card()
        assert card is not None
        session.outcomes(card)
        session.answer(card, Rating.EASY)  # now in review, due days later
        summary = session.finish()
    assert summary.remaining == 1  # the other new card
