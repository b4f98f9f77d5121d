"""What `drill study` and `drill due` do differently toward an interview date, and in custom
study (`--ahead`, `--cram`, `--failed`): which session, which pace, which lines to add.

Not a command module: study_cmd imports it when it needs it. Nothing here loads fsrs
unless a date is set or a custom session is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from drill.cli.common import warn
from drill.errors import DrillError
from drill.home.config import Config


class CustomStudyError(DrillError):
    """The custom-study options do not go together."""


class Chosen(NamedTuple):
    """The cards a `drill due` or `drill study` is about."""

    decks: Any  # what open_store reads renames from: the Collection, or the StudyIndex
    source: Any  # their KeySource (drill.review.due)
    collection: Any = None  # every deck, read whole: only when cards are needed as values
    cards: list | None = None  # the chosen cards in teaching order, with `collection`
    deck_ids: tuple[str, ...] = ()  # the decks named, by id (none: every deck)


def choose(extra, config: Config, decks: Sequence[str], tags: Sequence[str], whole: bool) -> Chosen:
    """The chosen decks' cards. Usually from the study index (drill.decks.index): decks the
    parse cache holds are not read, and counting happens in SQL. With `whole` (custom
    study) or an interview date, whose plan needs every card, every deck is read."""
    from drill.cli.common import load_decks

    if whole or config.interview_day is not None:
        from drill.decks.curriculum import load_curriculum
        from drill.decks.selection import resolve_deck_id, select_study_cards
        from drill.review.due import CardList

        collection = load_decks(extra, config)
        # New cards come in teaching order (decks/curriculum.toml), not file by file.
        cards = load_curriculum().teaching_order(select_study_cards(collection, decks, tags))
        ids = [resolve_deck_id(collection, name) for name in decks]
        return Chosen(collection, CardList(cards), collection, cards, tuple(ids))
    from drill.decks.index import load_index

    index = load_index(extra or (), config.max_deck_bytes)
    for line in index.warnings():
        warn(line)
    index.select(decks, tags)
    return Chosen(index, index, deck_ids=tuple(entry.id for entry in index.chosen) if decks else ())


def date_cards(collection, config: Config) -> list | None:
    """The cards the stored interview date is for, or None when no date is set. Decks
    stored with the date that are gone since are left out, with a warning."""
    from drill.decks.selection import select_study_cards

    if config.interview_day is None or collection is None:
        return None
    known = {deck.id for deck in collection.decks}
    gone = [deck_id for deck_id in config.interview_decks if deck_id not in known]
    if gone:
        warn(f"the interview date's decks {', '.join(gone)} are gone; `drill plan --set` again")
    decks = [deck_id for deck_id in config.interview_decks if deck_id in known]
    if config.interview_decks and not decks:
        return None  # nothing left to work toward: as if no date were set
    return select_study_cards(collection, decks, config.interview_tags)


def paced(config: Config, chosen: list | None, store, now: datetime) -> Config:
    """The config a session or a count works with: while a date is ahead, new_per_day is
    the plan's pace for the date's cards."""
    if chosen is None:
        return config
    from drill.review.planning import paced_config
    from drill.review.queue import day_end, day_start

    records, later = store.session_records(day_end(now, config.rollover_hour))
    new_today = store.counts_since(day_start(now, config.rollover_hour))[0]
    return paced_config(config, chosen, records, later, now, new_today)


def readiness(chosen: list | None, store, collection, now: datetime, config: Config):
    """The date's cards' predicted recall on it as things stand, or None without a date."""
    if chosen is None:
        return None
    from drill.review.planning import readiness as predicted

    day = config.interview_day
    return predicted(chosen, store.cards(), now, day, config, collection.tags_of)


def date_note(config: Config, now: datetime) -> str | None:
    """The study screen's line while an interview date is ahead."""
    day = config.interview_day
    if day is None:
        return None
    from drill.review.planning import days_left
    from drill.review.scheduler import PREP_DAYS

    if days_left(now, day, config) < 1:
        return None
    left = days_left(now, day, config)
    return (
        f"Interview on {day:%a %d %b %Y}, {left} day{'s' * (left != 1)} left: intervals that "
        f"would pass it are shortened to end in the last {PREP_DAYS} days before it."
    )


def study_session(
    store,
    cards: list,
    config: Config,
    chosen: list | None,
    *,
    new: int | None,
    limit: int | None,
    now: datetime,
):
    """An ordinary session, paced and scheduled toward the interview date when one is set."""
    from drill.review.scheduler import Scheduler
    from drill.review.session import Session

    if chosen is not None:
        config = paced(config, chosen, store, now)
        # The plan's new cards are the date's: they come first, in their order.
        keys = {card.key for card in chosen}
        cards = [c for c in cards if c.key in keys] + [c for c in cards if c.key not in keys]
    toward = None if chosen is None else {card.key for card in chosen}
    session = Session(
        store,
        cards,
        config,
        scheduler=Scheduler(config, toward_date=toward),
        new_limit=new,
        limit=limit,
    )
    session.note = date_note(config, now)
    return session


def custom_session(
    store,
    cards: list,
    config: Config,
    chosen: list | None,
    *,
    ahead: int | None,
    cram: bool,
    failed: int | None,
    record: bool,
    limit: int | None,
    now: datetime,
):
    """A custom-study session, or None when it has no card to show (its message printed)."""
    import typer

    from drill.review import custom
    from drill.review.scheduler import Scheduler

    modes = [
        name for name, on in (("--ahead", ahead), ("--cram", cram), ("--failed", failed)) if on
    ]
    if len(modes) > 1:
        raise CustomStudyError(f"choose one of {' and '.join(modes)}")
    if record and not cram:
        raise CustomStudyError("--record goes with --cram (other sessions are always recorded)")
    records = store.cards()
    if ahead:
        queue = custom.ahead_cards(cards, records, now, config, ahead)
        empty = f"No review card is due in the next {ahead} day{'s' * (ahead != 1)}."
        note = f"Reviewing ahead: cards due in the next {ahead} day{'s' * (ahead != 1)}."
    elif failed:
        queue = custom.failed_cards(cards, records, store, now, config, failed)
        empty = f"No card was failed in the last {failed} day{'s' * (failed != 1)}."
        note = f"Cards failed in the last {failed} day{'s' * (failed != 1)}, weakest first."
    else:
        queue = custom.cram_cards(cards, records, now, config)
        empty = "No card to cram: every card chosen is suspended."
        note = "Cram, weakest first: " + (
            "answers are recorded." if record else "practice only, nothing is recorded."
        )
    if not queue:
        typer.echo(empty)
        return None
    toward = None if chosen is None else {card.key for card in chosen}
    session = custom.CustomSession(
        store,
        queue,
        config,
        record=record or not cram,
        scheduler=Scheduler(config, toward_date=toward),
        limit=limit,
    )
    session.note = note
    return session


def new_limit_label(used: Config, base: Config) -> str:
    """How the day's new-card limit was set: "new_per_day = 20", or by the plan's pace
    (`used` is the config paced() returned for `base`)."""
    if used is not base and used.new_per_day != base.new_per_day:
        return f"the plan's pace for {base.interview_date}: {used.new_per_day} a day"
    return f"new_per_day = {used.new_per_day}"
