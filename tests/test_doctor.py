"""`drill doctor`: each check's findings, and the exit code that says whether to act."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from drill.cli import app
from drill.decks.loader import Collection, load_sources
from drill.doctor import (
    Severity,
    check_backups,
    check_config,
    check_database,
    check_decks,
    needs_user,
)
from drill.model import CardState, Rating
from drill.review.backup import Reason, make_backup
from drill.review.store import APPLICATION_ID, CardRecord, Review, Store, m001_initial

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def with_reviews(path: Path, *days_ago: int) -> Path:
    with Store(path) as store:
        for i, days in enumerate(days_ago):
            at = NOW - timedelta(days=days)
            due = at + timedelta(days=1)
            store.record(
                Review(f"d/c{i}", at, Rating.GOOD, CardState.NEW, CardState.REVIEW, due),
                CardRecord(f"d/c{i}", CardState.REVIEW, None, 2.0, 5.0, due, at, 1),
            )
    return path


def severities(findings) -> list[tuple[str, Severity]]:
    return [(f.area, f.severity) for f in findings]


def test_a_fresh_home_is_healthy_and_left_untouched(drill_home):
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()] == ["ok"] * 4
    assert list(drill_home.iterdir()) == []  # no database, no folders created


def test_a_healthy_database(tmp_path):
    path = with_reviews(tmp_path / "drill.db", 1)
    (finding,) = check_database(path, {"d/c0"})
    assert finding.severity is Severity.OK
    assert "integrity ok" in finding.message and "1 review" in finding.message


def test_a_damaged_database_is_an_error_with_what_to_do(tmp_path):
    path = tmp_path / "drill.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xa5" * 8000)
    (finding,) = check_database(path, set())
    assert finding.severity is Severity.ERROR
    assert str(path) in finding.message
    assert "drill restore" in finding.advice


def test_schema_pending_upgrade_and_written_by_a_newer_drill(tmp_path):
    old = tmp_path / "old.db"
    db = sqlite3.connect(old, isolation_level=None)
    m001_initial(db)
    db.execute("INSERT INTO migrations VALUES ('m001_initial', 'then')")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.close()
    (pending,) = check_database(old, set())
    assert pending.severity is Severity.NOTE and "pending" in pending.message

    newer = with_reviews(tmp_path / "newer.db")
    db = sqlite3.connect(newer)
    db.execute("INSERT INTO migrations VALUES ('m999_from_the_future', 'later')")
    db.commit()
    db.close()
    (future,) = check_database(newer, set())
    assert future.severity is Severity.WARNING and "newer drill" in future.message


def test_orphans_are_listed_as_a_note(tmp_path):
    path = with_reviews(tmp_path / "drill.db", 1, 1, 1, 1, 1, 1, 1)
    findings = check_database(path, {"d/c0"})
    assert severities(findings) == [("database", Severity.OK), ("database", Severity.NOTE)]
    assert "6 cards with history in no deck (orphaned): d/c1, d/c2" in findings[1].message
    assert findings[1].message.endswith("and 1 more.")
    assert not needs_user(findings)


def test_deck_errors_one_finding_per_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("- just\n- a list\n")
    (tmp_path / "good.yaml").write_text("id: g\ntitle: G\ncards:\n  - {id: a, q: Q, a: A}\n")
    findings = check_decks(load_sources([tmp_path]))
    assert severities(findings) == [("decks", Severity.ERROR)]
    assert "bad.yaml" in findings[0].message and "drill lint" in findings[0].advice
    assert severities(check_decks(Collection())) == [("decks", Severity.OK)]


def test_config_errors(tmp_path):
    path = tmp_path / "config.toml"
    assert severities(check_config(path)) == [("config", Severity.OK)]
    path.write_text("new_per_dya = 5\n")
    (finding,) = check_config(path)
    assert finding.severity is Severity.ERROR and "new_per_day" in finding.message


def test_backups_none_yet(tmp_path):
    folder = tmp_path / "backups"
    assert severities(check_backups(folder, tmp_path / "drill.db", NOW)) == [
        ("backups", Severity.OK)
    ]
    recent = with_reviews(tmp_path / "recent.db", 0)
    assert check_backups(folder, recent, NOW)[0].severity is Severity.NOTE
    old = with_reviews(tmp_path / "old.db", 10, 0)
    (finding,) = check_backups(folder, old, NOW)
    assert finding.severity is Severity.WARNING and "drill backup" in finding.advice


def test_backups_falling_behind_the_reviews(tmp_path):
    path = with_reviews(tmp_path / "drill.db", 10)
    folder = tmp_path / "backups"
    with Store(path) as store:
        make_backup(store.db, folder, Reason.DAILY, NOW - timedelta(days=9))
    assert check_backups(folder, path, NOW)[0].severity is Severity.OK
    with_reviews(path, 0)  # reviews today, the newest copy nine days old
    (finding,) = check_backups(folder, path, NOW)
    assert finding.severity is Severity.WARNING and "failing" in finding.message


def test_an_unusable_newest_backup(tmp_path):
    path = with_reviews(tmp_path / "drill.db", 1)
    folder = tmp_path / "backups"
    with Store(path) as store:
        copy = make_backup(store.db, folder, Reason.DAILY, NOW)
    copy.path.write_bytes(b"truncated")
    (finding,) = check_backups(folder, path, NOW)
    assert finding.severity is Severity.WARNING and copy.path.name in finding.message


def test_leftover_partial_copies_and_a_file_in_place_of_the_folder(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    partial = folder / ".partial-1-x.db"
    partial.write_bytes(b"")
    old = time.time() - 7200
    os.utime(partial, (old, old))
    assert ("backups", Severity.NOTE) in severities(check_backups(folder, tmp_path / "x", NOW))

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    (finding,) = check_backups(not_a_folder, tmp_path / "x", NOW)
    assert finding.severity is Severity.ERROR


def test_the_command_exits_1_when_the_user_must_act(drill_home):
    (drill_home / "config.toml").write_text("rollover_hour = 99\n")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "error    config" in result.output
    assert "-> Fix or remove the file" in result.output
