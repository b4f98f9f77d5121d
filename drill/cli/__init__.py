"""Command-line interface. Each module registers its commands on the shared app."""

from __future__ import annotations

from drill.cli import paths_cmd  # noqa: F401  (registers commands)
from drill.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
