"""Markdown that earlier exports rendered, kept in the home: each text goes through
markdown-it once per home, not once per export.

markdown-it takes about half a second, every time, for the ~1,300 Markdown texts of the
built-in decks (answers with lists, code and emphasis); the rest of an export's text is
plain paragraphs, which drill.exchange.html renders itself for less than a lookup costs.
So the HTML markdown-it gave each source is kept in `export-html.json` in the data folder,
for one renderer: markdown-it-py's and mdurl's versions and the CRC-32 of
drill/exchange/html.py, which configures it. A file of another renderer is ignored and
replaced; one that cannot be read or written is no error: the export renders as before.

The file holds what the last exports used: the renderings of this export are added to
those kept, and when they would pass MAX_ENTRIES only this export's are kept.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from zlib import crc32

from drill.errors import DrillError

FILE_NAME = "export-html.json"
MAX_ENTRIES = 20_000  # some 10 MiB of HTML; the built-in decks need ~1,300
MAX_BYTES = 64 * 1024 * 1024
KINDS = ("block", "inline")  # a paragraph-level rendering, or one line's (a choice)

Render = Callable[[str], str]


class Renderings:
    """HTML by Markdown source for each kind, as read from the file, and the sources
    this export asked for."""

    def __init__(self, path: Path | None, renderer: str, kept: dict[str, dict[str, str]]):
        self.path = path
        self.renderer = renderer
        self.kept = kept
        self.used: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self.added = 0

    def html(self, kind: str, source: str, render: Render) -> str:
        """The HTML of `source`: as kept, or rendered now (and kept from now on)."""
        used = self.used[kind]
        html = used.get(source)
        if html is None:
            html = self.kept[kind].get(source)
            if html is None:
                html = render(source)
                self.added += 1
            used[source] = html
        return html

    def save(self) -> None:
        """Write the file when this export rendered something new."""
        if not self.added or self.path is None:
            return
        merged = {kind: {**self.kept[kind], **self.used[kind]} for kind in KINDS}
        if sum(map(len, merged.values())) > MAX_ENTRIES:
            merged = self.used
        text = json.dumps({"renderer": self.renderer, **merged}, ensure_ascii=False)
        from drill.home.fileio import atomic_write

        with contextlib.suppress(OSError, DrillError):  # CannotWrite: kept for next time
            atomic_write(self.path, text, force=True)


_active: Renderings | None = None


@contextlib.contextmanager
def kept_renderings(renderer: str | None = None, path: Path | None = None) -> Iterator[None]:
    """Inside, `rendered` reads and adds to the home's file (or `path`), written back at
    the end of an export that succeeds. `renderer` is `renderer_id()` unless given."""
    global _active
    if path is None:
        from drill.home.paths import get_paths

        folder = get_paths().data_dir
        path = folder / FILE_NAME if folder.is_dir() else None  # no home made for this
    renderer = renderer if renderer is not None else renderer_id()
    previous, _active = _active, _read(path, renderer)
    try:
        yield
        _active.save()
    finally:
        _active = previous


def rendered(kind: str, source: str, render: Render) -> str:
    """`render(source)`, or the HTML kept for it inside `kept_renderings`."""
    if _active is None:
        return render(source)
    return _active.html(kind, source, render)


def renderer_id() -> str:
    """What the HTML of a source depends on besides the source itself."""
    try:
        config = crc32((Path(__file__).parent / "html.py").read_bytes())
    except OSError:
        return ""  # nothing to tell renderers apart by: keep nothing
    markdown_it, mdurl = package_version("markdown_it"), package_version("mdurl")
    return f"markdown-it-py {markdown_it}, mdurl {mdurl}, html {config:08x}"


_VERSION_LINE = re.compile(r"""^__version__ = ["']([^"']+)["']""", re.MULTILINE)


def package_version(name: str) -> str:
    """The `__version__` of package `name`, read from its `__init__.py` when it is written
    there: importing markdown-it only to ask would cost an export whose Markdown is all
    kept some 30 ms. Else (or if it cannot be read), the package is imported and asked."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is not None and spec.origin is not None:
        with contextlib.suppress(OSError, ValueError):
            match = _VERSION_LINE.search(Path(spec.origin).read_text(encoding="utf-8"))
            if match:
                return match.group(1)
    import importlib

    return str(importlib.import_module(name).__version__)


def _read(path: Path | None, renderer: str) -> Renderings:
    empty: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
    if path is None or not renderer:
        return Renderings(None, renderer, empty)
    from drill.home.fileio import read_limited

    try:
        data = json.loads(read_limited(path, MAX_BYTES, "kept export HTML"))
    except (OSError, ValueError, DrillError):  # missing, unreadable, damaged, too large
        return Renderings(path, renderer, empty)
    if not isinstance(data, dict) or data.get("renderer") != renderer:
        return Renderings(path, renderer, empty)
    kept: dict[str, dict[str, str]] = {}
    for kind in KINDS:
        table = data.get(kind)
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            return Renderings(path, renderer, empty)
        kept[kind] = table
    return Renderings(path, renderer, kept)
