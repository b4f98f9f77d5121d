"""`drill paths`: where drill keeps its files."""

from __future__ import annotations

import typer

from drill.cli.app import app


@app.command()
def paths() -> None:
    """Show where drill keeps its data, config and decks (DRILL_HOME overrides all)."""
    from drill.home.paths import builtin_decks_dir, env_deck_dirs, get_paths

    p = get_paths()
    rows = [
        ("data", p.data_dir),
        ("database", p.database),
        ("config", p.config_file),
        ("user decks", p.user_decks),
        ("backups", p.backups),
        ("built-in decks", builtin_decks_dir()),
    ]
    rows += [("DRILL_DECKS", d) for d in env_deck_dirs()]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        typer.echo(f"{name:<{width}}  {value}")
