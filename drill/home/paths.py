"""Where drill keeps its files. One place decides; `DRILL_HOME` overrides everything.

With DRILL_HOME set, data, config and user decks all live under it. Otherwise the
platform's conventions apply (XDG on Linux and other Unixes, Application Support on
macOS, %APPDATA% on Windows).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

APP = "drill"


class Paths(NamedTuple):
    """Where drill keeps its data and its configuration. (Value records read at every start
    are NamedTuples: a frozen dataclass costs a start-up ~1 ms to create.)"""

    data_dir: Path
    config_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "drill.db"

    @property
    def user_decks(self) -> Path:
        return self.data_dir / "decks"

    @property
    def backups(self) -> Path:
        return self.data_dir / "backups"


def _platform_dirs() -> tuple[Path, Path]:
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming") / APP
        return base / "data", base / "config"
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support" / APP
        return base, base
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / APP
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / APP
    return data, config


def get_paths() -> Paths:
    """The user's paths, read from the environment each time (tests change it)."""
    override = os.environ.get("DRILL_HOME")
    if override:
        root = Path(override).expanduser()
        return Paths(data_dir=root, config_dir=root)
    data, config = _platform_dirs()
    return Paths(data_dir=data, config_dir=config)


def pin_home() -> None:
    """Resolve a relative DRILL_HOME once, at start-up, against the folder drill was started
    in: every later path means the same place whatever the process does meanwhile."""
    override = os.environ.get("DRILL_HOME")
    if override:
        os.environ["DRILL_HOME"] = os.path.abspath(os.path.expanduser(override))


def builtin_decks_dir() -> Path:
    """The decks shipped with drill: inside the installed wheel, or the source checkout."""
    package = Path(__file__).resolve().parents[1]  # drill/, above this part
    installed = package / "_builtin_decks"
    if installed.is_dir():
        return installed
    return package.parent / "decks"


def env_deck_dirs() -> list[Path]:
    """Extra deck folders named in DRILL_DECKS (os.pathsep-separated)."""
    raw = os.environ.get("DRILL_DECKS", "")
    return [Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip()]
