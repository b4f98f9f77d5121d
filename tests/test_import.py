"""`drill import`: Anki-style CSV/TSV and JSON exports become YAML decks, all or nothing."""

from __future__ import annotations

import pytest
from export_samples import basic_deck, compute_deck
from typer.testing import CliRunner

from drill.cli import app
from drill.decks.loader import load_collection, load_deck
from drill.exchange.ankitext import RowError, parse_anki_text
from drill.exchange.htmltext import html_to_markdown
from drill.exchange.importer import ImportFailed, deck_yaml, import_decks, read_import, slug
from drill.exchange.jsonfmt import render_json
from drill.home.paths import get_paths

runner = CliRunner()


def user_decks():
    folder = get_paths().user_decks
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Anki-style text files


def test_plain_csv_becomes_a_deck_in_the_user_folder(tmp_path):
    path = write(
        tmp_path,
        "Backprop notes.csv",
        'What is a gradient?,"The vector of partial derivatives, one per input.",calculus core\n'
        "What is a gradient?,Same question twice gets a second id.\n",
    )
    result = runner.invoke(app, ["import", str(path)])
    target = get_paths().user_decks / "backprop-notes.yaml"
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Imported 2 cards as deck 'backprop-notes': {target}\n"
    assert target.read_text() == (
        "# Imported from Backprop notes.csv by drill import.\n"
        "id: backprop-notes\n"
        "title: Backprop notes\n"
        "cards:\n"
        "  - id: what-is-a-gradient\n"
        "    q: What is a gradient?\n"
        "    a: The vector of partial derivatives, one per input.\n"
        "    tags: [calculus, core]\n"
        "  - id: what-is-a-gradient-2\n"
        "    q: What is a gradient?\n"
        "    a: Same question twice gets a second id.\n"
    )
    deck = load_collection().deck("backprop-notes")
    assert deck.cards[0].tags == ("calculus", "core")


def test_tsv_headers_are_honoured(tmp_path):
    path = write(
        tmp_path,
        "cards.txt",
        "#separator:Tab\n#html:true\n#tags:ml exam\n#deck:Interview::Deep learning\n"
        "#guid column:1\n#tags column:4\n"
        "g1\t<b>Vanishing</b> gradients?\t"
        "Shrink through <i>saturating</i> layers.<br>Use ReLU.\tx\n"
        "# a comment line\n"
        "\n"
        'g2\t"Two\nlines"\tA&amp;B\t\n',
    )
    (deck,) = read_import(path, deck_id="dl")
    assert deck.id == "dl"
    assert deck.title == "Deep learning"
    assert deck.tags == ("ml", "exam")
    first, second = deck.cards
    assert (first.id, first.q, first.a, first.tags) == (
        "vanishing-gradients",
        "**Vanishing** gradients?",
        "Shrink through *saturating* layers.\\\nUse ReLU.",
        ("x",),
    )
    assert (second.id, second.q, second.a, second.tags) == ("two-lines", "Two lines", "A&B", ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\nc\n", "cards.csv:2: row 2: expected front, back and optional tags, found 1 field"),
        ("a,b\nc,d,e,f\n", "cards.csv:2: row 2: expected front, back and optional tags, found 4"),
        ('a,b\n"c,d\n', "cards.csv:2: row 2: cannot read the record"),
        ("#html:true\nok,fine\n<br>,back\n", "cards.csv:3: row 2: the front has no text"),
        ("q1,a1\n\n# note\nq2, \n", "cards.csv:4: row 2: the back is empty"),
        ("#separator:Weird\na,b\n", "cards.csv:1: unknown #separator 'Weird'"),
        ("#tags column:x\na,b\n", "cards.csv:1: #tags column must be a column number"),
        ("# only a header\n", "cards.csv: no notes found"),
    ],
)
def test_a_bad_row_names_its_line_and_row_and_nothing_is_written(tmp_path, text, message):
    path = write(tmp_path, "cards.csv", text)
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / message}")
    assert user_decks() == []


def test_non_utf8_and_unknown_suffixes_are_refused(tmp_path):
    latin = tmp_path / "cards.csv"
    latin.write_bytes("caf\xe9,coffee\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="not UTF-8 text"):
        read_import(latin)
    with pytest.raises(ImportFailed, match=r"cannot import \.apkg"):
        read_import(write(tmp_path, "deck.apkg", ""))
    with pytest.raises(ImportFailed, match="No such file"):
        read_import(tmp_path / "missing.csv")


def test_separator_is_guessed_from_the_first_line():
    parsed = parse_anki_text("front;back;tag\n")
    assert parsed.separator == ";"
    assert parsed.rows[0].tags == ("tag",)


def test_row_error_carries_line_and_row():
    with pytest.raises(RowError) as caught:
        parse_anki_text("a,b\n\n\nc\n", ".csv")
    assert (caught.value.line, caught.value.row) == (4, 2)


# Clashes and validation


def test_an_existing_deck_file_is_never_clobbered(tmp_path):
    path = write(tmp_path, "mine.csv", "q,a\n")
    assert runner.invoke(app, ["import", str(path)]).exit_code == 0
    before = (get_paths().user_decks / "mine.yaml").read_text()
    again = runner.invoke(app, ["import", str(path)])
    assert again.exit_code == 1
    assert again.stderr == "Error: a deck with id 'mine' already exists (choose another --id)\n"
    assert (get_paths().user_decks / "mine.yaml").read_text() == before
    other = runner.invoke(app, ["import", str(path), "--id", "mine-2", "--title", "Mine again"])
    assert other.exit_code == 0
    assert user_decks() == ["mine-2.yaml", "mine.yaml"]


def test_a_deck_file_in_the_folder_is_refused_even_if_it_does_not_load(tmp_path):
    folder = get_paths().user_decks
    folder.mkdir(parents=True)
    (folder / "mine.yml").write_text("not: a deck\n")
    with pytest.raises(ImportFailed, match=r"mine\.yml already exists"):
        import_decks(read_import(write(tmp_path, "mine.csv", "q,a\n")), folder, set(), tmp_path)


def test_an_invalid_id_is_reported_by_the_deck_checks(tmp_path):
    path = write(tmp_path, "mine.csv", "q,a\n")
    result = runner.invoke(app, ["import", str(path), "--id", "Not Valid"])
    assert result.exit_code == 1
    assert "deck 'Not Valid': invalid deck id 'Not Valid'" in result.stderr
    assert user_decks() == []


# JSON


def test_json_export_imports_as_the_same_decks(tmp_path):
    decks = [basic_deck(), compute_deck()]
    path = write(tmp_path, "export.json", render_json(decks))
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert user_decks() == ["grads.yaml", "ml.yaml"]
    folder = get_paths().user_decks
    assert [load_deck(folder / f"{deck.id}.yaml") for deck in decks] == decks


def test_id_and_title_need_a_single_deck_json(tmp_path):
    two = write(tmp_path, "two.json", render_json([basic_deck(), compute_deck()]))
    with pytest.raises(ImportFailed, match="one deck; this one has 2"):
        read_import(two, deck_id="x")
    one = write(tmp_path, "one.json", render_json([basic_deck()]))
    (deck,) = read_import(one, deck_id="copy", title="A copy")
    assert (deck.id, deck.title) == ("copy", "A copy")
    assert {card.deck_id for card in deck.cards} == {"copy"}


def test_a_json_deck_that_fails_the_checks_writes_nothing(tmp_path):
    bad = render_json([basic_deck()]).replace('"two-passes"', '"Two Passes"')
    result = runner.invoke(app, ["import", str(write(tmp_path, "bad.json", bad))])
    assert result.exit_code == 1
    assert "card 'Two Passes': invalid card id" in result.stderr
    assert user_decks() == []


def test_a_known_deck_id_is_refused(tmp_path):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "ml.yaml").write_text(deck_yaml(basic_deck()))
    path = write(tmp_path, "ml.json", render_json([basic_deck()]))
    result = runner.invoke(app, ["import", str(path), "--decks", str(folder)])
    assert result.exit_code == 1
    assert "a deck with id 'ml' already exists" in result.stderr


# Helpers


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("a<br>b<br><br>c", "a\\\nb\n\nc"),
        ("<ul><li>x</li><li>y <code>z</code></li></ul>", "- x\n- y `z`"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("<pre><code>def f():\n    return 1\n</code></pre>", "```\ndef f():\n    return 1\n```"),
        ('<a href="https://example.org">site</a> &lt;tag&gt;', "[site](https://example.org) <tag>"),
        ("<h2>Title</h2>text", "## Title\n\ntext"),
        ("  spaced   out\n text ", "spaced out text"),
    ],
)
def test_html_fields_become_markdown(html, markdown):
    assert html_to_markdown(html) == markdown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "What is the vanishing gradient problem in deep nets?",
            "what-is-the-vanishing-gradient-problem",
        ),
        ("Café & crème", "cafe-creme"),
        ("∂L/∂w", "l-w"),
        ("???", ""),
    ],
)
def test_slugs_are_valid_ids(text, expected):
    assert slug(text, max_words=6) == expected
