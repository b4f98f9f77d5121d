"""Import and export at their edges: a JSON export of every deck imports back, a CSV header
row is not a card, a user deck can be removed (its history kept unless purged), and lint
says when a deck takes an id drill already reads from another file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.home.paths import get_paths
from drill.review.store import Store

runner = CliRunner()

MINE = "id: mine\ntitle: Mine\ncards:\n  - {id: a, q: A?, a: A.}\n  - {id: b, q: B?, a: B.}\n"


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def user_decks() -> list[str]:
    folder = get_paths().user_decks
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def put_user_deck(text: str = MINE, name: str = "mine.yaml") -> None:
    folder = get_paths().user_decks
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


# -- a JSON export of every deck ----------------------------------------------------------


def test_a_json_export_of_every_deck_imports_back_with_skip_existing(tmp_path):
    put_user_deck()
    exported = tmp_path / "decks.json"
    assert run("export", "--format", "json", "-o", str(exported)).exit_code == 0
    ids = [deck["id"] for deck in json.loads(exported.read_text())["decks"]]
    assert "intro" in ids and "mine" in ids  # every deck, the built-in ones too

    refused = run("import", str(exported))
    assert refused.exit_code == 1
    assert "already exists (--skip-existing imports the others)" in refused.stderr

    (get_paths().user_decks / "mine.yaml").unlink()  # as on another machine
    result = run("import", str(exported), "--skip-existing")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Skipped {len(ids) - 1} decks drill has: ")
    assert lines[1].startswith("Imported 2 cards as deck 'mine': ")
    assert user_decks() == ["mine.yaml"]

    again = run("import", str(exported), "--skip-existing")
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == (
        f"Nothing to import: drill has every deck in {exported} already."
    )


# -- CSV header rows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "first", ["Front,Back", "front,back,tags", "Question,Answer", "Term,Definition"]
)
def test_a_header_row_is_read_as_column_names(tmp_path, first):
    path = tmp_path / "cards.csv"
    path.write_text(f"{first}\nWhat is 2+2?,4\nWhat is 3+3?,6\n", encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Read the first row ({first}) as column names; --no-header takes it as a card."
    )
    assert "Imported 2 cards as deck 'cards'" in result.stdout
    text = (get_paths().user_decks / "cards.yaml").read_text()
    assert "Front" not in text and "Question" not in text and "Term" not in text


def test_no_header_takes_the_first_row_as_a_card(tmp_path):
    path = tmp_path / "cards.csv"
    path.write_text("Front,Back\nWhat is 2+2?,4\n", encoding="utf-8")
    result = run("import", str(path), "--no-header")
    assert result.exit_code == 0, result.output
    assert "Imported 2 cards" in result.stdout and "column names" not in result.stdout


def test_header_drops_a_first_row_drill_would_not_recognise(tmp_path):
    path = tmp_path / "cards.tsv"
    path.write_text("Vorderseite\tRückseite\nWhat is 2+2?\t4\n", encoding="utf-8")
    assert "Imported 2 cards" in run("import", str(path), "--id", "kept").stdout
    result = run("import", str(path), "--header", "--id", "dropped")
    assert result.exit_code == 0, result.output
    assert "Imported 1 card as deck 'dropped'" in result.stdout


def test_a_first_row_of_data_is_never_taken_for_a_header(tmp_path):
    path = tmp_path / "cards.csv"
    path.write_text("What is 2+2?,4\nWhat is 3+3?,6\n", encoding="utf-8")
    result = run("import", str(path))
    assert "Imported 2 cards" in result.stdout and "column names" not in result.stdout


# -- removing a user deck -----------------------------------------------------------------


def review_mine() -> None:
    result = run("study", "mine", input="\n3\n\n3\nq\n")
    assert result.exit_code == 0, result.output
    assert "Reviewed 2 cards" in result.output


def test_remove_deletes_the_file_and_keeps_the_history():
    put_user_deck()
    review_mine()
    result = run("decks", "remove", "mine")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Removed deck 'mine' (2 cards): " + str(get_paths().user_decks / "mine.yaml"),
        "Its review history is kept; drill decks remove --purge deletes it.",
    ]
    assert user_decks() == []
    with Store.open() as store:
        assert len(store.reviews()) == 2
    assert "2 cards with history in no deck (orphaned)" in run("doctor").stdout
    put_user_deck()  # the deck comes back: so does its history
    assert "reviews: 1" in run("show", "mine/a").stdout


def test_remove_purge_deletes_the_history_after_a_backup():
    put_user_deck()
    put_user_deck(MINE.replace("mine", "mine2"), "mine2.yaml")  # a sibling id: kept
    review_mine()
    assert run("study", "mine2", input="\n3\nq\n").exit_code == 0
    result = run("decks", "remove", "mine", "--purge")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Backed up the database to ") and "before-purge" in lines[0]
    assert lines[-1] == "Deleted its history: 2 reviews of 2 cards."
    with Store.open() as store:
        assert [review.key for review in store.reviews(include_undone=True)] == ["mine2/a"]
        assert set(store.cards()) == {"mine2/a"}
    backups = run("backup", "--list").stdout
    assert "before-purge" in backups


def test_remove_refuses_built_in_and_outside_decks(tmp_path, monkeypatch):
    builtin = run("decks", "remove", "intro")
    assert builtin.exit_code == 1
    assert builtin.stderr == (
        "Error: 'intro' is a built-in deck; keep its cards out of study with: drill suspend intro\n"
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "mine.yaml").write_text(MINE, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(outside))
    result = run("decks", "remove", "mine")
    assert result.exit_code == 1
    assert f"is read from {outside / 'mine.yaml'}, outside drill's decks folder" in result.stderr
    assert (outside / "mine.yaml").exists()
    unknown = run("decks", "remove", "mnie")
    assert unknown.stderr == "Error: no deck 'mnie' (did you mean 'mine'?); see drill decks\n"


def test_decks_still_lists_and_shows_built_in_sources():
    result = run("decks")
    assert result.exit_code == 0
    intro = next(line for line in result.stdout.splitlines() if line.startswith("intro "))
    assert intro.endswith("  built-in")


# -- lint and ids drill already reads -----------------------------------------------------


def test_lint_of_a_file_reports_an_id_a_built_in_deck_has(tmp_path):
    path = tmp_path / "intro.yaml"
    path.write_text(MINE.replace("id: mine", "id: intro"), encoding="utf-8")
    result = run("lint", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(
        f"{path}:1:5: deck id 'intro' is already used by "
    )
    ok = tmp_path / "mine.yaml"
    ok.write_text(MINE, encoding="utf-8")
    assert run("lint", str(ok)).stdout == "1 deck, 2 cards: OK\n"


def test_lint_of_a_file_drill_reads_is_not_a_clash_with_itself():
    put_user_deck()
    path = get_paths().user_decks / "mine.yaml"
    assert run("lint", str(path)).stdout == "1 deck, 2 cards: OK\n"


def test_a_cloze_card_exported_to_csv_imports_back_as_a_cloze_card(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "gaps.yaml").write_text(
        "id: gaps\ntitle: Gaps\ncards:\n"
        "  - id: xor\n    type: cloze\n"
        "    text: A single linear layer cannot compute {{c1::XOR}}.\n"
        "  - {id: plain, q: One?, a: One.}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    path = tmp_path / "gaps.csv"
    assert run("export", "gaps", "-o", str(path)).exit_code == 0
    result = run("import", str(path), "--id", "gaps-again")
    assert result.exit_code == 0, result.output
    text = (get_paths().user_decks / "gaps-again.yaml").read_text()
    assert "type: cloze" in text and "{{c1::XOR}}" in text
