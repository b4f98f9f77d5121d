"""The built-in decks shipped parsed (drill.decks.prebuilt builds the table at build time,
drill.decks.shipped reads it): a new home reads them without parsing, and anything that
does not match is parsed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drill.decks import loader as decks
from drill.decks import prebuilt, shipped
from drill.decks.loader import load_collection, load_sources
from drill.home.paths import builtin_decks_dir

DECK = """\
id: alpha
title: Alpha
cards:
  - id: one
    q: What is one?
    a: The first.
  - id: two
    was: [deux]
    q: What is two?
    a: The second.
"""


@pytest.fixture
def builtin(tmp_path, monkeypatch):
    """A built-in decks folder of two decks, and drill looking there for them."""
    folder = tmp_path / "builtin"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(DECK)
    shutil.copy(builtin_decks_dir() / "intro.yaml", folder / "intro.yaml")
    monkeypatch.setattr(shipped, "builtin_decks_dir", lambda: folder)
    monkeypatch.setattr(decks, "builtin_decks_dir", lambda: folder)
    shipped._table.cache_clear()
    yield folder
    shipped._table.cache_clear()


@pytest.fixture
def parses(monkeypatch):
    """The files the real parser read."""
    calls: list[str] = []
    real = decks._check

    def counting(path, max_bytes, *args, **kwargs):
        calls.append(path.name)
        return real(path, max_bytes, *args, **kwargs)

    monkeypatch.setattr(decks, "_check", counting)
    return calls


def ship(folder: Path, parses: list[str]) -> None:
    """What the build hook does: the table beside the decks (its parses not counted)."""
    (folder / shipped.FILE_NAME).write_text(prebuilt.build(folder))
    shipped._table.cache_clear()
    parses.clear()


def test_a_new_home_reads_the_shipped_decks_without_parsing(builtin, parses):
    parsed = load_sources([builtin])
    ship(builtin, parses)
    shipped = load_collection()  # a brand-new home: no database, no deck cache
    assert parses == []
    assert shipped.decks == parsed.decks and not shipped.errors
    assert [card.line for card in shipped.decks[0].cards] == [
        card.line for card in parsed.decks[0].cards
    ]
    assert shipped.renames() == {"alpha/deux": "alpha/two"}


def test_an_edited_deck_is_parsed_and_the_others_still_shipped(builtin, parses):
    ship(builtin, parses)
    text = (builtin / "alpha.yaml").read_text().replace("The first.", "The first one.")
    (builtin / "alpha.yaml").write_text(text)
    collection = load_collection()
    assert parses == ["alpha.yaml"]
    assert collection.deck("alpha").cards[0].a == "The first one."


def test_an_edit_that_keeps_the_size_is_still_seen(builtin, parses):
    ship(builtin, parses)
    text = (builtin / "alpha.yaml").read_text().replace("The first.", "The fir5t.")
    (builtin / "alpha.yaml").write_text(text)
    assert load_collection().deck("alpha").cards[0].a == "The fir5t."
    assert parses == ["alpha.yaml"]


def test_a_table_from_another_parser_is_ignored(builtin, parses):
    ship(builtin, parses)
    table = json.loads((builtin / shipped.FILE_NAME).read_text())
    table["parser"] = "0.0.1 decks/check.py:00000000"
    (builtin / shipped.FILE_NAME).write_text(json.dumps(table))
    shipped._table.cache_clear()
    load_collection()
    assert sorted(parses) == ["alpha.yaml", "intro.yaml"]


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"format": 1}', ""])
def test_a_damaged_table_only_means_parsing(builtin, parses, content):
    (builtin / shipped.FILE_NAME).write_text(content)
    collection = load_collection()
    assert sorted(parses) == ["alpha.yaml", "intro.yaml"] and not collection.errors


def test_a_table_is_only_read_for_the_builtin_folder(builtin, tmp_path, parses):
    ship(builtin, parses)
    mine = tmp_path / "mine"
    shutil.copytree(builtin, mine)  # the same files and table, in a user's folder
    load_sources([mine], cache=decks.DeckCache(tmp_path / "cache.db"))
    assert sorted(parses) == ["alpha.yaml", "intro.yaml"]


def test_building_refuses_a_broken_builtin_deck(builtin):
    (builtin / "broken.yaml").write_text("id: broken\ntitle: B\ncards:\n  - id: x\n    q: 1\n")
    with pytest.raises(prebuilt.BrokenBuiltinDeck, match=r"broken\.yaml"):
        prebuilt.build(builtin)
    code = prebuilt.main([str(builtin), str(builtin / "out.json")])
    assert code == 1 and not (builtin / "out.json").exists()


def test_building_refuses_two_decks_with_one_id(builtin):
    (builtin / "again.yaml").write_text(DECK)
    with pytest.raises(prebuilt.BrokenBuiltinDeck, match="already used"):
        prebuilt.build(builtin)


def test_the_real_builtin_decks_build(tmp_path):
    out = tmp_path / "table.json"
    assert prebuilt.main([str(builtin_decks_dir()), str(out)]) == 0
    table = json.loads(out.read_text())
    files = {path.name for path in builtin_decks_dir().glob("*.yaml")}
    assert set(table["decks"]) == files
    assert table["parser"] == shipped.parser_fingerprint()


@pytest.fixture
def decodes(monkeypatch):
    """The built-in decks decoded from the table (their cards made), by file name."""
    calls: list[str] = []
    real = shipped.ShippedDeck.decoded

    def counting(self):
        calls.append(self.file.name)
        return real(self)

    monkeypatch.setattr(shipped.ShippedDeck, "decoded", counting)
    return calls


def test_a_new_home_counts_the_shipped_decks_without_decoding_them(builtin, parses, decodes):
    from drill.decks.cache import index_rows
    from drill.decks.index import load_index
    from drill.home.config import Config
    from drill.review.due import DueQuery
    from drill.review.store import Store

    parsed = {deck.id: deck for deck in load_sources([builtin]).decks}
    ship(builtin, parses)
    decodes.clear()  # (building the table reads every entry back)
    index = load_index()  # a brand-new home: no database, so no deck cache either
    assert [entry.id for entry in index.entries] == ["alpha", "intro"]
    assert index.renames() == {"alpha/deux": "alpha/two"}
    index.select()
    with Store.open() as store, DueQuery(store, index, datetime.now(UTC), Config()) as query:
        rows = store.db.execute("SELECT * FROM temp.keys ORDER BY path, position").fetchall()
        new = {deck_id: raw.new for deck_id, raw in query.raw_by_deck().items()}
    assert parses == [] and decodes == []  # counted from the table's rows alone
    want = [
        (*row[:5], int(row[5]), *row[6:])
        for deck in parsed.values()
        for row in index_rows(str((builtin / f"{deck.id}.yaml").absolute()), deck)
    ]
    assert rows == want
    assert new == {"alpha": 2, "intro": len(parsed["intro"].cards)}
    assert index.cards(["alpha/two"]) == {"alpha/two": parsed["alpha"].cards[1]}
    assert decodes == ["alpha.yaml"]  # only the deck whose card was asked for


def test_a_new_home_finds_the_shipped_decks_tags_without_decoding_them(builtin, parses, decodes):
    from drill.decks.index import load_index
    from drill.errors import DrillError

    (builtin / "alpha.yaml").write_text(DECK.replace("    was: [deux]\n", "    tags: [two]\n"))
    ship(builtin, parses)
    decodes.clear()
    index = load_index()
    index.select(["alpha"], ["two"])
    assert index.deck_ids() == ["alpha"]
    with pytest.raises(DrillError, match="no card in intro has the tag"):
        index.select(["intro"], ["two"])
    assert parses == [] and decodes == []


def test_a_damaged_shipped_deck_is_parsed_when_its_cards_are_needed(builtin, parses):
    from drill.decks.index import load_index
    from drill.home.config import Config
    from drill.review.due import DueQuery
    from drill.review.store import Store

    ship(builtin, parses)
    table = json.loads((builtin / shipped.FILE_NAME).read_text())
    table["decks"]["alpha.yaml"]["deck"] = "not base64 nor zlib"
    table["decks"]["alpha.yaml"]["keys"] = "[not json"
    (builtin / shipped.FILE_NAME).write_text(json.dumps(table))
    shipped._table.cache_clear()
    index = load_index()
    index.select(["alpha"])
    with Store.open() as store, DueQuery(store, index, datetime.now(UTC), Config()) as query:
        assert query.raw_by_deck()["alpha"].new == 2  # rows made from the parsed deck
    assert parses == ["alpha.yaml"]
    assert [card.a for card in index.cards(["alpha/one"]).values()] == ["The first."]
    assert load_collection().deck("alpha").cards[0].a == "The first."  # parsed, not decoded


def test_the_second_run_of_a_new_home_caches_the_shipped_rows(builtin, parses, decodes, tmp_path):
    """Once a database exists the home keeps a deck cache: the built-in decks go into it
    with the table's header and rows, no card made, and exactly as parsing writes them."""
    from drill.decks.cache import DeckCache, Position, cache_path, stamp_file
    from drill.decks.index import load_index
    from drill.review.store import Store

    parsed = DeckCache(tmp_path / "parsed.db")
    for file in sorted(builtin.glob("*.yaml")):
        checked = decks._check(file, 10**6)
        node = checked.id_node
        parsed.put(stamp_file(file, 10**6), checked.deck, Position(node.line, node.column))
    parsed.close()
    ship(builtin, parses)
    decodes.clear()
    Store.open().close()
    load_index()
    assert parses == [] and decodes == []
    index = load_index()  # from the home's cache now
    assert all(entry.deck is None for entry in index.entries)

    def content(path):
        db = sqlite3.connect(path)
        try:
            return [
                db.execute(f"SELECT * FROM {table} ORDER BY path, key").fetchall()
                for table in ("study_keys", "study_cards")
            ] + [db.execute("SELECT path, size, digest, header, deck FROM decks").fetchall()]
        finally:
            db.close()

    assert content(cache_path()) == content(tmp_path / "parsed.db")
