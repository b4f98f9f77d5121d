"""Choosing cards: a tag no card has, and a deck prefix that fits several decks, are said
plainly instead of giving "Nothing is due now"; repeated --tag means any of the tags."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from drill.cli import app

DECKS = {
    "my-ml": "tags: [ml]\ncards:\n"
    "  - {id: a, q: A?, a: A., tags: [interview]}\n"
    "  - {id: b, q: B?, a: B., tags: [maths]}\n",
    "my-rl": "cards:\n  - {id: c, q: C?, a: C., tags: [bandits]}\n",
}


@pytest.fixture(autouse=True)
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    for deck_id, body in DECKS.items():
        (folder / f"{deck_id}.yaml").write_text(f"id: {deck_id}\ntitle: {deck_id}\n{body}")
    monkeypatch.setenv("DRILL_DECKS", str(folder))


def run(*args: str, input: str = ""):
    return CliRunner().invoke(app, list(args), input=input)


@pytest.mark.parametrize("command", ["study", "due", "interview"])
def test_a_misspelled_tag_says_so_and_suggests_the_closest(command):
    result = run(command, "--tag", "intervew")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: the tag 'intervew' matches no card (did you mean 'interview'?)"
    )


def test_a_tag_of_other_decks_only_is_not_an_empty_session():
    result = run("study", "my-rl", "--tag", "maths")
    assert result.exit_code == 1
    assert "Error: no card in my-rl has the tag 'maths'" in result.output


def test_repeated_tags_mean_any_of_them():
    result = run("due", "-t", "maths", "-t", "bandits")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1] for line in result.output.splitlines()[1:-1]}
    assert rows["my-ml"] == "1" and rows["my-rl"] == "1" and rows["total"] == "2"
    assert "repeated, cards with any of the tags" in " ".join(run("study", "--help").output.split())
    # a deck's tag counts for each of its cards
    assert "total    2" in run("due", "-t", "ml").output


def test_one_misspelled_tag_among_others_is_still_an_error():
    result = run("due", "-t", "maths", "-t", "bandit")
    assert result.exit_code == 1
    assert "Error: the tag 'bandit' matches no card (did you mean 'bandits'?)" in result.output


@pytest.mark.parametrize("command", [["study"], ["due"], ["stats"], ["export", "-o", "x.md"]])
def test_an_ambiguous_deck_prefix_lists_the_decks_it_could_be(command):
    result = run(*command, "my")
    assert result.exit_code == 1
    assert "Error: 'my' could be any of 2 decks: my-ml, my-rl" in result.output


def test_a_unique_prefix_still_works():
    result = run("due", "my-r")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[:2] == ["my-rl", "1"]
