"""The review loop as logic: order, learning steps coming back, undo, suspend, leeches."""

from __future__ import annotations

from session_support import T0, Clock, deck, put, session

from drill.home.config import Config
from drill.model import CardState, Rating
from drill.review.session import Session
from drill.review.store import CardRecord, Store


def test_new_cards_in_deck_order_then_learning_steps_return(store: Store) -> None:
    clock = Clock()
    s = session(store, deck(2), clock)
    first = s.next_card()
    assert first.id == "c0"
    s.answer(first, Rating.AGAIN)  # back in 1 minute
    assert s.next_card().id == "c1"
    s.answer(s.next_card(), Rating.GOOD)  # back in 10 minutes
    # Nothing else is left: learning cards within the learn-ahead window come next.
    assert s.next_card().id == "c0"
    clock.advance(minutes=1)
    s.answer(s.next_card(), Rating.EASY)
    assert s.next_card().id == "c1"
    s.answer(s.next_card(), Rating.GOOD)
    assert s.next_card() is None
    assert s.summary.reviewed == 4
    assert [r.rating for r in store.reviews()] == [
        Rating.AGAIN,
        Rating.GOOD,
        Rating.EASY,
        Rating.GOOD,
    ]


def test_each_answer_is_committed_at_once(store: Store, tmp_path) -> None:
    s = session(store, deck(1), Clock())
    s.answer(s.next_card(), Rating.GOOD, duration_ms=1234)
    with Store(tmp_path / "drill.db") as other:  # a second connection sees it
        (row,) = other.reviews()
        assert (row.key, row.duration_ms, row.state_before) == ("d/c0", 1234, CardState.NEW)


def test_the_grade_applied_is_the_interval_shown(store: Store) -> None:
    clock = Clock()
    s = Session(store, deck(1), Config(fuzz=True), clock=clock)
    card = s.next_card()
    shown = s.intervals(card)[Rating.EASY]
    answered = s.answer(card, Rating.EASY)
    assert answered.after.due - clock.now == shown


def test_undo_returns_the_card_and_its_state(store: Store) -> None:
    s = session(store, deck(2), Clock())
    card = s.next_card()
    s.answer(card, Rating.GOOD)
    assert s.undo() == card
    assert s.next_card() == card
    assert store.card(card.key) is None
    assert store.reviews() == []
    assert s.summary.reviewed == 0
    assert s.undo() is None


def test_suspend_removes_the_card(store: Store) -> None:
    s = session(store, deck(2), Clock())
    s.suspend(s.next_card())
    assert s.next_card().id == "c1"
    assert store.card("d/c0").suspended


def test_new_card_limit_and_session_limit(store: Store) -> None:
    s = session(store, deck(10), Clock(), new_per_day=3)
    assert len(s.queue) == 3
    s = session(store, deck(10), Clock(), new_per_day=3)
    s.limit = 1
    s.answer(s.next_card(), Rating.EASY)
    assert s.next_card() is None


def test_daily_new_limit_counts_earlier_sessions(store: Store) -> None:
    clock = Clock()
    s = session(store, deck(5), clock, new_per_day=3)
    for _ in range(2):
        s.answer(s.next_card(), Rating.EASY)
    clock.advance(hours=1)
    assert len(session(store, deck(5), clock, new_per_day=3).queue) == 1


def test_leech_is_tagged_and_suspended(store: Store) -> None:
    card = deck(1)[0]
    clock = Clock()
    record = CardRecord(card.key, CardState.REVIEW, None, 3.0, 8.0, T0, T0, 10, lapses=1)
    store.set_suspended([card.key], False)
    put(store, record)
    s = session(store, [card], clock, leech_threshold=2)
    answered = s.answer(s.next_card(), Rating.AGAIN)
    assert answered.became_leech and answered.after.suspended and answered.after.leech
    assert store.card(card.key).suspended


def test_leech_action_tag_only(store: Store) -> None:
    card = deck(1)[0]
    record = CardRecord(card.key, CardState.REVIEW, None, 3.0, 8.0, T0, T0, 10, lapses=1)
    put(store, record)
    s = session(store, [card], Clock(), leech_threshold=2, leech_action="tag")
    answered = s.answer(s.next_card(), Rating.AGAIN)
    assert answered.became_leech and answered.after.leech and not answered.after.suspended


def test_finish_reports_next_due(store: Store) -> None:
    clock = Clock()
    s = session(store, deck(1), clock)
    answered = s.answer(s.next_card(), Rating.EASY)
    summary = s.finish()
    assert summary.remaining == 0 and summary.next_due == answered.after.due
