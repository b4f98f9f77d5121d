"""The deck loader: every kind of error, with its file:line:column and card; good decks load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

import drill.decks.reader
from drill.decks.loader import check_deck, load_deck
from drill.errors import DeckError
from drill.model import Card, CardType, Deck

GOOD = """\
id: backprop
title: Backpropagation
description: The two passes and the chain rule.
tags: [deep-learning]
cards:
  - id: two-passes
    q: Name the two passes of backpropagation.
    a: |
      The forward pass computes the loss;
      the backward pass computes its gradients.
    tags: [interview]
    ref: Deep Learning (2016), section 6.5
  - id: sigmoid-at-zero
    q: What is the derivative of the sigmoid at 0?
    a: 0.25
    was: sigmoid-zero
  - id: mlp-grad
    type: compute
    generator: mlp-backward
    params: {activation: relu, loss: mse}
"""


def write(tmp_path: Path, text: str | bytes, name: str = "deck.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    deck, errors = check_deck(path)
    assert deck is None
    return [str(error) for error in errors]


def only_error(tmp_path: Path, text: str | bytes) -> str:
    """The one error of a deck file, with the file's name replaced by `F` for short asserts."""
    path = write(tmp_path, text)
    messages = errors_of(path)
    assert len(messages) == 1, messages
    return messages[0].replace(str(path), "F")


@pytest.fixture(params=["C", "pure"])
def loader(request, monkeypatch):
    """Run a test with libyaml's parser and with PyYAML's own: positions must agree."""
    if request.param == "C":
        if not hasattr(yaml, "CSafeLoader"):
            pytest.skip("PyYAML built without libyaml")
        monkeypatch.setattr(drill.decks.reader, "LOADER", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(drill.decks.reader, "LOADER", yaml.SafeLoader)
    return request.param


# A good deck


def test_good_deck_loads_every_field(tmp_path):
    path = write(tmp_path, GOOD)
    deck = load_deck(path)
    assert (deck.id, deck.title, deck.tags, deck.path) == (
        "backprop",
        "Backpropagation",
        ("deep-learning",),
        path,
    )
    first, second, third = deck.cards
    assert first.key == "backprop/two-passes"
    assert (
        first.a
        == "The forward pass computes the loss;\nthe backward pass computes its gradients.\n"
    )
    assert (first.tags, first.ref, first.line) == (
        ("interview",),
        "Deep Learning (2016), section 6.5",
        6,
    )
    # A number written as an answer is the text the author wrote, not a float.
    assert (second.a, second.was, second.line) == ("0.25", ("sigmoid-zero",), 13)
    assert (third.type, third.generator, dict(third.params), third.line) == (
        CardType.COMPUTE,
        "mlp-backward",
        {"activation": "relu", "loss": "mse"},
        17,
    )


def test_good_deck_round_trips_through_to_dict(tmp_path):
    deck = load_deck(write(tmp_path, GOOD))
    again = load_deck(write(tmp_path, yaml.safe_dump(deck.to_dict()), "again.yaml"))
    assert again == deck
    assert [card.line for card in again.cards] != [None] * 3


def test_params_keep_their_yaml_types(tmp_path):
    deck = load_deck(
        write(
            tmp_path,
            """\
            id: d
            title: D
            cards:
              - id: c
                type: compute
                generator: adam-step
                params: {lr: 0.5, steps: 3, bias: true, name: x, sizes: [2, 3], none: null}
            """,
        )
    )
    assert dict(deck.cards[0].params) == {
        "lr": 0.5,
        "steps": 3,
        "bias": True,
        "name": "x",
        "sizes": [2, 3],
        "none": None,
    }


def test_loading_decks_does_not_import_numpy(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, GOOD)
    code = (
        "import sys; from pathlib import Path; from drill.decks.loader import load_deck; "
        f"load_deck(Path({str(path)!r})); print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Each kind of error, with its place and card


@pytest.mark.usefixtures("loader")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id: d\ntitle: D\ncards:\n\t- id: x\n",
            "F:4:1: tab used for indentation; YAML indents with spaces only",
        ),
        (
            "id: d\ntitle: D\ncards:\n  - id: x\n  \tq: y\n",
            "F:5:3: tab used for indentation; YAML indents with spaces only",
        ),
        (
            "- id: d\n- title: D\n",
            "F:1:1: the top level must be a mapping with id, title and cards, not a list",
        ),
        (
            "just some text\n",
            "F:1:1: the top level must be a mapping with id, title and cards, not a plain value",
        ),
        (
            "id: d\ntitle: D\ncards: []\n---\nid: e\n",
            "F:4:1: a deck file holds one YAML document; remove the second '---'",
        ),
        (
            "id: d\ntitle: D\ncards:\n  - &first {id: a, q: x, a: y}\n",
            "F:4:5: YAML anchors and aliases (&name, *name) are not allowed in decks;"
            " write values out",
        ),
        (
            "id: d\ntitle: !!binary aGVsbG8=\ncards: []\n",
            "F:2:8: YAML tag '!!binary' is not allowed in decks (plain values only)",
        ),
        (
            "id: d\ntitle: !custom D\ncards: []\n",
            "F:2:8: YAML tag '!custom' is not allowed in decks (plain values only)",
        ),
        ("", "F: file is empty; a deck needs id, title and cards"),
        ("# only a comment\n", "F: file is empty; a deck needs id, title and cards"),
    ],
    ids=[
        "tab-indent",
        "tab-inside-indent",
        "top-list",
        "top-text",
        "two-documents",
        "anchor",
        "binary-tag",
        "custom-tag",
        "empty",
        "comment-only",
    ],
)
def test_file_level_errors(tmp_path, text, expected):
    assert only_error(tmp_path, text) == expected


@pytest.mark.usefixtures("loader")
def test_syntax_error_has_the_parsers_position(tmp_path):
    message = only_error(tmp_path, "id: d\ntitle: [unclosed\ncards: []\n")
    # The two parsers word the problem differently; the place and context are the same.
    assert message.startswith("F:3:6: invalid YAML: ")
    assert message.endswith(" (while parsing a flow sequence started at line 2)")


DECK_HEAD = "id: d\ntitle: D\ncards:\n"


@pytest.mark.usefixtures("loader")
@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        ("  - id: c\n    q: x\n", "F:4:5: card 'c': missing 'a'"),
        ("  - id: c\n    a: x\n", "F:4:5: card 'c': missing 'q'"),
        ("  - q: x\n    a: y\n", "F:4:5: card '#1': missing 'id'"),
        ("  - id: c\n    q: [x, y]\n    a: z\n", "F:5:8: card 'c': 'q' must be text, not a list"),
        ("  - id: c\n    q:\n    a: z\n", "F:5:7: card 'c': 'q' is empty"),
        (
            "  - id: c\n    q: x\n    a: y\n    qq: z\n",
            "F:7:5: card 'c': unknown key 'qq' (did you mean 'q'?)",
        ),
        (
            "  - id: c\n    q: x\n    answer: y\n",
            "F:4:5: card 'c': missing 'a'",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n    tags: interview\n",
            "F:7:11: card 'c': 'tags' must be a list of strings, like [interview, relu]",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n    tags: [ok, 3]\n",
            "F:7:16: card 'c': tags must be strings, not '3'",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n    tags: [deep learning]\n",
            "F:7:12: card 'c': tag 'deep learning' contains a space; write 'deep-learning'",
        ),
        (
            "  - id: Card One\n    q: x\n    a: y\n",
            "F:4:9: card 'Card One': invalid card id 'Card One': use lowercase letters, digits,"
            " '-' and '_' (at most 64, starting with a letter or digit)",
        ),
        (
            "  - id: c\n    type: compute\n",
            "F:4:5: card 'c': missing 'generator'",
        ),
        (
            "  - id: c\n    type: compute\n    generator: mlp-backwards\n",
            "F:6:16: card 'c': unknown generator 'mlp-backwards'"
            " (did you mean 'mlp-backward'?); see drill gen --list",
        ),
        (
            "  - id: c\n    type: comptue\n    generator: mlp-backward\n",
            "F:5:11: card 'c': unknown card type 'comptue' (did you mean 'compute'?);"
            f" use {', '.join(t.value for t in list(CardType)[:-1])} or {list(CardType)[-1].value}",
        ),
        (
            "  - id: c\n    type: compute\n    generator: mlp-backward\n    a: 3\n",
            "F:7:8: card 'c': a compute card's answer is generated on each review; remove 'a'",
        ),
        (
            "  - id: c\n    type: compute\n    generator: mlp-backward\n    params: relu\n",
            "F:7:13: card 'c': 'params' must be a mapping of names to values, not a plain value",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n    generator: mlp-backward\n",
            "F:7:16: card 'c': only compute cards take 'generator' (add 'type: compute')",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n    q: z\n",
            "F:7:5: card 'c': duplicate key 'q' (first at line 5)",
        ),
        ("  - just text\n", "F:4:5: card #1 must be a mapping with id, q and a, not a plain value"),
        (
            "  - id: c\n    q: x\n    a: y\n  - id: c\n    q: z\n    a: w\n",
            "F:7:9: card 'c': duplicate card id 'c' (first at line 4)",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n  - id: e\n    q: z\n    a: w\n    was: c\n",
            "F:10:10: card 'e': 'was' names 'c', the id of a current card (line 4)",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n    was: old\n  - id: e\n    q: z\n    a: w\n"
            "    was: [old]\n",
            "F:11:11: card 'e': old id 'old' is also claimed by card 'c'",
        ),
        (
            "  - id: c\n    q: x\n    a: y\n    was: Old Name\n",
            "F:7:10: card 'c': invalid old id 'Old Name': use lowercase letters, digits,"
            " '-' and '_' (at most 64, starting with a letter or digit)",
        ),
    ],
    ids=[
        "missing-a",
        "missing-q",
        "missing-id",
        "q-not-text",
        "q-empty",
        "unknown-card-key",
        "answer-is-not-a",
        "tags-not-list",
        "tag-not-string",
        "tag-with-space",
        "bad-card-id",
        "missing-generator",
        "unknown-generator",
        "unknown-type",
        "a-on-compute",
        "params-not-mapping",
        "generator-on-basic",
        "duplicate-key",
        "card-not-mapping",
        "duplicate-card-id",
        "was-names-current",
        "was-claimed-twice",
        "was-invalid",
    ],
)
def test_card_errors_name_line_column_and_card(tmp_path, cards, expected):
    text = DECK_HEAD + cards
    path = write(tmp_path, text)
    messages = [m.replace(str(path), "F") for m in errors_of(path)]
    assert expected in messages, messages


def test_unknown_key_suggests_the_field_people_mean(tmp_path):
    path = write(tmp_path, DECK_HEAD + "  - id: c\n    q: x\n    answer: y\n")
    assert f"{path}:6:5: card 'c': unknown key 'answer' (did you mean 'a'?)" in errors_of(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: D\ncards:\n  - {id: c, q: x, a: y}\n", "F:1:1: missing 'id'"),
        ("id: d\ncards:\n  - {id: c, q: x, a: y}\n", "F:1:1: missing 'title'"),
        ("id: d\ntitle: D\n", "F:1:1: missing 'cards'"),
        ("id: d\ntitle: D\ncards: []\n", "F:3:8: the deck has no cards"),
        ("id: d\ntitle: D\ncards:\n", "F:3:7: the deck has no cards"),
        (
            "id: d\ntitle: D\ncards: 3\n",
            "F:3:8: 'cards' must be a list of cards, not a plain value",
        ),
        (
            "id: Deck!\ntitle: D\ncards:\n  - {id: c, q: x, a: y}\n",
            "F:1:5: invalid deck id 'Deck!': use lowercase letters, digits, '-' and '_'"
            " (at most 64, starting with a letter or digit)",
        ),
        (
            "id: d\ntitel: D\ncards:\n  - {id: c, q: x, a: y}\n",
            "F:2:1: unknown key 'titel' (did you mean 'title'?)",
        ),
        (
            "id: d\ntitle: |\n  two\n  lines\ncards:\n  - {id: c, q: x, a: y}\n",
            "F:2:8: 'title' must be one line",
        ),
        (
            "id: d\ntitle: D\ntags: {a: b}\ncards:\n  - {id: c, q: x, a: y}\n",
            "F:3:7: 'tags' must be a list of strings, like [interview, relu]",
        ),
    ],
    ids=[
        "missing-id",
        "missing-title",
        "missing-cards",
        "empty-deck",
        "cards-null",
        "cards-number",
        "bad-deck-id",
        "unknown-deck-key",
        "multiline-title",
        "deck-tags-mapping",
    ],
)
def test_deck_level_errors(tmp_path, text, expected):
    path = write(tmp_path, text)
    messages = [m.replace(str(path), "F") for m in errors_of(path)]
    assert expected in messages, messages


def test_every_error_in_a_file_is_reported_in_line_order(tmp_path):
    path = write(
        tmp_path,
        """\
        id: d
        titel: D
        cards:
          - id: a
            q: [x]
          - id: a
            q: x
            a: y
          - id: b
            type: compute
            generator: no-such-generator
          - id: c
            q: x
            a: y
            tags: [two words]
        """,
    )
    deck, errors = check_deck(path)
    assert deck is None
    assert [(e.line, e.card, e.message.split(" (")[0]) for e in errors] == [
        (1, None, "missing 'title'"),
        (2, None, "unknown key 'titel'"),
        (4, "a", "missing 'a'"),
        (5, "a", "'q' must be text, not a list"),
        (6, "a", "duplicate card id 'a'"),
        (11, "b", "unknown generator 'no-such-generator'; see drill gen --list"),
        (15, "c", "tag 'two words' contains a space; write 'two-words'"),
    ]
    assert all(e.path == str(path) for e in errors)


def test_load_deck_raises_the_first_error(tmp_path):
    path = write(tmp_path, DECK_HEAD + "  - id: c\n    q: x\n  - id: e\n    a: y\n")
    with pytest.raises(DeckError) as caught:
        load_deck(path)
    assert (caught.value.line, caught.value.column, caught.value.card) == (4, 5, "c")
    assert str(caught.value) == f"{path}:4:5: card 'c': missing 'a'"


def test_renamed_card_keeps_its_old_ids(tmp_path):
    deck = load_deck(
        write(tmp_path, DECK_HEAD + "  - id: new\n    q: x\n    a: y\n    was: [old, older]\n")
    )
    assert deck.cards[0].was == ("old", "older")


def test_model_values_are_what_the_loader_builds(tmp_path):
    deck = load_deck(write(tmp_path, DECK_HEAD + "  - {id: c, q: x, a: y}\n"))
    assert deck == Deck(id="d", title="D", cards=(Card(deck_id="d", id="c", q="x", a="y"),))


# Bytes that are not a deck


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"id: d\ntitle: caf\xe9\n", "F:2:11: invalid UTF-8 byte 0xe9; save the file as UTF-8"),
        (
            b"id: d\ntitle: \xc3\xa9t\xe9\n",
            "F:2:10: invalid UTF-8 byte 0xe9; save the file as UTF-8",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "F:3:1: binary file (NUL byte), not a YAML deck"),
        ("id: d\n".encode("utf-16"), "F:1:1: file is UTF-16; save it as UTF-8"),
        (b"id: d\ntitle: a\x07b\n", "F:2:9: control character U+0007 is not allowed in YAML"),
    ],
    ids=["latin-1", "latin-1-after-utf8", "png", "utf-16", "control-char"],
)
def test_bytes_that_are_not_utf8_yaml(tmp_path, data, expected):
    assert only_error(tmp_path, data) == expected


def test_utf8_bom_is_accepted(tmp_path):
    deck = load_deck(write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()))
    assert deck.id == "backprop"


def test_a_folder_or_missing_file_is_an_error_not_a_crash(tmp_path):
    _, errors = check_deck(tmp_path / "nope.yaml")
    assert [e.message.split(":")[0] for e in errors] == ["cannot read"]
    _, errors = check_deck(tmp_path)
    assert [e.message.split(":")[0] for e in errors] == ["cannot read"]
