"""Safe, bounded YAML reading: a deck file becomes a tree of nodes that know their position.

Decks are plain data, so the reader refuses everything plain data does not need: files
too large to be a deck, binary or non-UTF-8 bytes, anchors and aliases (the "billion
laughs" expansion lives there), tags outside YAML's core types (`!!python/...` above all),
and very deep nesting. No YAML tag is ever turned into an object, so a deck cannot run code.

The tree is composed here from parser events, iteratively, instead of by PyYAML's
recursive composer: depth and size stay bounded and every refusal has a line and column.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from drill.decks.limits import MAX_DECK_BYTES
from drill.errors import DeckError

MAX_DEPTH = 32
MAX_NODES = 300_000  # about 25,000 cards: far above any real deck, and ~50 MB at most
_CHUNK = 64 * 1024
_MAX_NUMBER_CHARS = 100  # longer numerals are refused: int() on them is slow, and no param needs it

# The C parser when PyYAML was built with libyaml; the pure-Python one otherwise.
LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"
NULL, BOOL, INT, FLOAT, STR = (_CORE + name for name in ("null", "bool", "int", "float", "str"))
SEQ, MAP = _CORE + "seq", _CORE + "map"
# timestamp: an unquoted date in a text field is still text; merge/value: plain `<<` and `=`
# resolve to these, and are then reported as unknown keys like any other.
_SCALAR_TAGS = {NULL, BOOL, INT, FLOAT, STR} | {_CORE + t for t in ("timestamp", "merge", "value")}

# Characters YAML accepts in a stream; anything else is a control character.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_NO_ALIASES = "YAML anchors and aliases (&name, *name) are not allowed in decks; write values out"


class Kind(StrEnum):
    SCALAR = "plain value"
    SEQUENCE = "list"
    MAPPING = "mapping"


@dataclass(frozen=True, slots=True)
class Node:
    """One YAML value with its 1-based position. Scalars keep the text exactly as written."""

    kind: Kind
    tag: str
    line: int
    column: int
    value: str = ""
    items: tuple[Node, ...] = ()
    pairs: tuple[tuple[Node, Node], ...] = ()

    @property
    def is_null(self) -> bool:
        return self.kind is Kind.SCALAR and self.tag == NULL


def read_tree(path: Path, max_bytes: int = MAX_DECK_BYTES) -> Node | None:
    """The YAML tree of the file at `path`, or None for an empty document. Raises DeckError."""
    text = read_text(path, max_bytes)
    return compose(text, path)


def read_text(path: Path, max_bytes: int = MAX_DECK_BYTES) -> str:
    """The file's text, refusing oversized, binary, non-UTF-8 and control-character content."""
    data = _read_bytes(path, max_bytes)
    if data.startswith(_UTF16_BOMS):
        raise DeckError("file is UTF-16; save it as UTF-8", str(path), 1, 1)
    if b"\x00" in data:
        line, column = _byte_position(data, data.index(b"\x00"))
        raise DeckError("binary file (NUL byte), not a YAML deck", str(path), line, column)
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _byte_position(data, error.start)
        byte = data[error.start]
        message = f"invalid UTF-8 byte 0x{byte:02x}; save the file as UTF-8"
        raise DeckError(message, str(path), line, column) from None
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = _char_position(text, bad.start())
        message = f"control character U+{ord(bad.group()):04X} is not allowed in YAML"
        raise DeckError(message, str(path), line, column)
    return text


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(path, size, max_bytes)
        with path.open("rb") as handle:
            data = _read_at_most(handle, max_bytes + 1)
    except OSError as error:
        raise DeckError(f"cannot read: {error.strerror or error}", str(path)) from None
    if len(data) > max_bytes:
        raise _too_large(path, len(data), max_bytes)
    return data


def _read_at_most(handle: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes, in chunks: the file may have grown since stat, or be a pipe,
    and one read(limit) would allocate the whole limit even for a small file."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = handle.read(min(_CHUNK, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _too_large(path: Path, size: int, max_bytes: int) -> DeckError:
    message = f"file is {_size(size)}, above the {_size(max_bytes)} limit for deck files"
    return DeckError(message, str(path))


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _char_position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def compose(text: str, path: Path | str) -> Node | None:
    """Build the node tree of a one-document YAML text (None when the document is empty)."""
    try:
        loader = LOADER(text)
    except yaml.YAMLError as error:
        raise _syntax_error(error, text, path) from None
    try:
        return _Composer(loader, str(path)).run()
    except yaml.YAMLError as error:
        raise _syntax_error(error, text, path) from None
    finally:
        loader.dispose()


@dataclass
class _Open:
    """A sequence or mapping whose end event has not come yet."""

    kind: Kind
    tag: str
    line: int
    column: int
    children: list[Node]


class _Composer:
    def __init__(self, loader: Any, path: str) -> None:
        self.loader = loader
        self.path = path
        self.stack: list[_Open] = []
        self.root: Node | None = None
        self.nodes = 0
        self.documents = 0

    def run(self) -> Node | None:
        while self.loader.check_event():
            self._handle(self.loader.get_event())
        return self.root

    def _handle(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self._fail(event, "a deck file holds one YAML document; remove the second '---'")
        elif isinstance(event, yaml.AliasEvent):
            self._fail(event, _NO_ALIASES)
        elif isinstance(event, yaml.ScalarEvent):
            self._add(self._scalar(event))
        elif isinstance(event, yaml.CollectionStartEvent):
            self._open(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            self._close()

    def _scalar(self, event: yaml.ScalarEvent) -> Node:
        self._check_anchor(event)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(ScalarNode, event.value, event.implicit)
        self._check_tag(event, tag, _SCALAR_TAGS)
        line, column = _mark(event)
        return Node(Kind.SCALAR, tag, line, column, value=event.value)

    def _open(self, event: yaml.CollectionStartEvent) -> None:
        self._check_anchor(event)
        is_map = isinstance(event, yaml.MappingStartEvent)
        kind, node_class, default = (
            (Kind.MAPPING, MappingNode, MAP) if is_map else (Kind.SEQUENCE, SequenceNode, SEQ)
        )
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(node_class, None, event.implicit)
        self._check_tag(event, tag, {default})
        if len(self.stack) >= MAX_DEPTH:
            self._fail(event, f"nested more than {MAX_DEPTH} levels deep")
        self.stack.append(_Open(kind, tag, *_mark(event), children=[]))

    def _close(self) -> None:
        done = self.stack.pop()
        if done.kind is Kind.MAPPING:
            # Keys and values arrive as alternating events.
            pairs = tuple(zip(done.children[::2], done.children[1::2], strict=True))
            node = Node(done.kind, done.tag, done.line, done.column, pairs=pairs)
        else:
            node = Node(done.kind, done.tag, done.line, done.column, items=tuple(done.children))
        self._add(node)

    def _add(self, node: Node) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise DeckError(f"more than {MAX_NODES} YAML values", self.path, node.line, node.column)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node

    def _check_anchor(self, event: yaml.NodeEvent) -> None:
        if event.anchor is not None:
            self._fail(event, _NO_ALIASES)

    def _check_tag(self, event: yaml.NodeEvent, tag: str, allowed: set[str]) -> None:
        if tag not in allowed:
            shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
            self._fail(event, f"YAML tag {shown!r} is not allowed in decks (plain values only)")

    def _fail(self, event: yaml.Event, message: str) -> None:
        raise DeckError(message, self.path, *_mark(event))


def _mark(event: yaml.Event) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _syntax_error(error: yaml.YAMLError, text: str, path: Path | str) -> DeckError:
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        reason = getattr(error, "reason", None) or str(error)
        return DeckError(f"invalid YAML: {reason}", str(path))
    lines = text.split("\n")
    line_text = lines[mark.line] if mark.line < len(lines) else ""
    indent = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
    if "\t" in indent:
        message = "tab used for indentation; YAML indents with spaces only"
        return DeckError(message, str(path), mark.line + 1, indent.index("\t") + 1)
    problem = getattr(error, "problem", None) or "syntax error"
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None and context_mark.line != mark.line:
        context += f" started at line {context_mark.line + 1}"
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return DeckError(message, str(path), mark.line + 1, mark.column + 1)


def to_python(node: Node) -> Any:
    """The plain Python value of a node: dicts, lists, str, int, float, bool or None."""
    if node.kind is Kind.MAPPING:
        if any(key.kind is not Kind.SCALAR for key, _ in node.pairs):
            raise ValueError("mapping keys must be plain text")
        return {scalar_value(key): to_python(value) for key, value in node.pairs}
    if node.kind is Kind.SEQUENCE:
        return [to_python(item) for item in node.items]
    return scalar_value(node)


def scalar_value(node: Node) -> Any:
    """A scalar's typed value. Raises ValueError for a malformed explicitly-tagged scalar."""
    construct = _CONSTRUCTORS.get(node.tag)
    if construct is None:
        return node.value  # str, and dates that are only ever used as text
    if node.tag in (INT, FLOAT) and len(node.value) > _MAX_NUMBER_CHARS:
        raise ValueError(f"number longer than {_MAX_NUMBER_CHARS} characters")
    yaml_node = ScalarNode(node.tag, node.value)
    try:
        return construct(_SAFE, yaml_node)
    except (ValueError, KeyError, yaml.YAMLError):
        raise ValueError(f"{node.value!r} is not a valid {node.tag.removeprefix(_CORE)}") from None


_SAFE = SafeConstructor()
_CONSTRUCTORS = {
    NULL: SafeConstructor.construct_yaml_null,
    BOOL: SafeConstructor.construct_yaml_bool,
    INT: SafeConstructor.construct_yaml_int,
    FLOAT: SafeConstructor.construct_yaml_float,
}
