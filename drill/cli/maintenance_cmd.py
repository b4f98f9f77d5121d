"""`drill backup`, `drill restore` and `drill doctor`: keeping the review history safe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drill.cli.app import app
from drill.cli.common import DecksOption

_LABELS = {0: "ok", 1: "note", 2: "warning", 3: "error"}


@app.command("backup")
def backup_command(
    list_: Annotated[
        bool, typer.Option("--list", "-l", help="List the backups instead of making one.")
    ] = False,
) -> None:
    """Copy the database into the backups folder now (the newest 7 copies are kept)."""
    from drill.errors import StoreError
    from drill.home.paths import get_paths
    from drill.review import backup
    from drill.review.store import Store

    paths = get_paths()
    if list_:
        _list_backups(backup.list_backups(paths.backups), paths.backups)
        return
    if not paths.database.exists():
        raise StoreError(f"{paths.database} does not exist yet: there is nothing to back up")
    with Store(paths.database) as store:
        made = backup.make_backup(store.db, paths.backups, backup.Reason.MANUAL)
    typer.echo(f"Backed up {paths.database} to {made.path}")


def _list_backups(copies: list, folder: Path) -> None:
    if not copies:
        typer.echo(f"No backups in {folder}.")
        return
    for copy in reversed(copies):
        local = copy.made_at.astimezone()
        typer.echo(f"{local:%Y-%m-%d %H:%M}  {copy.reason:<16}  {copy.path.name}")
    typer.echo(f"Restore one with: drill restore NAME   (folder: {folder})")


@app.command()
def restore(
    file: Annotated[
        Path,
        typer.Argument(
            help="A drill database to restore: a path, or the name of a file in the backups "
            "folder (see drill backup --list).",
            show_default=False,
        ),
    ],
) -> None:
    """Replace the database with a backup; the current one is backed up first."""
    from drill.home.paths import get_paths
    from drill.review import backup
    from drill.review.restore import restore as restore_backup

    paths = get_paths()
    source = backup.find_backup(file, paths.backups)
    restored = restore_backup(source, paths.database)
    if restored.safety_copy:
        typer.echo(f"Saved the database as it was to {restored.safety_copy.path}")
    if restored.moved_aside:
        typer.echo(f"Moved the unusable database aside to {restored.moved_aside}")
    typer.echo(f"Restored {source} into {paths.database}")


@app.command()
def doctor(extra: DecksOption = None) -> None:
    """Check the database, decks, config and backups; say what to do. Exit 1 if action is needed."""
    from drill.decks.loader import load_collection
    from drill.doctor import needs_user, run_checks
    from drill.home.paths import get_paths

    paths = get_paths()
    collection = load_collection(extra or (), max_bytes=_deck_size_limit())
    findings = run_checks(paths.database, collection, paths.config_file, paths.backups)
    width = max(len(finding.area) for finding in findings)
    for finding in findings:
        label = _LABELS[int(finding.severity)]
        typer.echo(f"{label:<7}  {finding.area:<{width}}  {finding.message}")
        if finding.advice:
            typer.echo(f"{'':<7}  {'':<{width}}  -> {finding.advice}")
    if needs_user(findings):
        raise typer.Exit(1)


def _deck_size_limit() -> int:
    """The configured limit; the default when the config is broken (doctor reports that)."""
    from drill.decks.loader import MAX_DECK_BYTES
    from drill.errors import ConfigError
    from drill.home.config import load_config

    try:
        return load_config().max_deck_bytes
    except ConfigError:
        return MAX_DECK_BYTES
