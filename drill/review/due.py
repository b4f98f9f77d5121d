"""What is due, counted and queued in SQL over card state and the selected cards' keys.

`drill due`, a study session's queue and its closing counts all come from here, so they
cannot disagree. The cards are not read one by one: a `KeySource` puts their keys where
SQLite can join them with `card_state` (a TEMP view named `selected`), and only the cards
that are due come back as values. With the deck cache's key index attached (see
drill.decks.index) a command on 100,000 cards reads what is due, not every card; a plain
list of cards (`CardList`: tests, custom study, a date's selection) goes through a TEMP
table and the same queries.

The view `selected` has one row per scheduled card: `key`, `deck_id`, `note` (the
written card's key, shared by siblings), `multi` (true when that note schedules several
cards), `generator` (a compute card's) and its teaching rank (`stage`, `frac`,
`deckpos`: new cards come in that order, drill.decks.curriculum). The view `fresh` holds
the selected cards that are new (`key`, `deck_id` and the rank): the study index keeps
that list and brings it up to date from the keys the store logged as changed
(`KeySource.new_keys`); other sources join every key with its state.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from drill.home.config import Config
from drill.model import Card, CardType
from drill.review.queue import DueCounts, Tomorrow, day_end, day_start, learning_horizon
from drill.review.siblings import bury_siblings
from drill.review.store import (
    _CARD_COLUMNS,
    DECK_OF_KEY,
    CardRecord,
    Store,
    _card_from_row,
    to_ms,
)


class KeySource(Protocol):
    """Where a session's or a count's cards come from (see the module's docstring)."""

    def attach(self, db: sqlite3.Connection) -> None:
        """Create TEMP VIEW `selected` on `db` (the store's connection)."""

    def detach(self, db: sqlite3.Connection) -> None:
        """Drop what attach made; `db` is as it was."""

    def cards(self, keys: Iterable[str]) -> dict[str, Card]:
        """The cards of these keys (scheduled cards: a cloze deletion, a reverse)."""

    def deck_ids(self) -> list[str]:
        """Every deck with a card in the selection, in order."""

    def new_keys(self, db: sqlite3.Connection, is_new: str) -> bool:
        """Whether the source made, in the caller's transaction, from lists it keeps:
        TEMP views `fresh` (the selected cards that are new: key, deck_id, stage, frac,
        deckpos), `stray_keys` (card states of the chosen decks that belong to none of
        their cards) and `chosen_decks` (deck_id). `is_new` is the condition on a card's
        state row `s`, LEFT JOINed, that makes it new."""


class CardList:
    """A KeySource over cards already in memory, in the order given (their teaching order)."""

    def __init__(self, cards: Sequence[Card]) -> None:
        self.by_key = {card.key: card for card in cards}

    def attach(self, db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TEMP TABLE listed (key TEXT PRIMARY KEY, deck_id TEXT, note TEXT,"
            " multi INTEGER, generator TEXT, stage INTEGER, deckpos INTEGER, frac REAL)"
        )
        notes = Counter(card.note_key for card in self.by_key.values())
        db.executemany(
            "INSERT OR IGNORE INTO temp.listed VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
            (
                (
                    card.key,
                    card.deck_id,
                    card.note_key,
                    notes[card.note_key] > 1,
                    _generator(card),
                    i,
                )
                for i, card in enumerate(self.by_key.values())
            ),
        )
        db.execute("CREATE TEMP VIEW selected AS SELECT * FROM temp.listed")

    def detach(self, db: sqlite3.Connection) -> None:
        db.execute("DROP VIEW IF EXISTS temp.selected")
        db.execute("DROP TABLE IF EXISTS temp.listed")

    def cards(self, keys: Iterable[str]) -> dict[str, Card]:
        return {key: self.by_key[key] for key in keys if key in self.by_key}

    def deck_ids(self) -> list[str]:
        return list(dict.fromkeys(card.deck_id for card in self.by_key.values()))

    def new_keys(self, db: sqlite3.Connection, is_new: str) -> bool:
        return False  # new cards found by reading every listed card's state (_FRESH)


class Raw(NamedTuple):
    """A deck's counts before the daily limits, today's buried siblings left out (except
    in `tomorrow` and `tomorrow_new`, which count every card)."""

    new: int = 0
    learning: int = 0
    review: int = 0
    later_today: int = 0
    next_due: int | None = None  # ms
    tomorrow: int = 0  # review and learning cards due by the end of the next study day
    tomorrow_new: int = 0

    def __add__(self, other: Raw) -> Raw:
        dues = [due for due in (self.next_due, other.next_due) if due is not None]
        return Raw(
            self.new + other.new,
            self.learning + other.learning,
            self.review + other.review,
            self.later_today + other.later_today,
            min(dues, default=None),
            self.tomorrow + other.tomorrow,
            self.tomorrow_new + other.tomorrow_new,
        )


class Moments(NamedTuple):
    now: int
    horizon: int  # learning cards due by then count as due now
    end: int  # the end of the study day
    until: int  # the end of the next one


def moments(now: datetime, config: Config) -> Moments:
    end = day_end(now, config.rollover_hour)
    until = day_end(end, config.rollover_hour)
    return Moments(to_ms(now), to_ms(learning_horizon(now, config)), to_ms(end), to_ms(until))


# Card states: new 0, learning 1, review 2, relearning 3 (CardState). A card with no row,
# or new, or without a due date, is new; a suspended card counts nowhere. New cards come
# from the view `fresh`: the source's own up-to-date list of them (the study index keeps
# one, so counting them reads the new cards, not every card), or else every selected key
# joined with its state (_FRESH). The others come from the state table's (state, due)
# index: what is due, not what exists.
# _NEW's {deck} and {group}: per deck ("k.deck_id", "GROUP BY k.deck_id"), or in all ("''",
# ""): a session's summary needs only the total, and grouping 100,000 rows has a cost.
_IS_NEW = "s.key IS NULL OR (NOT s.suspended AND (s.state = 0 OR s.due IS NULL))"

_FRESH = f"""
SELECT k.key, k.deck_id, k.stage, k.frac, k.deckpos
FROM temp.selected k LEFT JOIN card_state s ON s.key = k.key
WHERE {_IS_NEW}
"""

_NEW = """
SELECT {deck}, count(*) FILTER (WHERE b.key IS NULL), count(*)
FROM temp.fresh k LEFT JOIN temp.buried b ON b.key = k.key
{group}
"""

_SCHEDULED_COUNTS = """
  count(*) FILTER (WHERE b.key IS NULL AND s.state IN (1, 3) AND s.due <= :horizon),
  count(*) FILTER (WHERE b.key IS NULL AND s.state = 2 AND s.due < :end),
  count(*) FILTER (WHERE s.state IN (1, 3) AND s.due > :horizon AND s.due < :end),
  min(s.due) FILTER (WHERE s.state IN (1, 3) AND s.due > :horizon),
  count(*) FILTER (WHERE s.state = 2 OR (s.due >= :end AND s.due < :until))
"""
_DUE_BY_TOMORROW = "NOT s.suspended AND ((s.state = 2 AND s.due < :until) OR s.state IN (1, 3))"

_SCHEDULED = f"""
SELECT k.deck_id, {_SCHEDULED_COUNTS}
FROM card_state s
JOIN temp.selected k ON k.key = s.key
LEFT JOIN temp.buried b ON b.key = s.key
WHERE {_DUE_BY_TOMORROW}
GROUP BY k.deck_id
"""

# With the source's own lists (KeySource.new_keys), a state's deck is the start of its key
# (`deck/card`), and the states of the chosen decks that belong to no card are known: no
# due card's key is looked up in the selection. The learning cards (few) are grouped by
# deck, the decks not chosen left out group by group; the reviews due by tomorrow (some
# 20,000 at 100,000 cards) are counted deck by deck, each deck's a range of the index by
# state, deck and due date (m009_due_by_deck), not sorted into decks. `+d.deck_id` has no
# type affinity, so SQLite compares it with the indexed expression as it stands.
_DECK_OF_KEY = DECK_OF_KEY.replace("key", "s.key")
_LEARNING_KEPT = f"""
SELECT {_DECK_OF_KEY} AS deck, {_SCHEDULED_COUNTS}
FROM card_state s
LEFT JOIN temp.buried b ON b.key = s.key
WHERE s.state IN (1, 3) AND NOT s.suspended AND s.key NOT IN (SELECT key FROM temp.stray_keys)
GROUP BY deck HAVING deck IN (SELECT deck_id FROM temp.chosen_decks)
"""
_REVIEWS_KEPT = f"""
SELECT d.deck_id,
  (SELECT count(*) FROM card_state s
   WHERE s.state = 2 AND {_DECK_OF_KEY} = +d.deck_id AND s.due < :end AND NOT s.suspended
     AND s.key NOT IN (SELECT key FROM temp.buried)
     AND s.key NOT IN (SELECT key FROM temp.stray_keys)),
  (SELECT count(*) FROM card_state s
   WHERE s.state = 2 AND {_DECK_OF_KEY} = +d.deck_id AND s.due < :until AND NOT s.suspended
     AND s.key NOT IN (SELECT key FROM temp.stray_keys))
FROM (SELECT DISTINCT deck_id FROM temp.chosen_decks) d
"""

# The review card due first after today: the next card due, when nothing else is sooner.
_NEXT_REVIEW = """
SELECT s.due FROM card_state s JOIN temp.selected k ON k.key = s.key
WHERE s.state = 2 AND NOT s.suspended AND s.due >= :end
ORDER BY s.due LIMIT 1
"""

# The cards of notes scheduled as several (cloze deletions, a card and its reverse), in
# teaching order: the only ones a sibling can bury.
_SIBLINGS = f"""
SELECT k.key, k.note, {", ".join(f"s.{column.strip()}" for column in _CARD_COLUMNS.split(","))}
FROM temp.selected k LEFT JOIN card_state s ON s.key = k.key
WHERE k.multi
ORDER BY k.stage, k.frac, k.deckpos
"""

_DUE_REVIEWS = """
SELECT k.key FROM card_state s JOIN temp.selected k ON k.key = s.key
WHERE s.state = 2 AND NOT s.suspended AND s.due < :end
  AND k.key NOT IN (SELECT key FROM temp.buried)
ORDER BY s.due, k.stage, k.frac, k.deckpos
LIMIT :limit
"""

# The first new cards in teaching order. Sorting is what costs: the kept list holds every
# new card of the chosen decks (11,000 at 100,000 cards) and a day takes 20. So only the
# first :take of the list are sorted (SQLite's sorter then keeps no more than those), and
# only they are checked against their state and the buried cards; _new_keys takes more
# when the check leaves fewer than it wants. (A card counted as new for want of a due
# date, but in another state, is not shown.)
_NEW_CARDS = """
SELECT f.key FROM (
  SELECT k.key, k.stage, k.frac, k.deckpos FROM temp.fresh k
  ORDER BY k.stage, k.frac, k.deckpos LIMIT :take
) f LEFT JOIN card_state s ON s.key = f.key
WHERE (s.key IS NULL OR s.state = 0) AND f.key NOT IN (SELECT key FROM temp.buried)
ORDER BY f.stage, f.frac, f.deckpos
LIMIT :limit
"""

# A session's summary needs less than `drill due`: one total, nothing of tomorrow, and of
# the reviews due today only as many as the day's limit lets in, and whether there are
# more: counted up to :cap, they cost the limit, not the backlog. {join} and {member} keep
# the chosen cards' states: joined with the selection, or by the source's own lists, the
# deck taken from the key (as in _LEARNING_KEPT).
_MEMBER_JOINED = {"join": "JOIN temp.selected k ON k.key = s.key", "member": "1"}
_MEMBER_KEPT = {
    "join": "",
    "member": f"{_DECK_OF_KEY} IN (SELECT deck_id FROM temp.chosen_decks)"
    " AND s.key NOT IN (SELECT key FROM temp.stray_keys)",
}
_SUMMARY_LEARNING = """
SELECT
  count(*) FILTER (WHERE b.key IS NULL AND s.due <= :horizon),
  count(*) FILTER (WHERE s.due > :horizon AND s.due < :end),
  min(s.due) FILTER (WHERE s.due > :horizon)
FROM card_state s {join} LEFT JOIN temp.buried b ON b.key = s.key
WHERE s.state IN (1, 3) AND NOT s.suspended AND {member}
"""
_SUMMARY_REVIEWS = """
SELECT count(*) FROM (
  SELECT 1 FROM card_state s {join}
  WHERE s.state = 2 AND s.due < :end AND NOT s.suspended AND {member}
    AND s.key NOT IN (SELECT key FROM temp.buried)
  LIMIT :cap
)
"""

_LEARNING_CARDS = """
SELECT k.key FROM card_state s JOIN temp.selected k ON k.key = s.key
WHERE s.state IN (1, 3) AND NOT s.suspended
"""


class _Sibling(NamedTuple):
    key: str
    note_key: str


class DueQuery:
    """Counts and queues over `source`'s cards, read in one snapshot of the store."""

    def __init__(self, store: Store, source: KeySource, now: datetime, config: Config) -> None:
        self.store, self.source, self.config = store, source, config
        self.at = moments(now, config)
        self.kept = False  # whether the source keeps the lists of new cards and strays
        self.now = now

    def __enter__(self) -> DueQuery:
        db = self.store.db
        # Counting reads the state table and its due index whole on a large collection:
        # more than SQLite's default 2 MiB page cache (negative: KiB).
        db.execute("PRAGMA main.cache_size = -16384")
        self.source.attach(db)  # before BEGIN: SQLite attaches no database in a transaction
        try:
            db.execute("BEGIN")  # one snapshot for every read below
            self.kept = self.source.new_keys(db, _IS_NEW)
            if not self.kept:
                db.execute(f"CREATE TEMP VIEW fresh AS {_FRESH}")
            db.execute("CREATE TEMP TABLE buried (key TEXT PRIMARY KEY)")
            start = day_start(self.now, self.config.rollover_hour)
            self.done_today = self.store.counts_since(start)
            reviewed = self.store.keys_reviewed_since(start)
            db.executemany(
                "INSERT INTO temp.buried VALUES (?)", ((k,) for k in self._buried(reviewed))
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        db = self.store.db
        try:
            if db.in_transaction:
                db.execute("COMMIT")
        finally:
            db.execute("DROP TABLE IF EXISTS temp.buried")
            db.execute("DROP VIEW IF EXISTS temp.fresh")
            self.source.detach(db)

    def _buried(self, reviewed_today: set[str]) -> list[str]:
        rows = self.store.db.execute(_SIBLINGS).fetchall()
        cards = [_Sibling(row[0], row[1]) for row in rows]
        records = {row[0]: _card_from_row(row[2:]) for row in rows if row[2] is not None}
        end = datetime.fromtimestamp(self.at.end / 1000, self.now.tzinfo)
        shown = {card.key for card in bury_siblings(cards, records, reviewed_today, end)}
        return [card.key for card in cards if card.key not in shown]

    # -- counts ------------------------------------------------------------------------

    def raw_by_deck(self) -> dict[str, Raw]:
        """Each deck's counts before the limits. A deck's `next_due` is its learning
        cards' only; the total adds the first review due after today (raw_total)."""
        db, at = self.store.db, self.at._asdict()
        parts = {"deck": "k.deck_id", "group": "GROUP BY k.deck_id"}
        new = {
            deck_id: (today, every) for deck_id, today, every in db.execute(_NEW.format(**parts))
        }
        if self.kept:
            scheduled = {row[0]: row[1:] for row in db.execute(_LEARNING_KEPT, at)}
            for deck_id, today, by_tomorrow in db.execute(_REVIEWS_KEPT, at):
                learning, _, later, next_due, tomorrow = scheduled.get(deck_id, (0, 0, 0, None, 0))
                scheduled[deck_id] = (learning, today, later, next_due, tomorrow + by_tomorrow)
        else:
            scheduled = {row[0]: row[1:] for row in db.execute(_SCHEDULED, at)}
        raw = {}
        for deck_id in self.source.deck_ids():  # every deck, even one with nothing due
            today, every = new.get(deck_id, (0, 0))
            learning, review, later, next_due, tomorrow = scheduled.get(deck_id, (0, 0, 0, None, 0))
            raw[deck_id] = Raw(today, learning, review, later, next_due, tomorrow, every)
        return raw

    def raw_total(self, by_deck: dict[str, Raw]) -> Raw:
        total = sum(by_deck.values(), Raw())
        row = self.store.db.execute(_NEXT_REVIEW, {"end": self.at.end}).fetchone()
        return total + Raw(next_due=row[0]) if row else total

    def counts(self) -> tuple[dict[str, DueCounts], DueCounts, Tomorrow]:
        """Each deck's due counts, the total, and tomorrow's (what `drill due` shows)."""
        raw = self.raw_by_deck()
        total_raw = self.raw_total(raw)
        rows = {deck_id: self.limited(counts) for deck_id, counts in raw.items()}
        total = self.limited(total_raw)
        return rows, total, self.tomorrow(total_raw, total)

    def total(self) -> DueCounts:
        """The total of counts() alone (a session's summary), read for what it shows:
        of the reviews due today, no more than the day's limit lets in, and one more to
        know that some wait (_SUMMARY_REVIEWS)."""
        db, at = self.store.db, self.at._asdict()
        reviews_left = max(0, self.config.reviews_per_day - self.done_today[1])
        member = _MEMBER_KEPT if self.kept else _MEMBER_JOINED
        _, today, _ = db.execute(_NEW.format(deck="''", group="")).fetchone()
        learning, later, next_due = db.execute(_SUMMARY_LEARNING.format(**member), at).fetchone()
        counted = dict(at, cap=reviews_left + 1)
        (review,) = db.execute(_SUMMARY_REVIEWS.format(**member), counted).fetchone()
        raw = Raw(today, learning, review, later, next_due)
        return self.limited(self.raw_total({"": raw}))

    def limited(self, raw: Raw) -> DueCounts:
        """Counts within what is left of the day's limits; cards a limit holds back come
        the next study day, which makes that the next due time at the latest."""
        config, done = self.config, self.done_today
        new_left = max(0, config.new_per_day - done[0])
        reviews_left = max(0, config.reviews_per_day - done[1])
        next_due = _moment(raw.next_due, self.now)
        held_new = config.new_per_day > 0 and raw.new > new_left
        held_reviews = config.reviews_per_day > 0 and raw.review > reviews_left
        if held_new or held_reviews:
            end = _moment(self.at.end, self.now)
            next_due = end if next_due is None else min(next_due, end)
        return DueCounts(
            new=min(raw.new, new_left),
            learning=raw.learning,
            review=min(raw.review, reviews_left),
            later_today=raw.later_today,
            next_due=next_due,
            new_waiting=max(0, raw.new - new_left) if config.new_per_day > 0 else 0,
        )

    def tomorrow(self, raw: Raw, today: DueCounts) -> Tomorrow:
        """The next study day's cards, if today's due cards are all done today."""
        reviews = min(raw.tomorrow - today.review, self.config.reviews_per_day)
        new = min(raw.tomorrow_new - today.new, self.config.new_per_day)
        return Tomorrow(reviews=max(0, reviews), new=max(0, new))

    # -- the queue ---------------------------------------------------------------------

    def queue_keys(self, new_limit: int | None = None) -> tuple[list[str], list[str]]:
        """(due reviews, most overdue first, then new cards in teaching order), within the
        day's limits; `new_limit` overrides what is left of the new-card allowance."""
        config, done, db = self.config, self.done_today, self.store.db
        reviews_left = max(0, config.reviews_per_day - done[1])
        allowance = max(0, config.new_per_day - done[0]) if new_limit is None else new_limit
        params = {"end": self.at.end, "limit": reviews_left}
        reviews = [row[0] for row in db.execute(_DUE_REVIEWS, params)]
        return reviews, self._new_keys(allowance)

    def _new_keys(self, limit: int) -> list[str]:
        """The first `limit` new cards in teaching order (_NEW_CARDS): from the first
        `take` of the list, more when cards the list holds are not shown (buried, or
        new for want of a due date only)."""
        if limit <= 0:
            return []
        db = self.store.db
        buried = db.execute("SELECT count(*) FROM temp.buried").fetchone()[0]
        # A few more than wanted, for cards of the list not shown for want of a due date.
        take, listed = limit + buried + 16, None
        while True:
            keys = [row[0] for row in db.execute(_NEW_CARDS, {"take": take, "limit": limit})]
            if len(keys) == limit:
                return keys
            if listed is None:
                listed = db.execute("SELECT count(*) FROM temp.fresh").fetchone()[0]
            if take >= listed:
                return keys  # every card of the list was looked at
            take *= 4

    def learning_keys(self) -> list[str]:
        return [row[0] for row in self.store.db.execute(_LEARNING_CARDS)]


def _generator(card: Card) -> str | None:
    return card.generator if card.type is CardType.COMPUTE else None


def _moment(ms: int | None, like: datetime) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, like.tzinfo)


def records_of(store: Store, keys: Iterable[str]) -> dict[str, CardRecord]:
    """The stored records of `keys` (cards never reviewed nor suspended have none)."""
    keys = list(keys)
    found: dict[str, CardRecord] = {}
    for start in range(0, len(keys), 500):  # within SQLite's limit on parameters
        chunk = keys[start : start + 500]
        rows = store.db.execute(
            f"SELECT {_CARD_COLUMNS} FROM card_state WHERE key IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        found.update((row[0], _card_from_row(row)) for row in rows)
    return found
