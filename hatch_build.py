"""Build hook (hatchling): the wheel ships its built-in decks parsed, and checked.

`python -m drill.decks.prebuilt` parses every deck in decks/ with the checker of this
very tree and writes the table drill reads at run time instead of parsing them
(drill/decks/prebuilt.py); a deck with an error fails the build. It runs in a child
process with this tree first on its path, so the build backend never imports drill, and
without writing bytecode into the tree. Editable installs read the checkout's decks and
get no table: they parse, then cache, as a source checkout does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TABLE = "drill/_builtin_decks/parsed-decks.json"  # beside the decks, as the wheel has them


class CustomBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        self._scratch = tempfile.mkdtemp(prefix="drill-build-")
        table = Path(self._scratch) / Path(TABLE).name
        # The child sees this tree first, then the build environment's own path: pip's
        # isolated build puts PyYAML there through sys.path, not through the environment.
        path = os.pathsep.join([self.root, *filter(None, sys.path)])
        env = dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1")
        command = [sys.executable, "-m", "drill.decks.prebuilt", "decks", str(table)]
        try:
            subprocess.run(command, cwd=self.root, env=env, check=True)
        except BaseException:  # a failed build calls no finalize: leave no folder behind
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise
        build_data["force_include"][str(table)] = TABLE

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
