"""The deck parse cache: hits equal fresh parses, any change is parsed again, and no
damage to the cache ever stops decks from loading."""

from __future__ import annotations

import os
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drill.decks import cache as deck_cache
from drill.decks import loader as decks
from drill.decks.cache import DeckCache, Position, cache_path, decode, encode
from drill.decks.loader import load_collection, load_sources
from drill.home.paths import get_paths
from drill.model import Card, CardType, Deck
from drill.review.store import Store

DECK = """\
id: alpha
title: Alpha
tags: [base]
cards:
  - id: one
    q: What is one?
    a: The first.
    tags: [x]
  - id: two
    was: deux
    q: What is two?
    a: The second.
  - id: grad
    type: compute
    generator: mlp-backward
    params: {activation: relu, loss: mse}
"""


@pytest.fixture
def deck_dir(tmp_path):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(DECK)
    return folder


@pytest.fixture
def parses(monkeypatch):
    """How many files the real parser read."""
    calls: list[str] = []
    real = decks._check

    def counting(path, max_bytes):
        calls.append(path.name)
        return real(path, max_bytes)

    monkeypatch.setattr(decks, "_check", counting)
    return calls


def load(deck_dir, cache_file):
    with DeckCache(cache_file) as cache:
        return load_sources([deck_dir], cache=cache)


def test_an_unchanged_deck_is_read_back_not_parsed(deck_dir, tmp_path, parses):
    cold = load(deck_dir, tmp_path / "cache.db")
    warm = load(deck_dir, tmp_path / "cache.db")
    assert parses == ["alpha.yaml"]
    assert warm.decks == cold.decks and not warm.errors
    assert [c.line for c in warm.decks[0].cards] == [c.line for c in cold.decks[0].cards]
    assert warm.decks[0].path == deck_dir / "alpha.yaml"
    assert warm.decks[0].card("grad").params == {"activation": "relu", "loss": "mse"}


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(deck_dir, tmp_path, parses):
    file = deck_dir / "alpha.yaml"
    load(deck_dir, tmp_path / "cache.db")
    before = file.stat()
    file.write_text(DECK.replace("The first.", "The 1st!!."))  # same length
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert file.stat().st_size == before.st_size
    collection = load(deck_dir, tmp_path / "cache.db")
    assert collection.decks[0].card("one").a == "The 1st!!."
    assert parses == ["alpha.yaml", "alpha.yaml"]


def test_a_new_mtime_is_parsed_again(deck_dir, tmp_path, parses):
    file = deck_dir / "alpha.yaml"
    load(deck_dir, tmp_path / "cache.db")
    os.utime(file, ns=(file.stat().st_atime_ns, file.stat().st_mtime_ns + 1_000_000_000))
    load(deck_dir, tmp_path / "cache.db")
    load(deck_dir, tmp_path / "cache.db")
    assert parses == ["alpha.yaml", "alpha.yaml"]


def test_a_deck_with_errors_is_not_cached(deck_dir, tmp_path, parses):
    (deck_dir / "alpha.yaml").write_text(DECK.replace("id: alpha", "id: Alpha!"))
    for _ in range(2):
        collection = load(deck_dir, tmp_path / "cache.db")
        assert not collection.decks
        assert "invalid deck id 'Alpha!'" in str(collection.errors[0])
    assert parses == ["alpha.yaml", "alpha.yaml"]


def test_a_corrupt_entry_is_ignored_and_replaced(deck_dir, tmp_path, parses):
    cache_file = tmp_path / "cache.db"
    cold = load(deck_dir, cache_file)
    with sqlite3.connect(cache_file) as db:
        db.execute('UPDATE decks SET deck = \'{"id": "alpha", "cards": [{\'')
    assert load(deck_dir, cache_file).decks == cold.decks
    assert load(deck_dir, cache_file).decks == cold.decks
    assert parses == ["alpha.yaml", "alpha.yaml"]


@pytest.mark.parametrize(
    "payload",
    ["null", "[]", '{"id": "alpha"}', '{"id": "alpha", "title": "A", "cards": [{"id": 1}]}'],
)
def test_entries_that_do_not_make_a_deck_decode_to_none(payload, tmp_path):
    assert decode(payload, tmp_path / "a.yaml") is None


def test_a_cache_file_that_is_not_a_database_is_rebuilt(deck_dir, tmp_path, parses):
    cache_file = tmp_path / "cache.db"
    cache_file.write_bytes(b"this is not SQLite at all" * 100)
    cold = load(deck_dir, cache_file)
    assert cold.decks and not cold.errors
    assert load(deck_dir, cache_file).decks == cold.decks
    assert parses == ["alpha.yaml"]


def test_a_foreign_sqlite_file_in_its_place_is_rebuilt(deck_dir, tmp_path, parses):
    cache_file = tmp_path / "cache.db"
    with sqlite3.connect(cache_file) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("CREATE TABLE other (x)")
    load(deck_dir, cache_file)
    load(deck_dir, cache_file)
    assert parses == ["alpha.yaml"]


def test_a_locked_cache_is_skipped_not_waited_for(deck_dir, tmp_path, parses):
    cache_file = tmp_path / "cache.db"
    load(deck_dir, cache_file)
    (deck_dir / "beta.yaml").write_text(DECK.replace("alpha", "beta"))
    holder = sqlite3.connect(cache_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than we wait
    try:
        collection = load(deck_dir, cache_file)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [deck.id for deck in collection.decks] == ["alpha", "beta"]
    load(deck_dir, cache_file)
    assert parses.count("beta.yaml") == 2  # parsed both times: the locked cache kept nothing


def test_a_new_parser_drops_every_entry(deck_dir, tmp_path, parses, monkeypatch):
    load(deck_dir, tmp_path / "cache.db")
    monkeypatch.setattr(deck_cache, "_fingerprint", lambda: "another version")
    load(deck_dir, tmp_path / "cache.db")
    load(deck_dir, tmp_path / "cache.db")
    assert parses == ["alpha.yaml", "alpha.yaml"]


def test_the_fingerprint_follows_the_parser_modules(monkeypatch):
    first = deck_cache._fingerprint()
    monkeypatch.setattr(deck_cache, "CACHE_FORMAT", deck_cache.CACHE_FORMAT + 1)
    assert deck_cache._fingerprint() != first
    assert "decks/check.py:" in first and "exercises/registry.py:" in first


def test_a_duplicate_deck_id_is_placed_the_same_from_the_cache(deck_dir, tmp_path):
    (deck_dir / "copy.yaml").write_text("# the same deck again\n" + DECK)
    cold = load(deck_dir, tmp_path / "cache.db")
    warm = load(deck_dir, tmp_path / "cache.db")
    assert [str(e) for e in warm.errors] == [str(e) for e in cold.errors]
    assert f"{deck_dir / 'copy.yaml'}:2:5: deck id 'alpha' is already used" in str(warm.errors[0])


def test_entries_of_deleted_files_are_pruned(deck_dir, tmp_path):
    cache_file = tmp_path / "cache.db"
    (deck_dir / "beta.yaml").write_text(DECK.replace("alpha", "beta"))
    load(deck_dir, cache_file)
    (deck_dir / "beta.yaml").unlink()
    (deck_dir / "gamma.yaml").write_text(DECK.replace("alpha", "gamma"))
    load(deck_dir, cache_file)
    with sqlite3.connect(cache_file) as db:
        names = sorted(os.path.basename(p) for (p,) in db.execute("SELECT path FROM decks"))
    assert names == ["alpha.yaml", "gamma.yaml"]


def test_a_pipe_is_never_hashed(tmp_path):
    fifo = tmp_path / "deck.yaml"
    os.mkfifo(fifo)
    assert deck_cache.stamp_file(fifo, 1 << 20) is None


def test_an_oversized_deck_bypasses_the_cache(deck_dir, tmp_path):
    with DeckCache(tmp_path / "cache.db") as cache:
        collection = load_sources([deck_dir], max_bytes=100, cache=cache)
    assert "above the 100 bytes limit" in str(collection.errors[0])


def test_load_collection_uses_the_cache_once_drill_keeps_a_database(
    drill_home, parses, checkout_decks
):
    load_collection()
    assert not cache_path().exists()  # a home drill has not used is left untouched
    Store(get_paths().database).close()
    first = load_collection()
    count = len(parses)
    assert count  # built-in decks parsed, not read from a shipped table
    assert load_collection().decks == first.decks
    assert len(parses) == count  # the built-in decks came from the cache
    assert cache_path().exists()


def test_an_unwritable_cache_folder_is_not_an_error(deck_dir, tmp_path):
    collection = load(deck_dir, tmp_path / "missing" / "cache.db")
    assert [deck.id for deck in collection.decks] == ["alpha"]


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
_cards = st.builds(
    Card,
    deck_id=st.just("d"),
    id=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True),
    q=_text,
    a=_text,
    type=st.sampled_from(CardType),
    tags=st.lists(_text, max_size=3).map(tuple),
    ref=st.none() | _text,
    generator=st.none() | _text,
    params=st.dictionaries(
        _text, st.none() | st.booleans() | st.integers() | _text | st.lists(st.integers())
    ),
    was=st.lists(_text, max_size=2).map(tuple),
    line=st.none() | st.integers(1, 10**6),
)


@settings(max_examples=60, deadline=None)
@given(cards=st.lists(_cards, max_size=5), title=_text, description=_text)
def test_an_entry_reads_back_as_the_same_deck(tmp_path_factory, cards, title, description):
    path = tmp_path_factory.getbasetemp() / "d.yaml"
    deck = Deck(id="d", title=title, cards=tuple(cards), description=description, path=path)
    cached = decode(encode(deck, Position(3, 5)), path)
    assert cached is not None
    assert cached.deck == deck and cached.id_position == (3, 5)
    assert [c.line for c in cached.deck.cards] == [c.line for c in deck.cards]


def test_the_cache_never_reads_a_deck_it_was_not_asked_for(deck_dir, tmp_path):
    # An entry for one path is never served for another, even with the same content.
    other = tmp_path / "other"
    other.mkdir()
    (other / "alpha.yaml").write_text(DECK)
    cache_file = tmp_path / "cache.db"
    load(deck_dir, cache_file)
    collection = load(other, cache_file)
    assert collection.decks[0].path == other / "alpha.yaml"


def test_a_deck_that_would_not_read_back_identically_is_not_cached(deck_dir, tmp_path, parses):
    # NaN is not equal to itself, so the entry could not be checked against the parse.
    (deck_dir / "alpha.yaml").write_text(DECK.replace("loss: mse", "loss: mse, lr: .nan"))
    load(deck_dir, tmp_path / "cache.db")
    load(deck_dir, tmp_path / "cache.db")
    assert parses == ["alpha.yaml", "alpha.yaml"]
