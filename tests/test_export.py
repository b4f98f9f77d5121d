"""Export: entries and seeds, HTML and Markdown rendering, JSON, atomic writes, and the CLI."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from export_samples import basic_deck, compute_deck, fake_make, write_deck_folder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drill.cli import app
from drill.decks.loader import load_deck
from drill.errors import DrillError
from drill.exchange.entries import entries, instance_seed, step_count
from drill.exchange.export import Format, export, format_for, render
from drill.exchange.html import answer_html, markdown_html, question_html
from drill.exchange.importer import import_decks
from drill.exchange.jsonfmt import parse_json, render_json
from drill.exercises.registry import GENERATORS
from drill.home.fileio import OutputExists, atomic_write, atomic_writer
from drill.model import Card, CardType, Deck

runner = CliRunner()


# Entries and compute instances


def test_compute_cards_become_numbered_instances_with_their_own_keys():
    decks = [basic_deck(), compute_deck()]
    items = list(entries(decks, instances=3, seed=1, make=fake_make))
    keys = [entry.key for entry in items]
    assert keys == [
        "ml/two-passes",
        "ml/relu",
        "grads/neuron-grad#1",
        "grads/neuron-grad#2",
        "grads/neuron-grad#3",
    ]
    seeds = [entry.exercise.seed for entry in items if entry.exercise]
    assert seeds == [instance_seed(1, "grads/neuron-grad", n) for n in (1, 2, 3)]
    assert step_count(decks, 3) == len(items)


def test_instances_are_reproducible_from_the_seed_and_change_with_it():
    def exercises(seed):
        return [e.exercise for e in entries([compute_deck()], instances=4, seed=seed)]

    assert exercises(11) == exercises(11)
    assert exercises(11) != exercises(12)


def test_zero_instances_leaves_compute_cards_out():
    items = list(entries([basic_deck(), compute_deck()], instances=0, seed=0, make=fake_make))
    assert [entry.key for entry in items] == ["ml/two-passes", "ml/relu"]


def test_entries_tick_once_per_entry():
    ticks = []
    list(
        entries([compute_deck()], instances=2, seed=0, make=fake_make, tick=lambda: ticks.append(1))
    )
    assert len(ticks) == 2


def test_entry_tags_are_card_tags_then_deck_tags_once():
    deck = basic_deck()
    deck = Deck(deck.id, deck.title, deck.cards, tags=("core", "deep-learning"))
    first = next(entries([deck], instances=0, seed=0))
    assert first.tags == ("interview", "core", "deep-learning")


# HTML


def test_markdown_is_rendered_and_raw_html_escaped():
    assert markdown_html("**bold** <script>x</script> & `a<b`") == (
        "<p><strong>bold</strong> &lt;script&gt;x&lt;/script&gt; &amp; <code>a&lt;b</code></p>"
    )


def test_exercise_sides_are_escaped_preformatted_text():
    entry = next(entries([compute_deck()], instances=1, seed=3, make=fake_make))
    x = instance_seed(3, "grads/neuron-grad", 1) % 7
    assert question_html(entry) == (
        f'<p>Work it by hand.</p>\n<pre class="exercise">x = {x}\nCompute 2 * x &lt; 100?</pre>'
    )
    assert answer_html(entry) == (
        f'<p class="result">Answer: <code>{2 * x}</code></p>\n'
        f'<pre class="solution">2 * x = {2 * x}\ndone &amp; dusted</pre>'
    )


# Markdown study sheet


def test_markdown_sheet_has_a_heading_per_deck_and_card():
    deck = basic_deck()
    text = render([deck, compute_deck()], Format.MD, instances=1, seed=3, make=fake_make).content
    x = instance_seed(3, "grads/neuron-grad", 1) % 7
    assert text == (
        "# Machine learning\n\nThe basics.\n\nTags: deep-learning\n\n"
        "## Explain the two passes of backpropagation.\n\n"
        f"{deck.cards[0].a}\n\n"
        "*Source: Goodfellow et al., Deep Learning (2016), §6.5*\n\n"
        "## What is `ReLU`?\n\nmax(0, x), applied elementwise.\n\n"
        "# Gradients\n\n"
        "## neuron-grad, exercise 1\n\nWork it by hand.\n\n"
        f"```text\nx = {x}\nCompute 2 * x < 100?\n```\n\n"
        f"**Answer:** `{2 * x}`\n\n"
        f"Solution:\n\n```text\n2 * x = {2 * x}\ndone & dusted\n```\n"
    )


def test_a_multi_line_question_goes_under_the_card_id():
    card = Card("d", "long", q="First line\nsecond line", a="Answer")
    text = render([Deck("d", "D", (card,))], Format.MD).content
    assert "## long\n\nFirst line\nsecond line\n\nAnswer\n" in text


# JSON


def test_json_export_is_lossless_and_deterministic():
    renamed = Card("other", "renamed", q="Q", a="A", was=("old-name",), ref="R")
    decks = [basic_deck(), compute_deck(), Deck("other", "Other", (renamed,))]
    text = render_json(decks)
    assert text == render_json(decks)
    assert parse_json(text) == decks
    assert json.loads(text)["format"] == "drill-decks"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "line 1: not valid JSON"),
        ('{"format": "other"}', "not a drill export"),
        ('{"format": "drill-decks", "version": 9, "decks": []}', "unsupported version 9"),
        ('{"format": "drill-decks", "version": 1, "decks": [{"id": "x"}]}', "deck 'x': \"cards\""),
        (
            '{"format": "drill-decks", "version": 1, "decks": [{"id": "x", "cards": [{}]}]}',
            "deck 'x': missing 'id'",
        ),
    ],
)
def test_json_that_is_not_an_export_is_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_json(text)


_ID = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,12}", fullmatch=True)
_WORDS = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=30
)
_TEXT = st.lists(_WORDS, min_size=1, max_size=3).map("\n".join).filter(str.strip)
_LINE = _WORDS.map(str.strip).filter(bool)
_TAG = st.from_regex(r"[A-Za-z0-9][\w:.-]{0,10}", fullmatch=True)


@st.composite
def _decks(draw):
    deck_ids = draw(st.lists(_ID, min_size=1, max_size=2, unique=True))
    decks = []
    for deck_id in deck_ids:
        card_ids = draw(st.lists(_ID, min_size=1, max_size=4, unique=True))
        cards = tuple(draw(_card(deck_id, card_id)) for card_id in card_ids)
        decks.append(
            Deck(
                deck_id,
                draw(_LINE),
                cards,
                description=draw(st.one_of(st.just(""), _TEXT)),
                tags=tuple(draw(st.lists(_TAG, max_size=3, unique=True))),
            )
        )
    return decks


@st.composite
def _card(draw, deck_id, card_id):
    tags = tuple(draw(st.lists(_TAG, max_size=3, unique=True)))
    ref = draw(st.one_of(st.none(), _LINE))
    if draw(st.booleans()):
        return Card(deck_id, card_id, q=draw(_TEXT), a=draw(_TEXT), tags=tags, ref=ref)
    generator = draw(st.sampled_from(sorted(GENERATORS)))
    q = draw(st.one_of(st.just(""), _TEXT))
    return Card(
        deck_id, card_id, q=q, type=CardType.COMPUTE, generator=generator, tags=tags, ref=ref
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_decks())
def test_json_export_import_export_gives_the_same_bytes(decks):
    first = render_json(decks)
    with tempfile.TemporaryDirectory() as folder:
        written = import_decks(parse_json(first), Path(folder), set(), Path("export.json"))
        reloaded = [load_deck(deck.path) for deck in written]
    assert render_json(reloaded) == first


# Atomic writes


@pytest.fixture
def folder(tmp_path):
    """An empty folder (tmp_path also holds the test's DRILL_HOME)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def test_atomic_write_refuses_an_existing_file_unless_forced(folder):
    target = folder / "out.txt"
    atomic_write(target, "first")
    with pytest.raises(OutputExists, match="already exists"):
        atomic_write(target, "second")
    assert target.read_text() == "first"
    atomic_write(target, "second", force=True)
    assert target.read_text() == "second"
    assert sorted(p.name for p in folder.iterdir()) == ["out.txt"]


def test_an_interrupted_write_leaves_neither_file_nor_temporary(folder):
    target = folder / "out.bin"
    with pytest.raises(RuntimeError), atomic_writer(target) as out:
        out.write(b"half")
        raise RuntimeError("interrupted")
    assert list(folder.iterdir()) == []


def test_an_interrupted_forced_write_keeps_the_old_file(folder):
    target = folder / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target, force=True) as out:
        out.write(b"new")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["out.bin"]


def test_a_missing_folder_or_a_folder_as_target_is_refused(folder):
    with pytest.raises(DrillError, match="no such folder"):
        atomic_write(folder / "missing" / "out.md", "x")
    with pytest.raises(DrillError, match="is a folder"):
        atomic_write(folder, "x", force=True)


def test_export_checks_the_target_before_doing_any_work(tmp_path):
    target = tmp_path / "sheet.md"
    target.write_text("keep me")

    def never(*args):
        raise AssertionError("exercises were made for an export that cannot be written")

    with pytest.raises(OutputExists):
        export([compute_deck()], Format.MD, target, make=never)
    assert target.read_text() == "keep me"


def test_format_comes_from_the_suffix():
    assert format_for(Path("a.APKG")) is Format.APKG
    assert format_for(Path("notes.markdown")) is Format.MD
    with pytest.raises(DrillError, match=r"cannot tell the format of 'a\.txt'"):
        format_for(Path("a.txt"))


# The command


def test_export_command_writes_and_refuses_to_overwrite(tmp_path):
    folder = write_deck_folder(tmp_path)
    out = tmp_path / "sheet.md"
    args = ["export", "ml", "--decks", str(folder), "-o", str(out), "--seed", "4"]
    result = runner.invoke(app, [*args, "--instances", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 4 cards from 1 deck to {out} (exercises from --seed 4).\n"
    first = out.read_text()
    assert first.startswith("# Machine learning\n")
    assert first.count("## mlp-grad, exercise") == 2

    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert again.stderr == f"Error: {out} already exists (use --force to overwrite it)\n"
    assert out.read_text() == first

    forced = runner.invoke(app, [*args, "--instances", "2", "--force"])
    assert forced.exit_code == 0
    assert out.read_text() == first  # same seed, same exercises


def test_export_to_stdout_needs_a_text_format(tmp_path):
    folder = write_deck_folder(tmp_path)
    base = ["export", "--decks", str(folder), "-o", "-"]
    assert runner.invoke(app, base).stderr == "Error: writing to standard output needs --format\n"
    binary = runner.invoke(app, [*base, "-f", "apkg"])
    assert binary.exit_code == 1
    assert "apkg is binary" in binary.stderr
    result = runner.invoke(app, ["export", "ml", "--decks", str(folder), "-o", "-", "-f", "json"])
    assert result.exit_code == 0
    assert [deck["id"] for deck in json.loads(result.stdout)["decks"]] == ["ml"]
    assert result.stderr == "Wrote 1 deck (3 cards) to standard output.\n"


def test_export_of_an_unknown_deck_is_an_error(tmp_path):
    folder = write_deck_folder(tmp_path)
    result = runner.invoke(app, ["export", "mx", "--decks", str(folder), "-o", "x.md"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no deck 'mx'")


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from drill.cli.export_cmd import _progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stderr", io.StringIO())
    with _progress(10, "Exporting") as tick:
        assert tick is None
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with _progress(3, "Exporting") as tick:
        for _ in range(3):
            tick()
    assert "Exporting" in terminal.getvalue()
