"""Every test runs in its own DRILL_HOME, with no extra deck folders from the environment."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def drill_home(tmp_path, monkeypatch):
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
