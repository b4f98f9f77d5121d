"""Files drill reads and writes when asked to: import ids, output targets, limits, errors.

Every failure here is one `Error: …` line naming the path, never a traceback, and never a
file written where it was not asked for.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from export_samples import basic_deck, write_deck_folder
from typer.testing import CliRunner

from drill.cli import app
from drill.errors import DrillError
from drill.exchange.importer import ImportFailed, import_decks
from drill.exchange.jsonfmt import render_json
from drill.home.fileio import atomic_write, refuse_existing
from drill.home.paths import get_paths
from drill.model import Card, Deck

runner = CliRunner()
VALID_ID_RULE = (
    "use lowercase letters, digits, '-' and '_' (at most 64, starting with a letter or digit)"
)


def user_decks() -> list[str]:
    folder = get_paths().user_decks
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def export_json(path: Path, deck_id: object, card: dict | None = None) -> Path:
    card = card or {"id": "a", "q": "Q?", "a": "A."}
    document = {"format": "drill-decks", "version": 1, "decks": [{"id": deck_id, "title": "T"}]}
    document["decks"][0]["cards"] = [card]
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def files_outside(root: Path, home: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if home not in p.parents and p != home)


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ")
    return line


@pytest.fixture
def private_temp(tmp_path, monkeypatch) -> Path:
    """The system temporary folder, two levels under tmp_path: `../../x` from a folder made
    in it lands in tmp_path/t/x, where the test can look for it."""
    folder = tmp_path / "t" / "u"
    folder.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return tmp_path / "t"


# 1. `drill import` writes only inside the decks folder


@pytest.mark.parametrize("deck_id", ["../../victim", "../victim", "a/b", "a\\b", ".", ".."])
def test_a_json_deck_id_that_is_a_path_writes_nothing(tmp_path, drill_home, private_temp, deck_id):
    source = export_json(tmp_path / "hostile.json", deck_id)
    before = files_outside(tmp_path, drill_home)
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert (
        line == f"Error: {source}: deck {deck_id!r}: invalid deck id {deck_id!r}: {VALID_ID_RULE}"
    )
    assert files_outside(tmp_path, drill_home) == before  # no victim.yaml, no b.yaml, nothing
    assert user_decks() == []


def test_an_absolute_deck_id_creates_no_file(tmp_path, private_temp):
    target = tmp_path / "elsewhere" / "victim"
    target.parent.mkdir()
    source = export_json(tmp_path / "hostile.json", str(target))
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert f"invalid deck id {str(target)[:20]!r}"[:-1] in line  # shortened to 40 characters
    assert list(target.parent.iterdir()) == []
    assert user_decks() == []


def test_an_id_option_that_is_a_path_writes_nothing(tmp_path, private_temp):
    source = tmp_path / "cards.tsv"
    source.write_text("front\tback\n")
    line = one_error_line(runner.invoke(app, ["import", str(source), "--id", "../x"]))
    assert line == f"Error: {source}: deck '../x': invalid deck id '../x': {VALID_ID_RULE}"
    assert not (private_temp / "x.yaml").exists()
    assert user_decks() == []


def test_import_decks_checks_ids_before_building_any_path(tmp_path):
    folder = tmp_path / "decks"
    outside = tmp_path / "outside"
    deck = Deck(str(outside), "T", (Card(str(outside), "a", q="Q", a="A"),))
    with pytest.raises(ImportFailed, match="invalid deck id"):
        import_decks([deck], folder, set(), tmp_path / "in.json")
    assert not outside.with_suffix(".yaml").exists()
    assert not folder.exists()


def test_a_deck_id_that_is_not_text_is_refused(tmp_path):
    source = export_json(tmp_path / "number.json", 5)
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert line == f'Error: {source}: deck 1: "id" must be text, not 5'
    assert user_decks() == []


def test_a_link_in_the_decks_folder_is_not_followed(tmp_path):
    folder = get_paths().user_decks
    folder.mkdir(parents=True)
    outside = tmp_path / "outside.yaml"
    (folder / "mine.yaml").symlink_to(outside)  # dangling: exists() says no
    source = tmp_path / "mine.tsv"
    source.write_text("front\tback\n")
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert line == f"Error: {folder / 'mine.yaml'} already exists (choose another --id)"
    assert not outside.exists()


def test_a_deck_path_leading_outside_the_folder_is_refused(tmp_path, monkeypatch):
    # The last guard, for a path that only resolves outside once the file is there.
    folder = tmp_path / "decks"
    folder.mkdir()
    real_resolve = Path.resolve

    def resolve(self, strict=False):
        if self == folder / "mine.yaml":
            return real_resolve(tmp_path / "outside.yaml")
        return real_resolve(self, strict)

    monkeypatch.setattr(Path, "resolve", resolve)
    deck = Deck("mine", "T", (Card("mine", "a", q="Q", a="A"),))
    with pytest.raises(ImportFailed, match=r"mine\.yaml is outside .*decks"):
        import_decks([deck], folder, set(), tmp_path / "in.json")
    assert list(folder.iterdir()) == []


# 9. Import: hostile files are one line naming the file


def test_a_long_deck_id_is_one_line(tmp_path, private_temp):
    deck_id = "a" * 300
    source = export_json(tmp_path / "long.json", deck_id)
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert line.startswith(f"Error: {source}: deck 'aaaa")
    assert "invalid deck id" in line and len(line) < len(str(source)) + 250
    assert user_decks() == []


def test_deeply_nested_json_is_one_line(tmp_path):
    source = tmp_path / "deep.json"
    source.write_text("[" * 100_000 + "]" * 100_000)
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert line == f"Error: {source}: lists and objects nest too deeply (at most 34 levels)"


def test_deep_params_inside_a_valid_export_are_one_line(tmp_path):
    params: dict = {}
    inner = params
    for _ in range(200):
        inner["x"] = {}
        inner = inner["x"]
    card = {"id": "c", "type": "compute", "generator": "mlp-backward", "params": params}
    source = export_json(tmp_path / "deep-params.json", "deep", card)
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert line == f"Error: {source}: lists and objects nest too deeply (at most 34 levels)"
    assert user_decks() == []


@pytest.mark.parametrize("number", ["1" * 5000, "-" + "2" * 200, "1." + "5" * 200])
def test_a_huge_number_is_one_line_naming_the_file(tmp_path, number):
    source = tmp_path / "number.json"
    source.write_text(f'{{"format": "drill-decks", "version": {number}, "decks": []}}')
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert line == (
        f"Error: {source}: a number of {len(number)} characters is too long (at most 100)"
    )


def test_an_oversized_text_file_is_refused_before_it_is_read(tmp_path):
    source = tmp_path / "huge.tsv"
    with source.open("wb") as handle:  # sparse: 30 MiB without writing them
        handle.truncate(30 * 1024 * 1024)
    tracemalloc.start()
    try:
        result = runner.invoke(app, ["import", str(source)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    line = one_error_line(result)
    assert line == f"Error: {source}: file is 30.0 MiB, above the 5.0 MiB limit for deck files"
    assert peak < 5 * 1024 * 1024


def test_the_import_limit_comes_from_the_config(tmp_path, drill_home):
    (drill_home / "config.toml").write_text("max_deck_bytes = 2048\n")
    source = tmp_path / "cards.tsv"
    source.write_text("".join(f"question {i}\tanswer {i}\n" for i in range(200)))
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    size = source.stat().st_size
    assert (
        line == f"Error: {source}: file is {size} bytes, above the 2048 bytes limit for deck files"
    )


def test_a_json_export_may_hold_more_than_one_deck_limit(tmp_path, drill_home):
    (drill_home / "config.toml").write_text("max_deck_bytes = 2048\n")
    decks = [basic_deck(f"d{n}", answer="x" * 300) for n in range(4)]
    source = tmp_path / "all.json"
    source.write_text(render_json(decks))
    assert source.stat().st_size > 2048
    result = runner.invoke(app, ["import", str(source)])
    assert result.exit_code == 0, result.output
    assert user_decks() == ["d0.yaml", "d1.yaml", "d2.yaml", "d3.yaml"]
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(8 * 2048 + 1)
    line = one_error_line(runner.invoke(app, ["import", str(big)]))
    assert (
        line == f"Error: {big}: file is 16385 bytes, above the 16384 bytes limit for JSON imports"
    )


def test_a_file_that_grows_past_its_size_is_read_only_to_the_limit(tmp_path, drill_home):
    (drill_home / "config.toml").write_text("max_deck_bytes = 2048\n")
    source = tmp_path / "cards.tsv"
    source.write_text("q\ta\n")
    real_stat = Path.stat

    def stale_stat(self, **kwargs):  # what a growing file or a /proc file reports
        info = real_stat(self, **kwargs)
        return os.stat_result((*info[:6], 0, *info[7:])) if self == source else info

    source.write_text("q\ta\n" * 10_000)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "stat", stale_stat)
        result = runner.invoke(app, ["import", str(source)])
    line = one_error_line(result)
    assert (
        line
        == f"Error: {source}: file is over 2048 bytes, above the 2048 bytes limit for deck files"
    )


# 8. Writing an output file: one line naming the path and the reason


def write_commands(tmp_path: Path, out: Path) -> dict[str, list[str]]:
    folder = write_deck_folder(tmp_path)
    return {
        "export": [
            "export",
            "ml",
            "--decks",
            str(folder),
            "-o",
            str(out),
            "-f",
            "md",
            "--instances",
            "0",
        ],
        "log export": ["log", "export", "-o", str(out)],
        "gen": ["gen", "param-count", "-o", str(out)],
    }


COMMANDS = ["export", "log export", "gen"]


@pytest.mark.parametrize("command", COMMANDS)
def test_disk_full_is_one_line_and_leaves_no_temporary_file(tmp_path, monkeypatch, command):
    out_folder = tmp_path / "out"
    out_folder.mkdir()
    out = out_folder / "result.md"
    args = write_commands(tmp_path, out)[command]

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    line = one_error_line(runner.invoke(app, args))
    assert line == f"Error: cannot write {out}: No space left on device"
    assert list(out_folder.iterdir()) == []


def test_disk_full_during_import_writes_no_deck(tmp_path, monkeypatch):
    source = export_json(tmp_path / "two.json", "one")
    document = json.loads(source.read_text())
    document["decks"].append({**document["decks"][0], "id": "two"})
    source.write_text(json.dumps(document))
    real_fsync = os.fsync
    calls = []

    def full_on_second(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_on_second)
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    target = get_paths().user_decks / "two.yaml"
    assert line == f"Error: cannot write {target}: No space left on device"
    assert user_decks() == []  # all or nothing: the first deck was taken back


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_without_write_permission_is_one_line(tmp_path, command):
    locked = tmp_path / "locked"
    locked.mkdir()
    out = locked / "result.md"
    args = write_commands(tmp_path, out)[command]
    locked.chmod(0o500)
    try:
        line = one_error_line(runner.invoke(app, args))
    finally:
        locked.chmod(0o700)
    assert line == f"Error: cannot write {out}: Permission denied"


@pytest.mark.parametrize("command", COMMANDS)
def test_permission_denied_is_one_line(tmp_path, monkeypatch, command):
    # The same failure as a read-only folder, also for a test run as root.
    out = tmp_path / "result.md"
    args = write_commands(tmp_path, out)[command]
    real_open = os.open

    def denied(path, flags, mode=0o777, **kwargs):
        if str(path).startswith(str(tmp_path / ".result.md")):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    line = one_error_line(runner.invoke(app, args))
    assert line == f"Error: cannot write {out}: Permission denied"
    assert not out.exists()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/result.md", "Error: {parent}: no such folder"),
        ("folder", "Error: {out} is a folder; name a file to write"),
        ("file/result.md", "Error: cannot write {out}: Not a directory"),
    ],
)
def test_a_target_that_cannot_be_a_file_is_one_line(tmp_path, command, target, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    out = tmp_path / target
    for force in ([], ["--force"]):
        result = runner.invoke(app, [*write_commands(tmp_path, out)[command], *force])
        assert one_error_line(result) == message.format(out=out, parent=out.parent)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", COMMANDS)
def test_a_proc_path_is_one_line(tmp_path, command):
    new = runner.invoke(app, write_commands(tmp_path, Path("/proc/drill-test.md"))[command])
    assert one_error_line(new).startswith("Error: cannot write /proc/drill-test.md: ")
    forced = [*write_commands(tmp_path, Path("/proc/self/status"))[command], "--force"]
    assert one_error_line(runner.invoke(app, forced)).startswith(
        "Error: cannot write /proc/self/status: "
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symbolic_link_is_never_replaced(tmp_path, command):
    real = tmp_path / "real.md"
    real.write_text("keep me")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    for force in ([], ["--force"]):
        result = runner.invoke(app, [*write_commands(tmp_path, link)[command], *force])
        assert one_error_line(result) == (
            f"Error: {link} is a symbolic link, not a regular file; drill will not replace it"
        )
    assert link.is_symlink() and real.read_text() == "keep me"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("command", COMMANDS)
def test_a_named_pipe_is_never_replaced(tmp_path, command):
    pipe = tmp_path / "pipe.md"
    os.mkfifo(pipe)
    result = runner.invoke(app, [*write_commands(tmp_path, pipe)[command], "--force"])
    assert one_error_line(result) == (
        f"Error: {pipe} is a named pipe, not a regular file; drill will not replace it"
    )
    assert stat.S_ISFIFO(pipe.lstat().st_mode)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_device_is_refused_even_when_forced():
    # Only the check: a write test that failed would replace /dev/null when run as root.
    with pytest.raises(DrillError) as caught:
        refuse_existing(Path("/dev/null"), force=True)
    assert str(caught.value) == (
        "/dev/null is a device, not a regular file; drill will not replace it"
    )


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, command, mask, mode):
    out = tmp_path / "result.md"
    args = write_commands(tmp_path, out)[command]
    umask(mask)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == mode


def test_imported_decks_follow_the_umask(tmp_path, umask):
    source = tmp_path / "mine.tsv"
    source.write_text("front\tback\n")
    umask(0o022)
    assert runner.invoke(app, ["import", str(source)]).exit_code == 0
    assert stat.S_IMODE((get_paths().user_decks / "mine.yaml").stat().st_mode) == 0o644


def test_a_forced_write_keeps_the_mode_of_the_file_it_replaces(tmp_path, umask):
    target = tmp_path / "sheet.md"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write(target, "new", force=True)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_decks_folder_that_cannot_be_made_is_one_line(tmp_path, drill_home):
    (drill_home / "decks").write_text("a file where the folder should be")
    source = tmp_path / "mine.tsv"
    source.write_text("front\tback\n")
    line = one_error_line(runner.invoke(app, ["import", str(source)]))
    assert line == f"Error: cannot create folder {drill_home / 'decks'}: File exists"


# 12. Warnings


def test_export_prints_each_warning_once(tmp_path):
    folder = write_deck_folder(tmp_path)
    (folder / "broken.yaml").write_text("id: broken\ntitle: B\ncards: 3\n")
    result = runner.invoke(
        app,
        ["export", "--decks", str(folder), "ml", "-o", str(tmp_path / "ml.md"), "--instances", "0"],
    )
    assert result.exit_code == 0, result.output
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"Warning: {folder / 'broken.yaml'}:3:8: ")


def test_a_missing_folder_named_twice_is_warned_about_once(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("DRILL_DECKS", str(missing))
    out = tmp_path / "all.md"
    result = CliRunner().invoke(app, ["export", "--decks", str(missing), "-o", str(out)])
    assert result.exit_code == 0
    # It was collected once per naming, and shown as "(skipped; 1 more error, see drill lint)"
    assert result.stderr == f"Warning: {missing}: no such file or folder (skipped)\n"


def test_commands_that_only_read_leave_a_new_home_as_it_was(drill_home):
    """`drill due`, `stats` and `show` in a home with no database answer as an empty one
    would, without making one (nor the deck cache, which only a home in use gets)."""
    commands = [["due"], ["stats", "--json"], ["show", "intro/what-is-deep-learning"]]

    def answers() -> list[str]:
        results = [CliRunner().invoke(app, words) for words in commands]
        assert [result.exit_code for result in results] == [0, 0, 0], results[0].output
        outputs = [result.output for result in results]
        figures = json.loads(outputs[1])
        assert figures.pop("now") and figures["cards"]["new"] > 1000
        return [outputs[0], figures, outputs[2]]

    before = answers()
    assert list(drill_home.iterdir()) == []
    from drill.review.store import Store

    Store.open().close()  # now an empty database on disk: the same answers
    assert answers() == before
