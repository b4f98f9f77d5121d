"""Command-line interface. Each module registers its commands on the shared app."""

from __future__ import annotations

from drill.cli import (  # noqa: F401  (each module registers its commands)
    config_cmd,
    decks_cmd,
    export_cmd,
    gen_cmd,
    maintenance_cmd,
    paths_cmd,
    stats_cmd,
    study_cmd,
)
from drill.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
