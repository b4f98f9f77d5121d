"""Decks a user cannot trust: params of the wrong type, terminal escapes in text, and files
with many errors. Lint names every problem with its place; study never crashes on them."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.decks import loader as decks
from drill.decks.cache import DeckCache
from drill.decks.loader import check_deck, load_collection, load_sources
from drill.exercises.registry import BadParams, make
from drill.home.paths import get_paths


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def put(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    """Every error of the file, as lint prints it, with the file's name as F."""
    deck, errors = check_deck(path)
    assert deck is None
    return [str(error).replace(str(path), "F") for error in errors]


def lint_lines(*paths: Path) -> tuple[int, list[str]]:
    result = run("lint", *map(str, paths))
    lines = result.output.splitlines()
    for path in paths:
        lines = [line.replace(str(path), path.name) for line in lines]
    return result.exit_code, lines


# -- 7: integer params are integers --------------------------------------------------------

TYPED = """\
id: typed
title: Params of the wrong type
cards:
  - id: mlp-float
    type: compute
    generator: mlp-backward
    params: {hidden: 2.0}
  - id: layers-float
    type: compute
    generator: vanishing-gradient
    params: {layers: 3.0}
  - id: mlp-bool
    type: compute
    generator: mlp-backward
    params: {hidden: true}
  - id: dilation-int
    type: compute
    generator: conv-output-size
    params: {dilation: 1}
  - id: text-number
    type: compute
    generator: mlp-backward
    params: {hidden: "2"}
  - id: fine
    type: compute
    generator: mlp-backward
    params: {hidden: 2, activation: relu}
"""


def test_lint_names_each_param_of_the_wrong_type_with_its_place(tmp_path):
    code, lines = lint_lines(put(tmp_path, "typed.yaml", TYPED))
    assert code == 1
    assert lines == [
        "typed.yaml:7:22: card 'mlp-float': generator 'mlp-backward': param 'hidden' "
        "must be an integer (1, 2, 3 or 4), not 2.0",
        "typed.yaml:11:22: card 'layers-float': generator 'vanishing-gradient': param 'layers' "
        "must be an integer (2, 3, 4, 5, 6, 7 or 8), not 3.0",
        "typed.yaml:15:22: card 'mlp-bool': generator 'mlp-backward': param 'hidden' "
        "must be an integer (1, 2, 3 or 4), not true",
        "typed.yaml:19:24: card 'dilation-int': generator 'conv-output-size': param 'dilation' "
        "must be true or false, not 1",
        "typed.yaml:23:22: card 'text-number': generator 'mlp-backward': param 'hidden' "
        "must be an integer (1, 2, 3 or 4), not '2'",
        "Found 5 errors in 1 file.",
    ]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mlp-backward", {"hidden": 2.0}),
        ("mlp-backward", {"hidden": True}),
        ("vanishing-gradient", {"layers": 3.0}),
        ("conv-output-size", {"dilation": 1}),
        ("receptive-field", {"layers": 2.0}),
    ],
)
def test_make_refuses_a_param_of_the_wrong_type(name, params):
    # 2.0 == 2 and True == 1 in Python: an equality test alone let them through.
    with pytest.raises(BadParams, match="must be"):
        make(name, 1, params)


def test_make_takes_params_of_the_right_type():
    assert make("mlp-backward", 1, {"hidden": 2}).spec
    assert make("conv-output-size", 1, {"dilation": True}).spec
    assert make("single-neuron", 1, {"activation": "leaky_relu", "slope": 0.1}).spec


def test_study_skips_a_card_with_a_float_param_instead_of_crashing(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    put(
        folder,
        "f.yaml",
        """\
        id: f
        title: F
        cards:
          - {id: basic, q: Question, a: Answer}
          - {id: mlp, type: compute, generator: mlp-backward, params: {hidden: 2.0}}
        """,
    )
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    result = run("study", "f", input="\n3\n")
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert (
        "Skipped f/mlp: generator 'mlp-backward': param 'hidden' "
        "must be an integer (1, 2, 3 or 4), not 2.0." in " ".join(result.output.split())
    )
    assert "Reviewed 1 card" in result.output


# -- 11: no terminal escapes in deck text --------------------------------------------------

ESCAPES = """\
id: esc
title: "Clear \\e[2J"
description: "bell \\a"
tags: ["ok", "bad\\x9b"]
cards:
  - id: osc
    q: "\\x1b]0;title\\a"
    a: "\\0"
    ref: "del \\x7f"
    tags: ["t\\rx"]
  - id: param
    type: compute
    generator: mlp-backward
    params: {activation: "relu\\e"}
  - id: "bad\\x01id"
    q: Question
    a: Answer
"""


def test_lint_refuses_control_characters_in_every_text_field(tmp_path):
    assert messages(put(tmp_path, "esc.yaml", ESCAPES)) == [
        "F:2:8: 'title' contains control character U+001B; only tab and newline are allowed",
        "F:3:14: 'description' contains control character U+0007; only tab and newline are allowed",
        "F:4:14: 'tags' contains control character U+009B; only tab and newline are allowed",
        "F:7:8: card 'osc': 'q' contains control character U+001B; "
        "only tab and newline are allowed",
        "F:8:8: card 'osc': 'a' contains control character U+0000; "
        "only tab and newline are allowed",
        "F:9:10: card 'osc': 'ref' contains control character U+007F; "
        "only tab and newline are allowed",
        "F:10:12: card 'osc': 'tags' contains control character U+000D; "
        "only tab and newline are allowed",
        "F:14:26: card 'param': param 'activation' contains control character U+001B; "
        "only tab and newline are allowed",
        "F:15:9: card 'bad\\x01id': 'id' contains control character U+0001; "
        "only tab and newline are allowed",
    ]


@pytest.mark.parametrize(
    "written",
    [
        '"\\e[2J"',  # YAML's own escape for ESC
        '"\\x1b[2J"',
        '"\\u001b[2J"',
        '"\\U0000001b[2J"',
        '"\\N"',  # NEL, U+0085: C1
        '"a\\rb"',
    ],
)
def test_a_control_character_is_refused_however_it_is_written(tmp_path, written):
    path = put(tmp_path, "d.yaml", f"id: d\ntitle: D\ncards:\n  - {{id: c, q: {written}, a: A}}\n")
    [message] = messages(path)
    assert message.startswith("F:4:16: card 'c': 'q' contains control character U+00")


def test_tabs_newlines_and_crlf_files_are_fine(tmp_path):
    text = 'id: d\r\ntitle: D\r\ncards:\r\n  - id: c\r\n    q: "a\\tb\\nc"\r\n    a: |\r\n'
    text += "      one\r\n      two\r\n"
    path = tmp_path / "d.yaml"
    path.write_bytes(text.encode())
    deck, errors = check_deck(path)
    assert errors == []
    assert deck is not None
    assert (deck.cards[0].q, deck.cards[0].a) == ("a\tb\nc", "one\ntwo\n")


def test_a_deck_with_an_escape_does_not_load_for_study_or_export(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    put(folder, "e.yaml", 'id: e\ntitle: E\ncards:\n  - {id: c, q: "\\e]0;pwned\\a", a: A}\n')
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    collection = load_collection()
    assert "e" not in [deck.id for deck in collection.decks]
    result = run("study", "e", input="\n3\n")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "contains control character U+001B" in result.output
    out = tmp_path / "e.md"
    result = run("export", "e", "-o", str(out))
    assert result.exit_code == 1
    assert not out.exists() or "\x1b" not in out.read_text(encoding="utf-8")


# -- 12: every error of a file in one run ----------------------------------------------------

MANY = """\
id: many
title: Many problems
desc: a typo for description
cards:
  - id: one
    q: Question
    a: Answer
    tgas: [x]
  - id: two
    type: compute
    generator: mlp-backward
    params: {los: mse, hidden: 2.0, activation: relu}
  - id: three
    type: compute
    generator: vanishing-gradient
    params: {layers: 3.0, activaton: tanh}
  - id: four
    q: "\\e[31mred"
    a: Answer
"""


def test_lint_reports_every_error_of_every_card_in_one_run(tmp_path):
    code, lines = lint_lines(put(tmp_path, "many.yaml", MANY))
    assert code == 1
    assert lines == [
        "many.yaml:3:1: unknown key 'desc' (did you mean 'description'?)",
        "many.yaml:8:5: card 'one': unknown key 'tgas' (did you mean 'tags'?)",
        "many.yaml:12:14: card 'two': generator 'mlp-backward' has no param 'los' "
        "(did you mean 'loss'?)",
        "many.yaml:12:32: card 'two': generator 'mlp-backward': param 'hidden' "
        "must be an integer (1, 2, 3 or 4), not 2.0",
        "many.yaml:16:22: card 'three': generator 'vanishing-gradient': param 'layers' "
        "must be an integer (2, 3, 4, 5, 6, 7 or 8), not 3.0",
        "many.yaml:16:27: card 'three': generator 'vanishing-gradient' has no param "
        "'activaton' (did you mean 'activation'?)",
        "many.yaml:18:8: card 'four': 'q' contains control character U+001B; "
        "only tab and newline are allowed",
        "Found 7 errors in 1 file.",
    ]


def test_a_file_with_no_other_error_still_gets_every_param_error(tmp_path):
    path = put(
        tmp_path,
        "p.yaml",
        """\
        id: p
        title: P
        cards:
          - {id: a, type: compute, generator: mlp-backward, params: {los: mse, hiden: 2}}
          - {id: b, type: compute, generator: mlp-backward, params: {wrt: W3}}
        """,
    )
    code, lines = lint_lines(path)
    assert code == 1
    assert lines == [
        "p.yaml:4:62: card 'a': generator 'mlp-backward' has no param 'los' (did you mean 'loss'?)",
        "p.yaml:4:72: card 'a': generator 'mlp-backward' has no param 'hiden' "
        "(did you mean 'hidden'?)",
        "p.yaml:5:67: card 'b': generator 'mlp-backward': param 'wrt' "
        "must be text (W1, b1, W2 or b2), not 'W3'",
        "Found 3 errors in 1 file.",
    ]


BAD_PARAM_DECK = """\
id: cached
title: Cached
cards:
  - {id: mlp, type: compute, generator: mlp-backward, params: {los: mse, hidden: 2.0}}
"""


def test_a_cached_deck_does_not_hide_its_param_errors_from_lint(tmp_path, parses):
    # Loading leaves params to lint (checking them imports numpy), so such a deck loads and
    # is cached; lint must still parse it and report both params.
    folder = tmp_path / "decks"
    path = put(folder, "cached.yaml", BAD_PARAM_DECK)
    get_paths().database.parent.mkdir(parents=True, exist_ok=True)
    get_paths().database.touch()  # a home in use: load_collection caches
    for _ in range(2):
        with DeckCache() as cache:
            assert [d.id for d in load_sources([folder], cache=cache).decks] == ["cached"]
    assert parses == ["cached.yaml"]  # the second load was a cache hit
    code, lines = lint_lines(path)
    assert code == 1
    assert [line.split(": ", 2)[2] for line in lines[:-1]] == [
        "generator 'mlp-backward' has no param 'los' (did you mean 'loss'?)",
        "generator 'mlp-backward': param 'hidden' must be an integer (1, 2, 3 or 4), not 2.0",
    ]


def test_the_cache_keeps_param_types_exactly(tmp_path):
    # 2.0 == 2 and True == 1: a cache that turned one into the other would pass an equality
    # check and change what study does with the card.
    folder = tmp_path / "decks"
    put(
        folder,
        "t.yaml",
        """\
        id: t
        title: T
        cards:
          - {id: a, type: compute, generator: mlp-backward, params: {hidden: 2.0, x: true}}
          - {id: b, type: compute, generator: mlp-backward, params: {hidden: 2, x: 1}}
        """,
    )
    fresh = load_sources([folder])
    cache_file = tmp_path / "cache.db"
    for _ in range(2):
        with DeckCache(cache_file) as cache:
            cached = load_sources([folder], cache=cache)
    assert cached == fresh
    shown = [repr(dict(card.params)) for card in cached.decks[0].cards]
    assert shown == ["{'hidden': 2.0, 'x': True}", "{'hidden': 2, 'x': 1}"]


def test_an_escape_added_without_changing_size_or_mtime_is_seen(tmp_path):
    folder = tmp_path / "decks"
    path = put(folder, "d.yaml", 'id: d\ntitle: D\ncards:\n  - {id: c, q: "ab[2J", a: A}\n')
    cache_file = tmp_path / "cache.db"
    with DeckCache(cache_file) as cache:
        assert load_sources([folder], cache=cache).errors == []
    stat = path.stat()
    path.write_text('id: d\ntitle: D\ncards:\n  - {id: c, q: "\\e[2J", a: A}\n')
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    with DeckCache(cache_file) as cache:
        collection = load_sources([folder], cache=cache)
    assert collection.decks == []
    assert "contains control character U+001B" in str(collection.errors[0])


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


def test_an_entry_that_would_change_a_param_type_is_not_cached(tmp_path, monkeypatch, parses):
    # The cache keeps an entry only if it reads back as the parse did; 2 == 2.0, so that
    # check must compare types too, or a lossy entry would turn a float param into an int.
    from drill.decks import cache as deck_cache

    real = deck_cache._card_fields

    def lossy(card):
        fields = real(card)
        fields[7] = {key: int(value) for key, value in fields[7].items()}
        return fields

    monkeypatch.setattr(deck_cache, "_card_fields", lossy)
    folder = tmp_path / "decks"
    put(
        folder,
        "t.yaml",
        "id: t\ntitle: T\ncards:\n"
        "  - {id: a, type: compute, generator: mlp-backward, params: {hidden: 2.0}}\n",
    )
    for _ in range(2):
        with DeckCache(tmp_path / "cache.db") as cache:
            loaded = load_sources([folder], cache=cache)
        assert repr(dict(loaded.decks[0].cards[0].params)) == "{'hidden': 2.0}"
    assert parses == ["t.yaml", "t.yaml"]
