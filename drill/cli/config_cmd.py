"""`drill config`: the effective settings and where each came from."""

from __future__ import annotations

import typer

from drill.cli.app import app


@app.command("config")
def config_command(
    path: bool = typer.Option(False, "--path", help="Print only the config file's path."),
) -> None:
    """Show every setting's effective value, its source (default or file) and its meaning."""
    from drill.home.config import describe, load_config, setting_names
    from drill.home.paths import get_paths
    from drill.ui.tables import config_table, toml_value

    config_file = get_paths().config_file
    if path:
        typer.echo(str(config_file))
        return
    config = load_config()
    rows = []
    for name in setting_names():
        value = getattr(config, name)
        shown = toml_value(value)  # as the config file writes it
        rows.append((name, shown, config.sources.get(name, "default"), describe(name)))
    config_table(rows, str(config_file))
