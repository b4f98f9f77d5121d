"""`drill code`, code cards in decks, study, export and `drill gen --code`, driven as a
user would: exact output where it matters, exit codes, and what the review log keeps."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.exercises.code import registry
from drill.review.store import Store

GOOD = textwrap.dedent(
    """\
    import numpy as np


    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    """
)
NAIVE = textwrap.dedent(
    """\
    import numpy as np


    def softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)
    """
)
DECK = textwrap.dedent(
    """\
    id: practice
    title: Practice
    cards:
      - id: softmax
        type: code
        exercise: softmax
        q: A stable softmax
        tags: [numerics]
      - id: causal
        type: code
        exercise: attention
        params: {causal: true}
    """
)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.py").write_text(GOOD, encoding="utf-8")
    (tmp_path / "naive.py").write_text(NAIVE, encoding="utf-8")
    return tmp_path


@pytest.fixture
def deck(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "practice.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    return folder / "practice.yaml"


def reviews():
    with Store.open() as store:
        return store.reviews()


# -- drill code list / show / check ------------------------------------------------------


def test_list_names_every_exercise_by_group():
    result = run("code", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "numerics:"
    assert lines[1].split() == ["softmax", *registry.CODE_EXERCISES["softmax"].summary.split()]
    assert {line.split()[0] for line in lines if line.startswith("  ")} == set(registry.names())
    assert "" in lines and "modern pieces:" in lines


def test_show_prints_the_task_and_the_stub_and_on_request_the_reference():
    result = run("code", "show", "affine-backward")
    assert result.exit_code == 0
    assert result.output.startswith("# Affine layer, backward (affine-backward)\n\n")
    assert "def affine_backward(dout, x, W, b):" in result.output
    assert "raise NotImplementedError" in result.output
    assert "Reference solution" not in result.output
    stub = run("code", "show", "affine-backward", "--stub").output
    assert stub == registry.load("affine-backward").stub.rstrip() + "\n"
    with_key = run("code", "show", "affine-backward", "--reference")
    assert "Reference solution:\n\n" in with_key.output and "dW = x.T @ dout" in with_key.output


def test_check_passes_a_correct_file_with_exit_0(files):
    result = run("code", "check", "softmax", str(files / "good.py"), "--seed", "7")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "softmax, seed 7: 7 tests\n"
        "  ✓ test 1: random logits (N, C)\n"
        "  ✓ test 2: one vector (C,)\n"
        "  ✓ test 3: 3-D scores (B, T, C)\n"
        "  ✓ test 4: large logits (±1000)\n"
        "  ✓ test 5: rows far apart (one near +1000, one near −1000)\n"
        "  ✓ test 6: ties: every logit equal\n"
        "  ✓ test 7: a batch of one (1, C)\n"
        "7/7 passed.\n"
    )


def test_check_fails_a_wrong_file_with_exit_1_and_names_the_slip(files):
    result = run("code", "check", "softmax", str(files / "naive.py"), "--seed", "7")
    assert result.exit_code == 1
    assert "  ✗ test 4: large logits (±1000) — 4 of 30 entries differ at [0, 1]" in result.output
    assert "5/7 passed." in result.output
    assert "First failure: test 4, large logits (±1000)\n  inputs: z: float64 (5, 6)\n" in (
        result.output
    )
    assert "  likely slip: no max-subtraction: exp(1000) overflows to inf" in result.output
    again = run("code", "check", "softmax", str(files / "naive.py"), "--seed", "7")
    assert again.output == result.output  # the seed gives the same tests


def test_check_exit_2_when_the_file_cannot_be_run(files):
    broken = files / "broken.py"
    broken.write_text("def softmax(z)\n    return z\n", encoding="utf-8")
    result = run("code", "check", "softmax", str(broken), "--seed", "1")
    assert result.exit_code == 2
    assert result.output == (
        "softmax, seed 1: 7 tests\n"
        "Cannot run the file: SyntaxError: expected ':' (line 1: def softmax(z))\n"
    )
    missing = run("code", "check", "softmax", str(files / "nowhere.py"))
    assert missing.exit_code == 2
    assert missing.stderr == f"Error: no file {files / 'nowhere.py'}\n"


def test_check_without_a_seed_draws_one_and_says_which(files):
    result = run("code", "check", "softmax", str(files / "good.py"))
    assert result.exit_code == 0
    seed = int(result.output.split(",")[1].split()[1].rstrip(":"))
    assert run("code", "check", "softmax", str(files / "good.py"), "--seed", str(seed)).output == (
        result.output
    )


def test_an_unknown_exercise_is_one_error_line(files):
    result = run("code", "check", "softmaxx", str(files / "good.py"))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unknown code exercise 'softmaxx' (did you mean 'softmax'?); see drill code list\n"
    )
    assert run("code", "show", "nope").stderr.startswith("Error: unknown code exercise 'nope'")


def test_the_time_limit_comes_from_the_config(files, drill_home):
    (drill_home / "config.toml").write_text("code_time_limit = 1\n", encoding="utf-8")
    hang = files / "hang.py"
    hang.write_text("def softmax(z):\n    while True:\n        pass\n", encoding="utf-8")
    result = run("code", "check", "softmax", str(hang), "--seed", "1")
    assert result.exit_code == 1
    assert "  ✗ test 1: random logits (N, C) — timed out after 1 s\n" in result.output
    assert "  · test 2: one vector (C,) — not run\n" in result.output
    (drill_home / "config.toml").write_text("code_time_limit = 0\n", encoding="utf-8")
    bad = run("code", "check", "softmax", str(hang))
    assert bad.exit_code == 1
    assert "code_time_limit must be between 1 and 600 seconds" in bad.stderr


def test_every_code_command_has_help():
    for command in ("list", "show", "check"):
        result = run("code", command, "--help")
        assert result.exit_code == 0
        assert len(result.output.split("\n\n")[1].strip()) > 10


# -- decks ---------------------------------------------------------------------------------


def test_lint_places_code_card_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            id: bad
            title: Bad
            cards:
              - id: one
                type: code
                exercise: softmaxx
              - id: two
                type: code
                exercise: attention
                params: {causal: 1, window: 3}
                a: the answer
              - id: three
                q: A question
                a: An answer
                exercise: softmax
              - id: four
                type: code
            """
        ),
        encoding="utf-8",
    )
    result = run("lint", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines()[:6] == [
        f"{path}:6:15: card 'one': unknown code exercise 'softmaxx' (did you mean 'softmax'?); "
        "see drill code list",
        f"{path}:10:22: card 'two': code exercise 'attention': param 'causal' must be true or "
        "false, not 1",
        f"{path}:10:25: card 'two': code exercise 'attention' has no param 'window'; it takes "
        "causal",
        f"{path}:11:8: card 'two': a code card's answer is its exercise's reference solution; "
        "remove 'a'",
        f"{path}:15:15: card 'three': only code cards take 'exercise' (add 'type: code')",
        f"{path}:16:5: card 'four': missing 'exercise'",
    ]


def test_the_builtin_coding_deck_has_at_least_24_code_cards():
    from drill.decks.loader import load_collection

    deck = next(d for d in load_collection(()).decks if d.id == "coding")
    assert deck.title and deck.description and deck.tags
    code_cards = [card for card in deck.cards if card.type.value == "code"]
    assert len(code_cards) >= 24
    assert all(card.tags and card.ref for card in code_cards)
    assert {card.generator for card in code_cards} == set(registry.names())


# -- study ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("deck")
def test_scripted_study_grades_a_file_and_logs_the_seed_and_the_tests_passed(files, drill_home):
    script = f"{files / 'good.py'}\n\n{files / 'naive.py'}\n\nq\n"
    result = run("study", "practice", "--new", "1", input=script)
    assert result.exit_code == 0, result.output
    assert "Solution file: " in result.output
    assert "7/7 passed." in result.output and "✓ Every test passed." in result.output
    assert "likely slip: no max-subtraction" in result.output
    assert "Reference solution" in result.output
    assert "Reviewed 2 cards" in result.output
    logged = [(r.key, r.rating.name, r.answer, r.correct) for r in reviews()]
    assert logged[0] == ("practice/softmax", "GOOD", "7/7 passed", True)
    key, rating, answer, correct = logged[1]
    assert (key, rating, correct) == ("practice/softmax", "AGAIN", False)
    assert answer.endswith("/7 passed") and answer != "7/7 passed"
    assert all(isinstance(r.seed, int) for r in reviews())
    # The failed attempt waits for the next try; the passing one was put aside.
    folder = drill_home / "code" / "practice"
    assert (folder / "softmax.py").read_text(encoding="utf-8") == NAIVE
    assert (folder / "softmax.passed.py").is_file()


@pytest.mark.usefixtures("deck")
def test_an_empty_line_skips_to_the_reference_and_proposes_again(drill_home):
    result = run("study", "practice", "--new", "1", input="\n\nq\n")
    assert result.exit_code == 0, result.output
    assert "Reference solution" in result.output
    assert "Enter: again" in result.output
    [review] = reviews()
    assert (review.rating.name, review.answer, review.correct) == ("AGAIN", None, False)
    stub = (drill_home / "code" / "practice" / "softmax.py").read_text(encoding="utf-8")
    assert "raise NotImplementedError" in stub and stub.startswith("# practice/softmax: ")


@pytest.mark.usefixtures("deck")
def test_a_wrong_path_is_asked_again_and_u_s_q_work(files, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # the path whole on one line, however deep its folder
    script = f"{files / 'missing.py'}\ns\n"
    result = run("study", "practice", "--new", "1", input=script)
    said = " ".join(result.output.split())
    assert f"No file at {files / 'missing.py'}; type its path again." in said
    assert "Suspended practice/softmax." in result.output
    with Store.open() as store:
        assert store.card("practice/softmax").suspended
    undone = run("study", "practice", "--new", "2", input=f"{files / 'good.py'}\n3\nu\nq\n")
    assert "Undid the answer to practice/causal." in undone.output
    assert reviews() == []


@pytest.mark.usefixtures("deck")
def test_a_code_card_with_params_runs_its_exercise_with_them(tmp_path):
    source = registry.load("attention").reference
    (tmp_path / "attention.py").write_text(source, encoding="utf-8")
    run("suspend", "practice/softmax")
    result = run("study", "practice", "--new", "1", input=f"{tmp_path / 'attention.py'}\n\nq\n")
    assert result.exit_code == 0, result.output
    tests = [line for line in result.output.splitlines() if line.startswith("  ✓ test")]
    assert tests and all("no mask" not in line for line in tests)  # causal: true
    [review] = reviews()
    assert review.answer == f"{len(tests)}/{len(tests)} passed"


@pytest.mark.usefixtures("deck")
def test_show_lists_the_seed_and_the_tests_passed_of_each_review(files):
    run("study", "practice", "--new", "1", input=f"{files / 'good.py'}\n\nq\n")
    result = CliRunner().invoke(app, ["show", "practice/softmax"], env={"COLUMNS": "160"})
    assert "exercise: softmax" in result.output
    seed = reviews()[0].seed
    assert str(seed) in result.output and "7/7 passed" in result.output
    assert "drill code check softmax FILE --seed SEED" in result.output


# -- export and gen --------------------------------------------------------------------------


def test_export_to_anki_makes_a_note_with_the_task_the_stub_and_the_reference(deck, tmp_path):
    anki_collection = pytest.importorskip("anki.collection")
    path = tmp_path / "practice.apkg"
    assert run("export", "practice", "-o", str(path)).exit_code == 0
    col = anki_collection.Collection(str(tmp_path / "collection.anki2"))
    try:
        request = anki_collection.ImportAnkiPackageRequest(
            package_path=str(path), options=anki_collection.ImportAnkiPackageOptions()
        )
        col.import_anki_package(request)
        [note_id] = col.find_notes('"Key:practice/softmax"')
        note = col.get_note(note_id)
    finally:
        col.close()
    assert "<strong>A stable softmax</strong>" in note["Question"]
    assert "over the <strong>last axis</strong>" in note["Question"]
    assert "def softmax(z):" in note["Question"] and "NotImplementedError" in note["Question"]
    assert "Reference solution:" in note["Answer"]
    assert "np.max(z, axis=-1, keepdims=True)" in note["Answer"]
    assert "NotImplementedError" not in note["Answer"]


def test_json_export_and_import_keep_code_cards(deck, tmp_path):
    path = tmp_path / "decks.json"
    assert run("export", "practice", "-o", str(path)).exit_code == 0
    cards = json.loads(path.read_text(encoding="utf-8"))["decks"][0]["cards"]
    assert cards[1] == {
        "id": "causal",
        "type": "code",
        "exercise": "attention",
        "params": {"causal": True},
    }
    imported = run("import", str(path), "--id", "copy")
    assert imported.exit_code == 0, imported.output
    assert run("lint").exit_code == 0


def test_gen_code_writes_a_markdown_worksheet_with_the_key(tmp_path):
    sheet = tmp_path / "sheet.md"
    result = run("gen", "--code", "softmax", "adam", "-o", str(sheet))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Wrote 2 code exercises to {sheet}\n"
    text = sheet.read_text(encoding="utf-8")
    assert text.startswith("# Code worksheet\n\n")
    assert "## 1. Stable softmax (`softmax`)" in text
    assert "## 2. Adam, one step with bias correction (`adam`)" in text
    task, key = text.split("# Answer key")
    assert "raise NotImplementedError" in task and "m_hat = m_next / (1 - beta1**t)" in key
    no_key = run("gen", "--code", "softmax", "--no-answers")
    assert "# Answer key" not in no_key.output and "def softmax(z):" in no_key.output


def test_gen_code_refuses_json_and_unknown_names():
    assert run("gen", "--code", "--format", "json").stderr == (
        "Error: a code worksheet is Markdown: leave out --format json\n"
    )
    assert "unknown code exercise 'adamw'" in run("gen", "--code", "adamw").stderr
    listed = run("gen", "--code", "--list")
    assert len(listed.output.splitlines()) == len(registry.names())
