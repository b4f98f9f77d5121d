"""Where decks come from, and the collection commands read cards from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import drill.decks.loader
from drill.decks.loader import (
    Collection,
    deck_files,
    default_sources,
    load_collection,
    load_sources,
)
from drill.errors import DeckError, UnknownCard, UnknownDeck
from drill.home.paths import builtin_decks_dir, get_paths


def deck_text(deck_id: str, *card_ids: str, tags: str = "[]", card_tags: str = "[]") -> str:
    cards = "".join(
        f"  - id: {card_id}\n    q: Q {card_id}\n    a: A {card_id}\n    tags: {card_tags}\n"
        for card_id in card_ids or ("c1",)
    )
    return f"id: {deck_id}\ntitle: Deck {deck_id}\ntags: {tags}\ncards:\n{cards}"


def put(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def no_builtin(tmp_path, monkeypatch) -> Path:
    """An empty built-in decks folder, so a test sees only the decks it writes."""
    empty = tmp_path / "builtin"
    empty.mkdir()
    monkeypatch.setattr(drill.decks.loader, "builtin_decks_dir", lambda: empty)
    return empty


# deck_files


def test_deck_files_expands_folders_sorted_and_skips_other_files(tmp_path):
    folder = tmp_path / "decks"
    put(folder, "b.yml", "")
    put(folder, "a.yaml", "")
    put(folder, "C.YAML", "")
    put(folder, "notes.txt", "")
    put(folder, ".#a.yaml", "")  # an editor's lock file
    (folder / "sub.yaml").mkdir()
    single = put(tmp_path, "single.txt", "")
    assert deck_files([folder, single]) == [
        folder / "C.YAML",
        folder / "a.yaml",
        folder / "b.yml",
        single,
    ]


def test_deck_files_lists_a_file_once_however_it_is_reached(tmp_path):
    path = put(tmp_path / "decks", "a.yaml", "")
    assert deck_files([path, tmp_path / "decks", tmp_path / "decks" / ".." / "decks"]) == [path]


def test_a_missing_path_is_a_deck_error(tmp_path):
    with pytest.raises(DeckError) as caught:
        deck_files([tmp_path / "nope"])
    assert str(caught.value) == f"{tmp_path / 'nope'}: no such file or folder"


# default_sources


def test_default_sources_order(tmp_path, monkeypatch, no_builtin):
    user = get_paths().user_decks
    user.mkdir()
    env_a, env_b = tmp_path / "env-a", tmp_path / "env-b"
    monkeypatch.setenv("DRILL_DECKS", f"{env_a}{os.pathsep}{env_b}")
    extra = [tmp_path / "extra"]
    assert default_sources(extra) == [no_builtin, user, env_a, env_b, *extra]


def test_default_sources_leave_out_absent_builtin_and_user_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(drill.decks.loader, "builtin_decks_dir", lambda: tmp_path / "absent")
    assert default_sources() == []


def test_the_builtin_decks_are_a_default_source():
    assert builtin_decks_dir().is_dir()
    assert default_sources()[0] == builtin_decks_dir()


# load_collection


@pytest.mark.usefixtures("no_builtin")
def test_collection_reads_user_env_and_extra_decks(tmp_path, monkeypatch):
    put(get_paths().user_decks, "user.yaml", deck_text("user"))
    put(tmp_path / "env-a", "a.yaml", deck_text("env-a"))
    put(tmp_path / "env-b", "b.yaml", deck_text("env-b"))
    monkeypatch.setenv("DRILL_DECKS", f"{tmp_path / 'env-a'}{os.pathsep}{tmp_path / 'env-b'}")
    extra_file = put(tmp_path / "x", "one.yaml", deck_text("extra-file"))
    extra_folder = tmp_path / "y"
    put(extra_folder, "two.yaml", deck_text("extra-folder"))
    collection = load_collection([extra_file, extra_folder])
    assert collection.errors == []
    assert [deck.id for deck in collection.decks] == [
        "user",
        "env-a",
        "env-b",
        "extra-file",
        "extra-folder",
    ]


@pytest.mark.usefixtures("no_builtin")
def test_a_bad_deck_never_blocks_the_others(tmp_path):
    folder = tmp_path / "decks"
    put(folder, "a.yaml", deck_text("alpha"))
    bad = put(folder, "b.yaml", "id: beta\ntitle: B\ncards:\n  - id: c\n    q: x\n")
    put(folder, "c.yaml", b"\xff\xfe junk".decode("latin-1"))
    put(folder, "d.yaml", deck_text("delta"))
    collection = load_collection([folder, tmp_path / "missing"])
    assert [deck.id for deck in collection.decks] == ["alpha", "delta"]
    assert str(collection.errors[0]) == f"{bad}:4:5: card 'c': missing 'a'"
    assert [e.path for e in collection.errors] == [
        str(bad),
        str(folder / "c.yaml"),
        str(tmp_path / "missing"),
    ]


@pytest.mark.usefixtures("no_builtin")
def test_two_files_claiming_one_deck_id_is_an_error_naming_both(tmp_path):
    first = put(tmp_path / "a", "ml.yaml", deck_text("ml", "one"))
    second = put(tmp_path / "b", "ml.yaml", "# a copy\n" + deck_text("ml", "two"))
    collection = load_collection([tmp_path / "a", tmp_path / "b"])
    assert [deck.path for deck in collection.decks] == [first]  # the first one wins
    assert [str(e) for e in collection.errors] == [
        f"{second}:2:5: deck id 'ml' is already used by {first}"
    ]


@pytest.mark.usefixtures("no_builtin")
def test_one_file_reached_through_two_sources_loads_once(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    put(folder, "a.yaml", deck_text("alpha"))
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    collection = load_collection([folder, folder / "a.yaml"])
    assert collection.errors == []
    assert [deck.id for deck in collection.decks] == ["alpha"]


def test_load_sources_passes_the_size_limit(tmp_path):
    path = put(tmp_path, "a.yaml", deck_text("alpha"))
    collection = load_sources([path], max_bytes=10)
    assert collection.decks == []
    assert "above the 10 bytes limit" in str(collection.errors[0])


# Collection lookups


@pytest.fixture
def collection(tmp_path) -> Collection:
    folder = tmp_path / "decks"
    put(folder, "a.yaml", deck_text("backprop", "chain-rule", "two-passes", tags="[dl]"))
    put(
        folder,
        "b.yaml",
        deck_text("optim", "adam", "momentum", card_tags="[interview]").replace(
            "    a: A momentum\n", "    a: A momentum\n    was: [sgd-momentum]\n"
        ),
    )
    return load_sources([folder])


def test_deck_lookup_suggests_a_close_id(collection):
    assert collection.deck("optim").title == "Deck optim"
    with pytest.raises(UnknownDeck) as caught:
        collection.deck("bakprop")
    assert str(caught.value) == "no deck 'bakprop' (did you mean 'backprop'?); see drill decks"


def test_card_lookup_by_key_suggests_a_close_key(collection):
    assert collection.card("optim/adam").q == "Q adam"
    with pytest.raises(UnknownCard) as caught:
        collection.card("optim/adma")
    assert str(caught.value) == "no card 'optim/adma' (did you mean 'optim/adam'?)"
    with pytest.raises(UnknownCard) as caught:
        collection.card("adam")
    assert str(caught.value) == "'adam' is not a card key; write it as deck/card"


def test_cards_filter_by_deck_and_by_tag_including_deck_tags(collection):
    keys = lambda cards: [card.key for card in cards]  # noqa: E731
    assert keys(collection.cards()) == [
        "backprop/chain-rule",
        "backprop/two-passes",
        "optim/adam",
        "optim/momentum",
    ]
    assert keys(collection.cards(["optim"])) == ["optim/adam", "optim/momentum"]
    assert keys(collection.cards(tags=["dl"])) == ["backprop/chain-rule", "backprop/two-passes"]
    assert keys(collection.cards(["backprop", "optim"], tags=["interview"])) == [
        "optim/adam",
        "optim/momentum",
    ]
    assert keys(collection.cards(tags=["nothing"])) == []
    with pytest.raises(UnknownDeck):
        collection.cards(["optimm"])


def test_tags_of_a_card_include_its_decks(collection):
    assert collection.tags_of(collection.card("backprop/chain-rule")) == ("dl",)
    assert collection.tags_of(collection.card("optim/adam")) == ("interview",)


def test_renames_map_old_keys_to_current(collection):
    assert collection.renames() == {"optim/sgd-momentum": "optim/momentum"}
    assert collection.card_count == 4


@pytest.mark.usefixtures("no_builtin")
def test_warnings_are_one_line_per_bad_file(tmp_path):
    folder = tmp_path / "decks"
    bad = put(folder, "bad.yaml", "id: Bad\ntitle: B\ncards: []\nextra: 1\n")
    one = put(folder, "one.yaml", "- a list\n")
    collection = load_collection([folder])
    assert collection.warnings() == [
        f"{bad}:1:5: invalid deck id 'Bad': use lowercase letters, digits, '-' and '_'"
        " (at most 64, starting with a letter or digit) (skipped; 2 more errors, see drill lint)",
        f"{one}:1:1: the top level must be a mapping with id, title and cards, not a list"
        " (skipped)",
    ]
