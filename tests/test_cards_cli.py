"""`drill list`, `search`, `add` and `edit`, and finding cards by prefix and likeness in
`show`, `suspend` and `unsuspend`, driven as a user would."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.decks.loader import load_deck
from drill.home.editor import editor_args
from drill.model import CardType
from drill.review.store import Store

DECK = textwrap.dedent(
    """\
    # My own deck: the comments and layout must survive `drill add`.
    id: my-backprop
    title: Backpropagation
    tags: [deep-learning]
    cards:
      # --- the passes ---
      - id: two-passes
        q: Name the two passes of backpropagation.
        a: |
          The **forward** pass computes the loss;

          the **backward** pass its gradients.
        tags: [interview]
      - id: chain-rule
        type: cloze
        text: "The backward pass applies the {{c1::chain rule}} to each {{c2::node}}."
    # trailing comment
    """
)
OTHER = (
    "id: my-optim\ntitle: Optimisers\ncards:\n"
    "  - id: wobbly-lion\n    q: What is Adam?\n    a: An optimizer.\n"
)


@pytest.fixture
def decks(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "my-backprop.yaml").write_text(DECK, encoding="utf-8")
    (folder / "my-optim.yaml").write_text(OTHER, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    monkeypatch.setenv("COLUMNS", "120")
    return folder


MINE = ("my-backprop", "my-optim")  # the built-in decks are there too


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


# -- list and search ---------------------------------------------------------------------


@pytest.mark.usefixtures("decks")
def test_list_shows_every_scheduled_card_with_its_state():
    run("study", "my-backprop", "--new", "1", input="\n3\nq\n")  # two-passes: learning
    run("suspend", "my-optim/wobbly-lion")
    result = run("list", "my-b", "my-o")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "state", "due", "stability", "lapses", "question"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:-1]}
    assert rows == {
        "my-backprop/two-passes": "learning",
        "my-backprop/chain-rule#c1": "new",
        "my-backprop/chain-rule#c2": "new",
        "my-optim/wobbly-lion": "suspended",
    }
    assert "  The backward pass applies the […] to each" in lines[2]
    assert lines[-1] == "4 cards."
    assert all(len(line) <= 120 for line in lines)


@pytest.mark.usefixtures("decks")
def test_list_filters_by_state_deck_tag_and_due_date():
    run("study", "my-backprop", "--new", "1", input="\n3\nq\n")
    run("suspend", "my-optim/wobbly-lion")

    def keys(*args: str) -> list[str]:
        result = run("list", *args, *MINE, "--json")
        assert result.exit_code == 0, result.output
        return [row["key"] for row in json.loads(result.output)]

    assert keys("--state", "suspended") == ["my-optim/wobbly-lion"]
    assert keys("--state", "learning") == ["my-backprop/two-passes"]
    assert keys("--state", "new", "--state", "suspended") == [
        "my-backprop/chain-rule#c1",
        "my-backprop/chain-rule#c2",
        "my-optim/wobbly-lion",
    ]
    assert keys("--tag", "interview") == ["my-backprop/two-passes"]
    assert run("list", "my-o", "--json").output.count('"key"') == 1  # a deck prefix
    assert keys("--due-before", "tomorrow") == ["my-backprop/two-passes"]
    assert keys("--due-before", "2000-01-01") == []


@pytest.mark.usefixtures("decks")
def test_list_trims_the_question_to_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lines = run("list", "my-b").output.splitlines()
    assert lines[1].startswith("my-backprop/two-passes ")
    assert "  Name the two passes" in lines[1] and lines[1].endswith("…")
    assert len(lines[1]) == 80


@pytest.mark.usefixtures("decks")
def test_search_finds_words_in_questions_answers_tags_and_ids():
    def found(*words: str) -> list[str]:
        result = run("search", *words, "--json")
        assert result.exit_code == 0, result.output
        return [row["key"] for row in json.loads(result.output) if row["deck"] in MINE]

    assert found("gradients") == ["my-backprop/two-passes"]  # in the answer
    assert found("CHAIN", "rule") == ["my-backprop/chain-rule#c1", "my-backprop/chain-rule#c2"]
    assert found("my", "optim") == ["my-optim/wobbly-lion"]  # the deck id
    assert found("deep-learning", "interview") == ["my-backprop/two-passes"]  # deck and card tags
    assert found("backward", "adam") == []
    assert run("search", "nothing-like-this-xyz").output == "No cards match.\n"


# -- add ---------------------------------------------------------------------------------


def test_add_asks_and_appends_a_valid_card_leaving_the_file_as_it_was(decks):
    before = (decks / "my-backprop.yaml").read_text(encoding="utf-8")
    answers = (
        "What does the forward pass cache?\n"
        "The activations,\nfor the backward pass.\n\n"  # an empty line ends the answer
        "memory  interview\n"
    )
    result = run("add", "my-b", input=answers)
    assert result.exit_code == 0, result.output
    assert "Added my-backprop/what-does-the-forward-pass-cache to" in result.output
    after = (decks / "my-backprop.yaml").read_text(encoding="utf-8")
    added = (
        "  - id: what-does-the-forward-pass-cache\n"
        "    q: What does the forward pass cache?\n"
        "    a: |-\n"
        "      The activations,\n"
        "      for the backward pass.\n"
        "    tags: [memory, interview]\n"
    )
    last_card_ends = before.index("# trailing comment")
    assert after == before[:last_card_ends] + added + before[last_card_ends:]
    card = load_deck(decks / "my-backprop.yaml").card("what-does-the-forward-pass-cache")
    assert card is not None and card.tags == ("memory", "interview")


def test_add_with_options_gives_a_fresh_id_when_the_question_repeats(decks):
    for _ in range(2):
        result = run("add", "my-o", "-q", "What is Adam?", "-a", "Adam with decoupled decay.")
        assert result.exit_code == 0, result.output
    deck = load_deck(decks / "my-optim.yaml")
    assert [card.id for card in deck.cards] == ["wobbly-lion", "what-is-adam", "what-is-adam-2"]


def test_add_refuses_a_card_that_does_not_lint_and_writes_nothing(decks):
    before = (decks / "my-optim.yaml").read_text(encoding="utf-8")
    result = run("add", "my-o", "-q", "Q?", "-a", "  ")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "new card:3:4: card 'q': 'a' is empty",
        "Error: the card has 1 problem; nothing was added",
    ]
    assert (decks / "my-optim.yaml").read_text(encoding="utf-8") == before


@pytest.mark.usefixtures("decks")
def test_add_refuses_a_builtin_deck_and_says_how_to_make_one(drill_home):
    result = run("add", "intro", "-q", "Q?", "-a", "A.")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: 'intro' is a built-in deck, which drill replaces on upgrade; add cards to a "
        f"deck of your own instead: a YAML file in {drill_home / 'decks'}"
    )


def editor_script(folder: Path, name: str, body: str) -> str:
    """An executable editor named `name`: a Python script editing the file it is given."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport sys, pathlib\n{textwrap.dedent(body)}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_add_edit_writes_any_card_type_in_the_editor(decks, tmp_path, monkeypatch):
    editor = editor_script(
        tmp_path,
        "vim",
        """\
        path = pathlib.Path(sys.argv[-1])
        pathlib.Path(sys.argv[-1] + ".args").write_text(" ".join(sys.argv[1:-1]))
        text = path.read_text()
        card = "type: choice\\nq: Which is an optimizer?\\nchoices: [Adam, ReLU]\\nanswer: Adam\\n"
        path.write_text(text[: text.index("q:")] + card)
        """,
    )
    monkeypatch.setenv("EDITOR", editor)
    result = run("add", "my-o", "--edit")
    assert result.exit_code == 0, result.output
    card = load_deck(decks / "my-optim.yaml").card("which-is-an-optimizer")
    assert card is not None and card.type is CardType.CHOICE and card.answers == ("Adam",)
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("drill-my-optim-*.yaml"))


def test_add_edit_keeps_a_rejected_draft_and_places_errors_in_it(decks, tmp_path, monkeypatch):
    editor = editor_script(
        tmp_path,
        "nano",
        """\
        path = pathlib.Path(sys.argv[-1])
        text = path.read_text()
        path.write_text(text.replace("q:\\n", "type: cloze\\ntext: no deletion\\n", 1))
        """,
    )
    monkeypatch.setenv("EDITOR", editor)
    result = run("add", "my-o", "--edit")
    assert result.exit_code == 1
    first, _, kept = result.stderr.splitlines()
    draft = kept.removeprefix("Your card is kept in ").removesuffix(".")
    message = "a cloze card needs a deletion, like {{c1::answer}}"
    assert first == f"{draft}:7:7: card 'no-deletion': {message}"
    assert Path(draft).read_text().splitlines()[6] == "text: no deletion"
    Path(draft).unlink()


def test_add_edit_unchanged_adds_nothing(decks, monkeypatch):
    monkeypatch.setenv("EDITOR", "true")
    before = (decks / "my-optim.yaml").read_text(encoding="utf-8")
    result = run("add", "my-o", "--edit")
    assert (result.exit_code, result.output) == (0, "Nothing added.\n")
    assert (decks / "my-optim.yaml").read_text(encoding="utf-8") == before


# -- edit --------------------------------------------------------------------------------


def test_edit_opens_the_card_line_and_lints_after(decks, tmp_path, monkeypatch):
    editor = editor_script(
        tmp_path,
        "vim",
        """\
        path = pathlib.Path(sys.argv[-1])
        pathlib.Path(str(path) + ".args").write_text(" ".join(sys.argv[1:]))
        path.write_text(path.read_text().replace("{{c2::node}}", "{{c2:node}}"))
        """,
    )
    monkeypatch.setenv("EDITOR", editor)
    monkeypatch.delenv("VISUAL", raising=False)
    result = run("edit", "my-b/chain-rule#c2")
    path = decks / "my-backprop.yaml"
    assert Path(f"{path}.args").read_text() == f"+14 {path}"
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:16:11: card 'chain-rule': a deletion's number is followed by two colons,"
        " as in {{c1::…}}, not '{{c2:'",
        f"Found 1 error in {path}.",
    ]
    monkeypatch.setenv("EDITOR", "true")
    path.write_text(DECK, encoding="utf-8")
    assert run("edit", "my-backprop/two-passes").output == f"my-backprop/two-passes: {path}: OK\n"


@pytest.mark.parametrize(
    ("editor", "expected"),
    [
        (["vim"], ["vim", "+7", "F"]),
        (["/usr/bin/emacs", "-nw"], ["/usr/bin/emacs", "-nw", "+7", "F"]),
        (["code"], ["code", "--wait", "--goto", "F:7"]),
        (["subl", "-w"], ["subl", "-w", "F:7"]),
        (["my-editor"], ["my-editor", "F"]),
    ],
)
def test_each_editor_is_told_the_line_its_way(editor, expected):
    assert editor_args(editor, Path("F"), 7) == expected


# -- prefixes and did-you-mean in show, suspend, unsuspend ---------------------------------


@pytest.mark.usefixtures("decks")
def test_show_suspend_and_unsuspend_take_deck_prefixes_and_scheduled_keys():
    assert run("show", "my-b/two-passes").exit_code == 0
    shown = run("show", "my-b/chain-rule")
    assert (
        "my-backprop/chain-rule#c1" in shown.output and "my-backprop/chain-rule#c2" in shown.output
    )
    assert run("suspend", "my-b/chain-rule#c2").output == "Suspended 1 card.\n"
    assert run("suspend", "my-b").output == "Suspended 2 cards.\n"  # the rest of the deck
    assert run("unsuspend", "my-backprop/chain-rule").output == "Unsuspended 2 cards.\n"
    with Store.open() as store:
        assert store.card("my-backprop/two-passes").suspended


@pytest.mark.usefixtures("decks")
@pytest.mark.parametrize(
    ("command", "name", "message"),
    [
        ("show", "two-passes", "Error: 'two-passes' is not a card; write it as DECK/CARD"
         " (did you mean 'my-backprop/two-passes'?)"),
        ("show", "my-backprop/two-pases", "Error: no card 'my-backprop/two-pases'"
         " (did you mean 'my-backprop/two-passes'?)"),
        ("suspend", "wobly-lion", "Error: no deck or card 'wobly-lion'"
         " (did you mean 'my-optim/wobbly-lion'?)"),
        ("unsuspend", "my-b/chain-rule#c3", "Error: no card 'my-b/chain-rule#c3';"
         " my-backprop/chain-rule is studied as my-backprop/chain-rule#c1,"
         " my-backprop/chain-rule#c2"),
        ("show", "zzz/wobbly-lion", "Error: no card 'zzz/wobbly-lion'"
         " (did you mean 'my-optim/wobbly-lion'?)"),
    ],
)  # fmt: skip
def test_an_unknown_card_suggests_the_closest(command, name, message):
    result = run(command, name)
    assert result.exit_code == 1
    assert result.stderr.strip() == message


@pytest.mark.usefixtures("decks")
def test_an_ambiguous_deck_prefix_names_the_decks(decks):
    (decks / "my-backprop-extra.yaml").write_text(OTHER.replace("my-optim", "my-backprop-extra"))
    result = run("suspend", "my-b")
    assert result.stderr.strip() == (
        "Error: 'my-b' could be any of 2 decks: my-backprop, my-backprop-extra"
    )
