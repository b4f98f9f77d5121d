"""`drill due` and `drill study` count and queue in SQL over the study index
(drill.decks.index, drill.review.due). Checked against a plain Python count written from
the rules (new, learning within the learn-ahead, reviews due today, buried siblings, the
day's limits, tomorrow), over random collections and schedules, with decks read from the
cache's index (attached), parsed this time (TEMP table) or given as a list of cards."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from queue_support import oracle_build_queue, oracle_count_due

from drill.decks.curriculum import load_curriculum
from drill.decks.index import load_index
from drill.decks.loader import load_collection
from drill.decks.selection import select_study_cards
from drill.home.config import Config
from drill.model import CardState, Rating
from drill.review import stats
from drill.review.due import CardList, DueQuery
from drill.review.queue import day_end, day_start
from drill.review.session import Session
from drill.review.siblings import bury_siblings
from drill.review.store import CardRecord, Review, Store

NOW = datetime(2026, 5, 4, 15, 30, tzinfo=UTC)
TAGS = ("alpha", "beta", "gamma")


def _deck_yaml(rng: random.Random, number: int) -> str:
    lines = [f"id: deck{number}", f"title: Deck {number}"]
    if rng.random() < 0.3:
        lines.append(f"tags: [{rng.choice(TAGS)}]")
    lines.append("cards:")
    for i in range(rng.randint(3, 25)):
        tags = rng.sample(TAGS, rng.randint(0, 2))
        tag_text = f", tags: [{', '.join(tags)}]" if tags else ""
        kind = rng.random()
        if kind < 0.15:
            deletions = " ".join(f"{{{{c{n}::word{n}}}}}" for n in range(1, rng.randint(2, 4)))
            lines.append(f"  - {{id: z{i}, type: cloze, text: 'Cloze {deletions}.'{tag_text}}}")
        elif kind < 0.3:
            lines.append(f"  - {{id: r{i}, q: Q{i}?, a: A{i}., reverse: true{tag_text}}}")
        else:
            lines.append(f"  - {{id: c{i}, q: Q{i}?, a: A{i}.{tag_text}}}")
    return "\n".join(lines) + "\n"


def _random_home(rng: random.Random, tmp_path, monkeypatch) -> None:
    """One to four random decks in a decks folder drill reads, and no curriculum."""
    folder = tmp_path / "decks"
    folder.mkdir(exist_ok=True)
    for number in range(rng.randint(1, 4)):
        (folder / f"deck{number}.yaml").write_text(_deck_yaml(rng, number), encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    monkeypatch.setattr(
        "drill.decks.index.load_curriculum", lambda cache=None: load_curriculum(tmp_path / "none")
    )


def _random_states(rng: random.Random, store: Store, keys: list[str]) -> None:
    """Random card states, and some of today's reviews (limits, buried siblings)."""
    records = []
    for key in keys:
        roll = rng.random()
        if roll < 0.3:
            continue  # never seen: no record
        state = rng.choice(list(CardState))
        # Around now (the learn-ahead limit, later today) or over a week.
        spread = 60 if rng.random() < 0.4 else 4 * 1440
        due = NOW + timedelta(minutes=rng.randint(-spread, spread))
        if rng.random() < 0.1:
            due = None if state is CardState.NEW else due
        records.append(
            CardRecord(
                key,
                state,
                stability=2.0,
                difficulty=5.0,
                due=due if state is not CardState.NEW else None,
                last_review=NOW - timedelta(days=3),
                reps=1,
                suspended=rng.random() < 0.1,
            )
        )
    store.replace_states(records)
    reviews = []
    for key in rng.sample(keys, min(len(keys), rng.randint(0, 6))):
        before = rng.choice((CardState.NEW, CardState.REVIEW))
        at = NOW - timedelta(minutes=rng.randint(1, 60))
        review = Review(key, at, Rating.GOOD, before, CardState.REVIEW, at + timedelta(days=2))
        after = store.card(key) or CardRecord(key)
        reviews.append((review, after))
    store.record_many(reviews)


def _expected(cards, store: Store, config: Config):
    """Today's totals and tomorrow's, and the queue, counted card by card in Python."""
    records = store.cards()
    start, end = day_start(NOW, config.rollover_hour), day_end(NOW, config.rollover_hour)
    until = day_end(end, config.rollover_hour)
    reviewed = store.keys_reviewed_since(start)
    done = store.counts_since(start)
    shown = bury_siblings(cards, records, reviewed, end)
    counts = oracle_count_due(shown, records, NOW, config, done)
    today = (counts.new, counts.learning, counts.review, counts.later_today)
    tomorrow_due = tomorrow_new = 0
    for card in cards:  # tomorrow's counts take buried siblings too
        r = records.get(card.key)
        if r is not None and r.suspended:
            continue
        if r is None or r.state is CardState.NEW or r.due is None:
            tomorrow_new += 1
        elif r.state is CardState.REVIEW:
            tomorrow_due += r.due < until
        else:
            tomorrow_due += end <= r.due < until
    tomorrow = (
        max(0, min(tomorrow_due - today[2], config.reviews_per_day)),
        max(0, min(tomorrow_new - today[0], config.new_per_day)),
    )
    queue = [card.key for card in oracle_build_queue(shown, records, NOW, config, done)]
    return today, tomorrow, queue


def _counts(store: Store, source, config: Config):
    with DueQuery(store, source, NOW, config) as query:
        rows, total, tomorrow = query.counts()
        assert query.total() == total  # a session's summary: the same, counted in all
    today = (total.new, total.learning, total.review, total.later_today)
    return today, (tomorrow.reviews, tomorrow.new), rows


ONE_CARD = "id: d\ntitle: D\ncards:\n  - {id: a, q: A?, a: A.}\n"


def _deck_home(tmp_path, monkeypatch, text: str = ONE_CARD):
    """A home in use (drill keeps a deck cache only there) whose decks folder holds one
    deck file, d.yaml, written with `text`; its path."""
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "d.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    Store.open().close()
    return folder / "d.yaml"


def _kept_lists(monkeypatch) -> list:
    """What each StudyIndex.new_keys call gives from now on (False: counted the long way)."""
    from drill.decks.index import StudyIndex

    kept: list = []
    real = StudyIndex.new_keys
    monkeypatch.setattr(
        StudyIndex, "new_keys", lambda self, *a: kept.append(real(self, *a)) or kept[-1]
    )
    return kept


@pytest.mark.parametrize("seed", range(12))
def test_the_index_counts_and_queues_as_the_cards_say(seed, tmp_path, monkeypatch):
    rng = random.Random(seed)
    _random_home(rng, tmp_path, monkeypatch)
    config = Config(new_per_day=rng.randint(0, 12), reviews_per_day=rng.randint(1, 15))
    collection = load_collection()
    user_decks = [deck.id for deck in collection.decks if deck.id.startswith("deck")]
    chosen = rng.sample(user_decks, rng.randint(1, len(user_decks)))
    tags = rng.sample(TAGS, 1) if rng.random() < 0.4 else []
    try:
        cards = select_study_cards(collection, chosen, tags)
    except Exception:  # no card has the tag in these decks: the index must say so too
        with pytest.raises(Exception, match="tag"):
            load_index().select(chosen, tags)
        return
    cards = load_curriculum(tmp_path / "none").teaching_order(cards)
    with Store.open() as store:
        _random_states(rng, store, [card.key for card in cards])
        want_today, want_tomorrow, want_queue = _expected(cards, store, config)
        for attempt in ("parsed", "cached"):
            index = load_index()
            cached = [entry for entry in index.entries if entry.deck is None]
            assert bool(cached) == (attempt == "cached")
            index.select(chosen, tags)
            today, tomorrow, rows = _counts(store, index, config)
            assert (today, tomorrow) == (want_today, want_tomorrow), attempt
            assert set(rows) == {card.deck_id for card in cards}
            session = Session(store, index, config, clock=lambda: NOW)
            assert [card.key for card in session.queue] == want_queue, attempt
            assert all(
                session.cards[key] == card
                for key, card in ((c.key, c) for c in cards)
                if key in session.cards
            )
        assert _counts(store, CardList(cards), config)[:2] == (want_today, want_tomorrow)
        # drill stats reads the same index: the figures of the cards as values, the same.
        assert stats.collect(store, index, NOW, 4, chosen) == stats.collect(
            store, cards, NOW, 4, chosen
        )


def _change_states(rng: random.Random, store: Store, keys: list[str], step: int) -> None:
    """One of the ways card state changes under a kept list of new cards."""
    kind = step % 5
    if kind == 0:  # reviews and new states, written as a session writes them
        _random_states(rng, store, rng.sample(keys, len(keys) // 3))
        # and states of the chosen decks that belong to no card (deleted since), due now
        deck = rng.choice(keys).split("/")[0]
        due = round((NOW - timedelta(hours=1)).timestamp() * 1000)
        with store.write() as db:
            for state in (CardState.LEARNING, CardState.REVIEW):
                db.execute(
                    "INSERT OR REPLACE INTO card_state (key, state, due, reps, lapses)"
                    " VALUES (?, ?, ?, 1, 0)",
                    (f"{deck}/gone{step}-{int(state)}", int(state), due),
                )
        return
    with store.write() as db:
        rows = [row[0] for row in db.execute("SELECT key FROM card_state")]
        picked = rng.sample(rows, min(len(rows), 3))
        for key in picked:
            if kind == 1:  # suspended or not, forgotten (new again), or due dates dropped
                column = rng.choice(("suspended = NOT suspended", "state = 0", "due = NULL"))
                db.execute(f"UPDATE card_state SET {column} WHERE key = ?", (key,))
            elif kind == 2:  # history purged
                db.execute("DELETE FROM card_state WHERE key = ?", (key,))
            elif kind == 3:  # a state moved to a key without one, as a rename moves it
                free = [k for k in keys if k not in rows]
                if free:
                    target = rng.choice(free)
                    db.execute("UPDATE card_state SET key = ? WHERE key = ?", (target, key))
                    rows.append(target)
        if kind == 4:  # the log holds no longer what the cache last read (pruned)
            db.execute("DELETE FROM state_changes WHERE seq < (SELECT max(seq) FROM state_changes)")


@pytest.mark.parametrize("seed", range(6))
def test_the_kept_list_of_new_cards_follows_every_change(seed, tmp_path, monkeypatch, drill_home):
    """Counted from the deck cache's list of new cards, brought up to date from the
    store's log of changed keys, the counts and the queue stay those of the cards, through
    reviews, suspensions, forgotten and purged cards, moved states, states of cards no
    longer in their deck, a pruned log and an older copy of the database put back (a
    backup restored, then changed apart)."""
    import shutil

    rng = random.Random(seed)
    _random_home(rng, tmp_path, monkeypatch)
    kept = _kept_lists(monkeypatch)
    config = Config(new_per_day=rng.randint(1, 12), reviews_per_day=rng.randint(1, 15))
    collection = load_collection()
    chosen = [deck.id for deck in collection.decks if deck.id.startswith("deck")]
    cards = load_curriculum(tmp_path / "none").teaching_order(
        select_study_cards(collection, chosen, [])
    )
    keys = [card.key for card in cards]
    database = drill_home / "drill.db"
    Store.open().close()
    load_index()  # the decks parsed once: from now on the cache's index is read
    for step in range(12):
        if step == 6:
            shutil.copy(database, tmp_path / "copy.db")
        if step == 10:  # the older copy back, to be changed apart from what the cache read
            shutil.copy(tmp_path / "copy.db", database)
        with Store.open() as store:
            if step == 10:  # past the log entry the cache last read, with other marks
                with store.write() as db:
                    for _ in range(30):
                        db.execute("UPDATE card_state SET reps = reps")
            _change_states(rng, store, keys, step)
            want_today, want_tomorrow, want_queue = _expected(cards, store, config)
            index = load_index()
            index.select(chosen)
            kept.clear()
            assert _counts(store, index, config)[:2] == (want_today, want_tomorrow), step
            session = Session(store, index, config, clock=lambda: NOW)
            assert [card.key for card in session.queue] == want_queue, step
            assert kept and all(kept), step  # from the kept list, not every key


def test_an_edited_deck_is_counted_as_it_is_now(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    deck = folder / "d.yaml"
    one = "id: d\ntitle: D\ncards:\n  - {id: a, q: A?, a: A.}\n"
    monkeypatch.setenv("DRILL_DECKS", str(folder))

    def new_today() -> tuple[int, bool]:
        index = load_index()
        index.select(["d"])
        with Store.open() as store, DueQuery(store, index, NOW, Config()) as query:
            raw = query.raw_by_deck()["d"]
        return raw.tomorrow_new, index.entries[-1].deck is None

    deck.write_text(one, encoding="utf-8")
    Store.open().close()  # a home in use: drill keeps a deck cache only there
    assert new_today() == (1, False)  # parsed, then kept by the cache
    assert new_today() == (1, True)  # read from the cache's index
    deck.write_text(one + "  - {id: b, q: B?, a: B., reverse: true}\n", encoding="utf-8")
    assert new_today() == (3, False)  # a card and its reverse more, read again
    assert new_today() == (3, True)


def test_a_settled_deck_is_not_read_and_a_fresh_edit_is(tmp_path, monkeypatch):
    """A deck file last changed well before the cache read it is known by its size and
    modification time alone; one changed as it was read is checksummed each time, so an
    edit that keeps both is still seen."""
    import os

    from drill.decks import loader

    folder = tmp_path / "decks"
    folder.mkdir()
    deck = folder / "d.yaml"
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    Store.open().close()
    reads = []
    real = loader.stamp_file
    monkeypatch.setattr(
        loader, "stamp_file", lambda file, limit: reads.append(file) or real(file, limit)
    )

    def tomorrow_new() -> int:
        index = load_index()
        index.select(["d"])
        with Store.open() as store, DueQuery(store, index, NOW, Config()) as query:
            return query.raw_by_deck()["d"].tomorrow_new

    deck.write_text("id: d\ntitle: D\ncards:\n  - {id: a, q: A?, a: A.}\n", encoding="utf-8")
    assert tomorrow_new() == 1
    before = deck.stat()
    deck.write_text("id: d\ntitle: D\ncards:\n  - {id: b, q: B?, a: B.}\n", encoding="utf-8")
    os.utime(deck, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    reads.clear()
    assert tomorrow_new() == 1 and reads == [deck]  # read again: changed as it was read
    index = load_index()
    index.select(["d"])
    assert index.chosen[0].deck is None  # cached as it is now: the new card, not the old
    assert list(index.cards(["d/a", "d/b"])) == ["d/b"]

    hour_ago = before.st_mtime_ns - 3600 * 10**9
    os.utime(deck, ns=(hour_ago, hour_ago))
    load_index()  # the new mtime: read, checksummed and kept again
    reads.clear()
    assert tomorrow_new() == 1 and reads == []  # settled: not read at all


def test_a_deck_cached_as_it_was_written_settles_once_checksummed_later(tmp_path, monkeypatch):
    """A deck read within the window of its last change (written just before drill ran, as
    an install writes the built-in decks) is checksummed at each start until a read made
    well after that change finds it unchanged; from then on it is known by stat alone."""
    import time
    from types import SimpleNamespace

    from drill.decks import cache, loader

    mine = _deck_home(tmp_path, monkeypatch)
    reads = []
    real = loader.stamp_file
    monkeypatch.setattr(
        loader, "stamp_file", lambda f, limit: (f == mine and reads.append(f)) or real(f, limit)
    )

    load_index()  # parsed and cached at once: not settled
    load_index()
    assert len(reads) == 2
    later = SimpleNamespace(time_ns=lambda: time.time_ns() + 10 * 10**9)
    monkeypatch.setattr(cache, "time", later)  # ten seconds on
    load_index()  # checksummed again, the same: settled now
    reads.clear()
    index = load_index()
    index.select(["d"])
    assert reads == [] and list(index.cards(["d/a"])) == ["d/a"]


def test_a_cache_damaged_after_the_decks_were_read_is_one_error(tmp_path, monkeypatch):
    from drill.errors import DeckError

    _deck_home(tmp_path, monkeypatch)
    load_index()  # parsed, then kept in the cache
    index = load_index()
    index.select(["d"])
    index.cache_file.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DeckError, match="deck cache cannot be read now"):
        index.cards(["d/a"])


def test_a_cache_another_process_is_writing_is_counted_past_not_waited_for(tmp_path, monkeypatch):
    import sqlite3

    from drill.decks.cache import cache_path

    _deck_home(tmp_path, monkeypatch)
    load_index()
    kept = _kept_lists(monkeypatch)
    index = load_index()
    index.select(["d"])
    writer = sqlite3.connect(cache_path(), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another drill writing the cache now
    try:
        with Store.open() as store:
            assert _counts(store, index, Config())[0][0] == 1
            assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert kept == [False]  # counted from every key this time
    with Store.open() as store:
        assert _counts(store, index, Config())[0][0] == 1
    assert kept[-1] is True


def test_after_a_review_only_the_changed_keys_are_looked_at_again(tmp_path, monkeypatch):
    """The list of new cards is brought up to date from the keys changed since, not by
    joining every key with its state again (what would make a count cost the collection)."""
    cards = "".join(f"  - {{id: c{i}, q: Q{i}?, a: A{i}.}}\n" for i in range(30))
    _deck_home(tmp_path, monkeypatch, f"id: d\ntitle: D\ncards:\n{cards}")
    load_index()
    index = load_index()
    index.select(["d"])
    with Store.open() as store:
        assert _counts(store, index, Config())[0][0] == 20  # today: the daily 20 new
        _random_states(random.Random(3), store, ["d/c0", "d/c1", "d/c2"])
        statements: list[str] = []
        store.db.set_trace_callback(statements.append)
        want_today, want_tomorrow, _ = _expected(
            next(c for c in load_collection().decks if c.id == "d").cards, store, Config()
        )
        assert _counts(store, index, Config())[:2] == (want_today, want_tomorrow)
    filled = [s for s in statements if "INSERT OR IGNORE INTO ix.unseen" in s]
    assert filled and all("state_changes WHERE seq >" in s for s in filled)


@pytest.mark.parametrize("seed", range(4))
def test_a_brand_new_home_counts_the_shipped_decks_as_the_cards_say(seed, monkeypatch):
    """Read before the home has a database (so without a deck cache), the built-in decks
    join the index by the header and rows of the wheel's table: counted from those rows,
    with none of their cards made, and queued as the card-by-card oracle queues them."""
    from drill.decks import shipped

    rng = random.Random(seed)
    config = Config(new_per_day=rng.randint(0, 12), reviews_per_day=rng.randint(1, 15))
    index = load_index()  # no database yet: the decks come from the wheel's table
    assert index.entries and all(entry.shipped for entry in index.entries)
    collection = load_collection()
    chosen = rng.sample([deck.id for deck in collection.decks], 3)
    known = sorted({tag for deck_id in chosen for tag in collection.deck(deck_id).tags})
    known += sorted({tag for card in collection.cards(chosen) for tag in card.tags})
    tags = rng.sample(known, 1) if rng.random() < 0.5 else []
    cards = load_curriculum().teaching_order(select_study_cards(collection, chosen, tags))
    decoded = []
    real = shipped.ShippedDeck.decoded
    monkeypatch.setattr(
        shipped.ShippedDeck, "decoded", lambda self: decoded.append(self.file) or real(self)
    )
    index.select(chosen, tags)
    with Store.open() as store:
        _random_states(rng, store, [card.key for card in cards])
        want_today, want_tomorrow, want_queue = _expected(cards, store, config)
        today, tomorrow, rows = _counts(store, index, config)
        assert (today, tomorrow) == (want_today, want_tomorrow)
        assert set(rows) == {card.deck_id for card in cards}
        assert decoded == []  # counted without a card made
        session = Session(store, index, config, clock=lambda: NOW)
        assert [card.key for card in session.queue] == want_queue
        assert all(session.cards[card.key] == card for card in cards if card.key in session.cards)
    assert {file.stem for file in decoded} <= set(chosen)
