"""Edge cases of the study path: limits, the next-due text, undo, suspend, time zones, keys.

Each test here was written against a defect a user could hit; the fix came after.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from queue_support import count_due
from session_support import T0, Clock, deck, put, session
from typer.testing import CliRunner

from drill.cli import app
from drill.home.config import Config
from drill.model import CardState, Rating
from drill.review.queue import day_end
from drill.review.store import CardRecord, Store


def review_card(key: str, due: datetime, lapses: int = 0) -> CardRecord:
    """A card in review, last seen ten days before it is due."""
    return CardRecord(
        key, CardState.REVIEW, None, 10.0, 5.0, due, due - timedelta(days=10), 5, lapses
    )


DECK = textwrap.dedent(
    """\
    id: d
    title: Three cards
    cards:
      - {id: a, q: Question a, a: Answer a}
      - {id: b, q: Question b, a: Answer b}
      - {id: c, q: Question c, a: Answer c}
    """
)


@pytest.fixture
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "d.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    return folder


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


# -- the next-due text ------------------------------------------------------------------


@pytest.mark.usefixtures("decks")
def test_nothing_to_show_with_new_zero_does_not_claim_a_card_is_due_in_a_minute() -> None:
    # Three new cards are due today, but --new 0 shows none of them.
    result = run("study", "d", "--new", "0")
    assert result.exit_code == 0, result.output
    assert "<1m" not in result.output
    assert "Nothing is due now with --new 0. 3 cards still due today." in result.output


def test_new_cards_held_back_by_the_daily_limit_are_next_due_at_the_rollover(store) -> None:
    clock = Clock()
    s = session(store, deck(3), clock, new_per_day=1)
    s.answer(s.next_card(), Rating.EASY)  # in review for days; two new cards wait for tomorrow
    assert s.next_card() is None
    summary = s.finish()
    assert summary.remaining == 0
    assert summary.next_due == day_end(clock.now, 4)


def test_only_new_cards_over_the_limit_is_not_no_cards_scheduled() -> None:
    counts = count_due(deck(2), {}, T0, Config(new_per_day=1), done_today=(1, 0))
    assert counts.total == 0 and counts.next_due == day_end(T0, 4)


def test_a_zero_daily_limit_holds_nothing_back_for_tomorrow() -> None:
    counts = count_due(deck(2), {}, T0, Config(new_per_day=0))
    assert counts.total == 0 and counts.next_due is None


def test_reviews_over_the_daily_limit_wait_for_the_rollover_not_for_their_hour() -> None:
    # Both cards are due today; the limit allows one review a day and it was used.
    later_today = T0 + timedelta(hours=3)
    records = {
        "d/c0": review_card("d/c0", T0 - timedelta(hours=1)),
        "d/c1": review_card("d/c1", later_today),
    }
    counts = count_due(deck(2), records, T0, Config(reviews_per_day=1), done_today=(0, 1))
    assert counts.total == 0
    assert counts.next_due == day_end(T0, 4)  # not 3h from now: that card is over the limit


# -- undo -------------------------------------------------------------------------------


def test_undoing_two_answers_to_one_card_shows_it_once(store) -> None:
    clock = Clock()
    s = session(store, deck(1), clock)
    card = s.next_card()
    s.answer(card, Rating.AGAIN)  # a learning step, then the card again (learn-ahead)
    s.answer(s.next_card(), Rating.GOOD)
    assert s.undo() == card and s.undo() == card
    assert store.card(card.key) is None and store.reviews() == []
    assert s.next_card() == card
    s.answer(card, Rating.EASY)  # in review for days: nothing is left today
    assert s.next_card() is None


def test_undo_takes_a_compute_answer_out_of_the_summary(store) -> None:
    s = session(store, deck(1), Clock())
    card = s.next_card()
    s.answer(card, Rating.GOOD, seed=7, typed="1.5", correct=True)
    s.undo()
    s.answer(card, Rating.AGAIN, seed=8, typed="2", correct=False)
    assert (s.summary.reviewed, s.summary.compute, s.summary.correct) == (1, 1, 0)


def test_undo_after_a_leech_unsuspends_and_untags_it(store) -> None:
    card = deck(1)[0]
    put(store, review_card(card.key, T0, lapses=1))
    s = session(store, [card], Clock(), leech_threshold=2)
    assert s.answer(card, Rating.AGAIN).became_leech
    assert s.next_card() is None  # suspended
    assert s.undo() == card
    restored = store.card(card.key)
    assert not restored.suspended and not restored.leech and restored.lapses == 1
    assert s.next_card() == card


def test_undo_after_a_suspend_takes_back_the_suspension_not_the_answer_before(store) -> None:
    s = session(store, deck(2), Clock())
    first = s.next_card()
    s.answer(first, Rating.GOOD)
    second = s.next_card()
    s.suspend(second)
    assert s.undo() == second
    assert not store.card(second.key).suspended
    assert [r.key for r in store.reviews()] == [first.key]  # the answer stands
    assert s.next_card() == second  # shown again, as a new card
    assert s.remaining()[0] == 1
    s.answer(second, Rating.EASY)
    assert [r.state_before for r in store.reviews()] == [CardState.NEW, CardState.NEW]
    assert s.undo() == second and s.undo() == first  # then the answer before, in order


@pytest.mark.usefixtures("decks")
def test_undo_key_after_suspend_brings_the_card_back() -> None:
    result = run("study", "d", input="\n3\ns\nu\n\n4\nq\n")
    assert result.exit_code == 0, result.output
    assert "Suspended d/b." in result.output and "Unsuspended d/b." in result.output
    with Store.open() as store:
        assert [(r.key, r.rating) for r in store.reviews()] == [
            ("d/a", Rating.GOOD),
            ("d/b", Rating.EASY),
        ]
        assert not store.card("d/b").suspended


def test_status_counts_a_once_suspended_card_as_new(store) -> None:
    cards = deck(2)
    store.set_suspended([cards[0].key], True)
    store.set_suspended([cards[0].key], False)  # leaves a record in the new state
    s = session(store, cards, Clock())
    assert s.remaining() == (2, 0, 0)


def test_status_counts_an_undone_learning_card_once(store) -> None:
    clock = Clock()
    s = session(store, deck(1), clock)
    s.answer(s.next_card(), Rating.AGAIN)  # learning, due in a minute
    clock.advance(minutes=1)
    s.answer(s.next_card(), Rating.GOOD)  # learning, due in ten
    s.undo()  # back to learning and due now, shown first
    assert s.remaining() == (0, 1, 0)


def test_status_counts_with_learning_due_and_a_new_card_waiting(store) -> None:
    s = session(store, deck(2), Clock())
    s.answer(s.next_card(), Rating.GOOD)  # learning, due in ten minutes: within learn-ahead
    assert s.remaining() == (1, 1, 0)  # never a negative review count


BAD_PARAMS_DECK = textwrap.dedent(
    """\
    id: mixed
    title: A basic card and a compute card with a param its generator does not take
    cards:
      - {id: basic, q: Question, a: Answer}
      - {id: conv, type: compute, generator: conv-output-size, params: {nope: 1}}
    """
)


def test_a_compute_card_with_bad_params_is_skipped_not_the_end_of_the_session(decks) -> None:
    # The loader leaves params to `drill lint` (checking them imports numpy); study must cope.
    (decks / "mixed.yaml").write_text(BAD_PARAMS_DECK, encoding="utf-8")
    result = run("study", "mixed", input="\n3\n")
    assert result.exit_code == 0, result.output
    assert "Error:" not in result.output
    assert "Skipped mixed/conv: generator 'conv-output-size' has no param 'nope'" in result.output
    assert "Reviewed 1 card" in result.output


def test_a_grade_given_a_while_after_the_reveal_starts_its_interval_when_given(store) -> None:
    clock = Clock()
    s = session(store, deck(1), clock)
    card = s.next_card()
    shown = s.intervals(card)[Rating.GOOD]  # the grade bar, drawn when the answer is revealed
    clock.advance(minutes=30)  # the user steps away before grading
    answered = s.answer(card, Rating.GOOD)
    assert answered.after.due == clock.now + shown  # not already due on the next card
    assert answered.after.last_review == clock.now
    (row,) = store.reviews()
    assert row.reviewed_at == clock.now


# -- config -----------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["learning_steps", "relearning_steps"])
def test_a_bad_step_names_the_file_and_the_setting(tmp_path, setting) -> None:
    from drill.errors import ConfigError
    from drill.home.config import load_config

    path = tmp_path / "config.toml"
    path.write_text(f'{setting} = ["1m", "10 minutes"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: {setting}: '10 minutes' is not a duration like 30s, 10m, 1h or 1d"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('learning_steps = ["99999999d"]', "learning_steps: '99999999d' is longer than"),
        ('relearning_steps = ["9999999999999d"]', "relearning_steps: '9999999999999d' is longer"),
        ("learn_ahead_minutes = 1000000000000", "learn_ahead_minutes must be at most 1440"),
    ],
)
def test_huge_config_values_are_refused_before_they_overflow_a_date(
    tmp_path, line, message
) -> None:
    from drill.errors import ConfigError
    from drill.home.config import load_config

    path = tmp_path / "config.toml"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.mark.usefixtures("decks")
def test_huge_learning_step_is_one_error_line_in_study(drill_home) -> None:
    (drill_home / "config.toml").write_text('learning_steps = ["99999999d"]\n', encoding="utf-8")
    result = run("study", "d", input="\n3\n")
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1 and "Traceback" not in result.output


@pytest.mark.usefixtures("decks")
def test_an_unreadable_config_file_is_one_error_line(drill_home) -> None:
    (drill_home / "config.toml").mkdir()  # a folder where the file should be
    result = run("due")
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1 and "Traceback" not in result.output
    assert "config.toml" in result.output


# -- intervals as shown -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=59, seconds=50), "1h"),  # not "60m"
        (timedelta(days=1) - timedelta(milliseconds=5), "1d"),  # not "24h"
        (timedelta(hours=23, minutes=20), "23h"),
        (timedelta(minutes=59, seconds=20), "59m"),
    ],
)
def test_an_interval_rounding_up_to_the_next_unit_is_shown_in_that_unit(delta, text) -> None:
    from drill.review.scheduler import format_interval

    assert format_interval(delta) == text


def test_summary_of_a_card_due_in_a_day_says_one_day(store) -> None:
    from drill.ui.due_view import next_due_text

    clock = Clock()
    s = session(store, deck(1), clock, learning_steps=())
    s.answer(s.next_card(), Rating.AGAIN)  # no learning steps: in review, due in one day
    summary = s.finish()
    later = clock.now + timedelta(milliseconds=40)  # the summary is written a moment later
    assert next_due_text(summary.remaining, summary.next_due, later).startswith(
        "Next card due in 1d"
    )


# -- the study day across daylight-saving changes ---------------------------------------


@pytest.fixture
def local_zone(monkeypatch):
    """Set the process's local time zone for one test (needs time.tzset)."""
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("zone", "hour", "jump"),
    [
        # New York skips 02:00-03:00 on 2026-03-08; Santiago skips 00:00-01:00 on 2026-09-06.
        ("America/New_York", 2, datetime(2026, 3, 8, 7, tzinfo=UTC)),
        ("America/Santiago", 0, datetime(2026, 9, 6, 4, tzinfo=UTC)),
    ],
)
def test_a_rollover_hour_the_clocks_skip_starts_the_day_when_they_jump(
    local_zone, zone, hour, jump
) -> None:
    from drill.review.queue import day_start

    local_zone(zone)
    # The hour before the jump still belongs to the day before, which ends at the jump.
    before = jump - timedelta(minutes=30)
    assert day_start(before, hour) < before < day_end(before, hour) == jump
    assert day_start(jump, hour) == jump
    moment = jump - timedelta(days=2)
    while moment < jump + timedelta(days=2):  # every half hour: days tile without gaps
        start, end = day_start(moment, hour), day_end(moment, hour)
        assert start <= moment < end and day_start(end, hour) == end
        moment += timedelta(minutes=30)


def test_the_repeated_hour_of_autumn_starts_the_day_once(local_zone) -> None:
    from drill.review.queue import day_start

    local_zone("America/New_York")  # 01:00-02:00 happens twice on 2026-11-01
    first_one_am = datetime(2026, 11, 1, 5, tzinfo=UTC)  # 01:00 EDT
    assert day_start(first_one_am + timedelta(hours=1, minutes=30), 1) == first_one_am
    assert day_end(first_one_am - timedelta(minutes=1), 1) == first_one_am


# -- keys on a terminal -----------------------------------------------------------------


def read_keys_from_a_terminal(typed: bytes, count: int) -> list[str]:
    """Type `typed` into a pseudo-terminal before drill reads, then read `count` keys."""
    import os
    import threading

    pty = pytest.importorskip("pty")
    from drill.ui.keys import Keys

    master, slave = pty.openpty()
    got: list[str] = []
    try:
        with os.fdopen(slave, "r", closefd=False) as stream:
            keys = Keys(stream)
            assert keys.is_tty
            os.write(master, typed)
            # A thread, so that a read waiting for a key that was thrown away ends the test
            # with a failure instead of hanging it.
            reader = threading.Thread(target=lambda: got.extend(keys.key() for _ in range(count)))
            reader.daemon = True
            reader.start()
            reader.join(timeout=20)
    finally:
        os.close(master)
        os.close(slave)
    return got


def test_keys_typed_ahead_on_a_terminal_are_each_read() -> None:
    # Enter, a grade and quit typed faster than the card is drawn: none may be lost.
    assert read_keys_from_a_terminal(b" 3Q", 3) == ["", "3", "q"]


def test_an_arrow_or_delete_key_is_one_ignored_key_not_a_grade() -> None:
    # Delete sends ESC [ 3 ~ and Ctrl+Up ESC [ 1 ; 5 A: their digits are not grades.
    typed = "\x1b[3~\x1b[1;5Aé4".encode()
    assert read_keys_from_a_terminal(typed, 4) == ["\x1b", "\x1b", "é", "4"]


@pytest.mark.parametrize(
    ("presses", "key"),
    [
        (["\xe0", "S"], "\x1b"),  # Delete: not "s", which would suspend the card
        (["\xe0", "Q"], "\x1b"),  # Page Down: not "q", which would quit
        (["\x00", "<"], "\x1b"),  # F2
        (["3"], "3"),
    ],
)
def test_a_windows_function_key_is_one_ignored_key(presses, key) -> None:
    # msvcrt.getwch returns "\x00" or "\xe0" for a special key, then its code on the next call.
    from drill.ui.keys import read_windows_key

    assert read_windows_key(iter(presses).__next__) == key


# -- the study screen on a terminal -----------------------------------------------------


class TerminalKeys:
    """Keys as a terminal gives them, one key per call, from a script."""

    is_tty = True

    def __init__(self, keys: list[str]) -> None:
        self.keys = iter(keys)

    def key(self) -> str:
        return next(self.keys, "q")

    def line(self) -> str:
        return next(self.keys, "q")


def test_a_leech_notice_on_the_last_card_is_shown_on_a_terminal(store) -> None:
    import io

    from rich.console import Console

    from drill.ui.study import StudyScreen

    card = deck(1)[0]
    put(store, review_card(card.key, T0, lapses=1))
    s = session(store, [card], Clock(), leech_threshold=2)
    out = io.StringIO()
    StudyScreen(s, Console(file=out, width=100), TerminalKeys(["", "1"])).run()
    assert store.card(card.key).suspended
    assert "d/c0 has lapsed 2 times: it is a leech and was suspended" in out.getvalue()


# -- scripted input (checked: these worked, and stay working) ----------------------------


@pytest.mark.usefixtures("decks")
def test_a_windows_script_with_spaces_and_capitals_drives_the_session() -> None:
    # CRLF endings, a grade with trailing spaces, a blank line at the grade prompt (ignored),
    # an upper-case undo and quit.
    script = "\r\n3  \r\n\r\n  \r\n4\r\nU\r\n\r\n2\r\nQ\r\n"
    result = run("study", "d", input=script)
    assert result.exit_code == 0, result.output
    with Store.open() as store:
        assert [(r.key, r.rating) for r in store.reviews()] == [
            ("d/a", Rating.GOOD),
            ("d/b", Rating.HARD),
        ]


@pytest.mark.usefixtures("decks")
def test_end_of_input_between_reveal_and_grade_records_nothing_for_that_card() -> None:
    result = run("study", "d", input="\n3\n\n")  # the second card revealed, then no more input
    assert result.exit_code == 0, result.output
    assert "Reviewed 1 card" in result.output
    with Store.open() as store:
        assert [r.key for r in store.reviews()] == ["d/a"]
