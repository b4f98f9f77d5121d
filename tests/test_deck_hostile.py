"""Hostile and arbitrary input: the loader refuses it with a DeckError and nothing else."""

from __future__ import annotations

import contextlib
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import drill.decks.reader
from drill.decks.check import CARD_KEYS, DECK_KEYS
from drill.decks.loader import check_deck, load_deck
from drill.errors import DeckError
from drill.model import Card, CardType, Deck

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FUZZ_STRUCTURED = settings(FUZZ, max_examples=60)  # each example is costlier to generate


def write(tmp_path: Path, data: str | bytes, name: str = "deck.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def only_error(path: Path) -> DeckError:
    deck, errors = check_deck(path)
    assert deck is None
    assert len(errors) == 1, errors
    return errors[0]


# Code in YAML tags


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
@pytest.mark.parametrize(
    "template",
    [
        '!!python/object/apply:os.system ["touch {marker}"]\n',
        'id: d\ntitle: !!python/object/apply:os.system ["touch {marker}"]\ncards: []\n',
        "id: d\ntitle: D\ncards:\n  - id: c\n    type: compute\n    generator: adam-step\n"
        '    params: {{lr: !!python/object/apply:os.system ["touch {marker}"]}}\n',
        '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]\n',
        "id: !!python/name:os.system\ntitle: D\ncards: []\n",
        '? !!python/object/apply:os.system ["touch {marker}"]\n: x\n',
    ],
    ids=["top", "title", "nested-param", "new", "name", "key"],
)
def test_python_tags_are_refused_and_never_run(tmp_path, monkeypatch, loader, template):
    if not hasattr(yaml, loader):
        pytest.skip(f"PyYAML has no {loader}")
    monkeypatch.setattr(drill.decks.reader, "LOADER", getattr(yaml, loader))
    marker = tmp_path / "ran"
    path = write(tmp_path, template.format(marker=marker))
    error = only_error(path)
    assert "YAML tag '!!python/" in error.message
    assert "is not allowed in decks" in error.message
    assert error.path == str(path)
    assert error.line is not None
    assert not marker.exists()


# Expansion, size and depth


BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(
            f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
            for a, b in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "",
    ]
)


def test_alias_bomb_is_refused_with_bounded_memory(tmp_path):
    path = write(tmp_path, BILLION_LAUGHS)
    tracemalloc.start()
    try:
        error = only_error(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(error) == (
        f"{path}:1:4: YAML anchors and aliases (&name, *name) are not allowed in decks;"
        " write values out"
    )
    assert peak < 2_000_000  # fully expanded, the bomb would be 10⁹ strings


def test_an_alias_alone_is_refused(tmp_path):
    error = only_error(write(tmp_path, "id: d\ntitle: *t\ncards: []\n"))
    assert (error.line, error.column) == (2, 8)
    assert "aliases" in error.message


def test_a_50_mb_deck_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: no disk space used
    tracemalloc.start()
    try:
        error = only_error(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(error) == f"{path}: file is 50.0 MiB, above the 5.0 MiB limit for deck files"
    assert peak < 1_000_000


def test_the_size_limit_is_a_parameter(tmp_path):
    path = write(tmp_path, "id: d\ntitle: D\ncards:\n  - {id: c, q: x, a: y}\n")
    assert load_deck(path).id == "d"
    _, errors = check_deck(path, max_bytes=20)
    assert [str(e) for e in errors] == [
        f"{path}: file is {path.stat().st_size} bytes, above the 20 bytes limit for deck files"
    ]


def test_deep_nesting_is_refused(tmp_path):
    text = "id: d\ntitle: D\ncards:\n  - id: c\n    type: compute\n    generator: adam-step\n"
    text += "    params: {x: " + "[" * 40 + "]" * 40 + "}\n"
    error = only_error(write(tmp_path, text))
    assert error.message == f"nested more than {drill.decks.reader.MAX_DEPTH} levels deep"
    assert error.line == 7


def test_very_deep_flow_nesting_is_refused_without_recursion(tmp_path):
    deck, errors = check_deck(write(tmp_path, "[" * 100_000))
    assert deck is None
    assert len(errors) == 1


def test_too_many_values_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(drill.decks.reader, "MAX_NODES", 50)
    error = only_error(write(tmp_path, "[" + "1, " * 100 + "1]"))
    assert error.message == "more than 50 YAML values"


def test_an_overlong_number_in_params_is_an_error(tmp_path):
    text = "id: d\ntitle: D\ncards:\n  - id: c\n    type: compute\n    generator: adam-step\n"
    text += "    params: {n: " + "9" * 500 + "}\n"
    error = only_error(write(tmp_path, text))
    assert (error.line, error.card) == (7, "c")
    assert error.message == "param 'n': number longer than 100 characters"


# Fuzzing: anything at all in a file gives a deck or DeckErrors, never another exception


def check_only_deck_errors(path: Path) -> None:
    deck, errors = check_deck(path)
    assert (deck is None) == bool(errors)
    assert all(isinstance(error, DeckError) for error in errors)
    assert all(error.path == str(path) for error in errors)
    with contextlib.suppress(DeckError):
        load_deck(path)


@FUZZ
@given(text=st.text())
def test_arbitrary_text_gives_only_deck_errors(tmp_path, text):
    check_only_deck_errors(write(tmp_path, text))


@FUZZ
@given(data=st.binary())
def test_arbitrary_bytes_give_only_deck_errors(tmp_path, data):
    check_only_deck_errors(write(tmp_path, data))


# Fragments of YAML syntax, so the fuzzing reaches the parser's and composer's corners.
_yaml_pieces = st.lists(
    st.sampled_from(
        [
            *"-:[]{}&*!|>'\"#%@`,? \n\tabcid0123",
            *("id: ", "title: ", "cards:\n", "  - ", "q: ", "a: "),
            *("!!python/", "!!str ", "&x ", "*x", "---\n", "..."),
        ]
    ),
    max_size=60,
).map("".join)


@FUZZ
@given(text=_yaml_pieces)
def test_yaml_like_text_gives_only_deck_errors(tmp_path, text):
    check_only_deck_errors(write(tmp_path, text))


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.dates()
)
_keys = st.one_of(st.sampled_from(DECK_KEYS + CARD_KEYS + ("type",)), st.text(max_size=8))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=20,
)
_card_like = st.dictionaries(
    st.sampled_from(CARD_KEYS),
    st.one_of(_values, st.sampled_from(["basic", "compute", "mlp-backward", "adam-step"])),
)
_deck_like = st.fixed_dictionaries(
    {},
    optional={
        "id": _values,
        "title": _values,
        "description": _values,
        "tags": _values,
        "cards": st.lists(st.one_of(_card_like, _values), max_size=4),
        "extra": _values,
    },
)


@FUZZ_STRUCTURED
@given(document=_deck_like)
def test_deck_shaped_yaml_gives_a_deck_or_only_deck_errors(tmp_path, document):
    check_only_deck_errors(write(tmp_path, yaml.safe_dump(document, allow_unicode=True)))


# Round trip: any valid deck written as YAML loads back equal

_ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True)
# No control characters but tab and newline: decks refuse them (they drive terminals).
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc"], include_characters="\t\n"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())
_tags = st.lists(
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), max_size=3, unique=True
).map(tuple)


@st.composite
def _decks(draw) -> Deck:
    deck_id = draw(_ids)
    card_ids = draw(st.lists(_ids, min_size=1, max_size=5, unique=True))
    cards = []
    for card_id in card_ids:
        if draw(st.booleans()):
            card = Card(deck_id, card_id, q=draw(_text), a=draw(_text), tags=draw(_tags))
        else:
            params = draw(st.dictionaries(_ids, st.one_of(st.integers(), _text), max_size=2))
            card = Card(
                deck_id,
                card_id,
                type=CardType.COMPUTE,
                generator="adam-step",
                params=params,
                ref=draw(st.one_of(st.none(), _text)),
            )
        cards.append(card)
    title = draw(_text.map(str.strip).filter(lambda s: len(s.splitlines()) == 1))
    return Deck(id=deck_id, title=title, cards=tuple(cards), tags=draw(_tags))


@FUZZ_STRUCTURED
@given(deck=_decks(), allow_unicode=st.booleans())
def test_any_valid_deck_round_trips(tmp_path, deck, allow_unicode):
    text = yaml.safe_dump(deck.to_dict(), allow_unicode=allow_unicode, sort_keys=False)
    path = write(tmp_path, text)
    loaded, errors = check_deck(path)
    assert errors == []
    assert loaded == deck
