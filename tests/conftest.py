"""Every test runs in its own DRILL_HOME, with no extra deck folders from the environment."""

from __future__ import annotations

import tempfile

import pytest


@pytest.fixture(autouse=True)
def drill_home(tmp_path, monkeypatch):
    # Temporary files (editor drafts, code submissions) stay in the test's own folder too.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    home = tmp_path / "drill-home"
    home.mkdir()
    monkeypatch.setenv("DRILL_HOME", str(home))
    monkeypatch.delenv("DRILL_DECKS", raising=False)
    return home


@pytest.fixture
def store(tmp_path):
    """A fresh database; a test module may define its own `store` to fill it."""
    from drill.review.store import Store

    with Store(tmp_path / "drill.db") as store:
        yield store
