"""Reading Anki-style text files: `#key:value` header lines, then one note per record.

The headers Anki writes and reads are honoured: `#separator` (a name such as Comma or Tab,
or the character itself), `#html`, `#tags` (tags for every note), `#deck`, and the meta
columns `#tags column`, `#deck column`, `#guid column` and `#notetype column` (1-based).
The remaining columns are the note's fields in order: front, back. Without a
`#tags column` header, a third field holds the tags, as in Anki's own importer.
Without `#separator`, .tsv means tab and .csv comma; otherwise the first data line decides.
A first record that names the columns (`Front,Back`, `Question,Answer,Tags`) is a header,
not a note: detected, or as the caller says (`drill import --header/--no-header`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

_SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "space": " ", "pipe": "|", "colon": ":"}
_META_COLUMNS = ("tags column", "deck column", "guid column", "notetype column")
# What spreadsheets and other tools call the columns; a first record of these is a header.
_FRONT_NAMES = {"front", "question", "term", "prompt", "side 1", "text"}
_BACK_NAMES = {"back", "answer", "definition", "response", "side 2", "back extra"}
_TAGS_NAMES = {"tags", "tag", "labels"}
_CLOZE = re.compile(r"\{\{c\d+::")  # Anki's cloze deletion: its Back Extra may be empty


class RowError(ValueError):
    """A record that cannot be a note; `line` and `row` say where (both 1-based)."""

    def __init__(self, message: str, line: int, row: int | None = None) -> None:
        self.message = message
        self.line = line
        self.row = row
        where = f"line {line}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Row:
    line: int  # where the record starts in the file
    number: int  # its place among the records
    front: str
    back: str
    tags: tuple[str, ...] = ()


@dataclass
class AnkiText:
    rows: list[Row] = field(default_factory=list)
    html: bool = False
    tags: tuple[str, ...] = ()  # from `#tags:`, for every note
    deck: str | None = None  # from `#deck:`
    separator: str = ","
    header: tuple[str, ...] | None = None  # the column names, if the first record held them


@dataclass
class _Headers:
    values: dict[str, str] = field(default_factory=dict)
    count: int = 0  # how many lines they take


def parse_anki_text(text: str, suffix: str = "", header: bool | None = None) -> AnkiText:
    """The notes of an Anki-style text file. Raises RowError at the first bad record.

    `header`: whether the first record names the columns; None: it does if it reads so.
    """
    lines = text.splitlines(keepends=True)
    headers = _read_headers(lines)
    separator = _separator(headers, lines[headers.count :], suffix)
    html = headers.values.get("html", "").strip().lower() == "true"
    result = AnkiText(
        html=html,
        tags=tuple(headers.values.get("tags", "").split()),
        deck=headers.values.get("deck", "").strip() or None,
        separator=separator,
    )
    meta = _meta_columns(headers)
    tags_column = meta.get("tags column")
    records = list(_records(lines, headers.count, separator))
    if records:
        fields = [
            value for column, value in enumerate(records[0][2], 1) if column not in meta.values()
        ]
        # Detected only with notes after it: a file of one `front,back` row is that card.
        if header if header is not None else len(records) > 1 and names_columns(fields):
            result.header = tuple(fields)
            records.pop(0)
    for line, number, record in records:
        result.rows.append(_row(record, line, number, set(meta.values()), tags_column))
    return result


def names_columns(fields: list[str]) -> bool:
    """Whether a record reads as column names: a front's name, a back's, maybe tags."""
    names = [field.strip().lower() for field in fields]
    if len(names) not in (2, 3) or names[0] not in _FRONT_NAMES or names[1] not in _BACK_NAMES:
        return False
    return len(names) == 2 or names[2] in _TAGS_NAMES


def _read_headers(lines: list[str]) -> _Headers:
    headers = _Headers()
    for index, line in enumerate(lines):
        if index == 0 and line.startswith("tags:"):  # Anki's older form of `#tags:`
            headers.values["tags"] = line.removeprefix("tags:")
        elif line.startswith("#"):
            key, colon, value = line[1:].partition(":")
            if colon:
                headers.values[key.strip().lower()] = value.rstrip("\r\n")
        else:
            break
        headers.count = index + 1
    return headers


def _separator(headers: _Headers, body: list[str], suffix: str) -> str:
    named = headers.values.get("separator")
    if named is not None:
        value = named.strip().lower()
        if value in _SEPARATORS:
            return _SEPARATORS[value]
        if len(named) == 1:
            return named
        raise RowError(f"unknown #separator {named!r}", headers.count)
    if suffix.lower() == ".tsv":
        return "\t"
    if suffix.lower() == ".csv":
        return ","
    first = next((line for line in body if line.strip()), "")
    return next((sep for sep in ("\t", ",", ";", "|") if sep in first), "\t")


def _meta_columns(headers: _Headers) -> dict[str, int]:
    columns = {}
    for name in _META_COLUMNS:
        raw = headers.values.get(name)
        if raw is None:
            continue
        try:
            number = int(raw.strip())
        except ValueError:
            raise RowError(f"#{name} must be a column number, not {raw!r}", headers.count) from None
        if number < 1:
            raise RowError(f"#{name} must be 1 or more, not {number}", headers.count)
        columns[name] = number
    return columns


def _records(lines: list[str], start: int, separator: str):
    """(line, record number, fields) for each record; blank lines and `#` comments skipped."""
    reader = csv.reader(iter(lines[start:]), delimiter=separator, strict=True)
    consumed = 0
    number = 0
    while True:
        line = start + consumed + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RowError(f"cannot read the record ({error})", line, number + 1) from None
        first_line = lines[start + consumed]
        consumed = reader.line_num
        if not record or first_line.startswith("#") or not any(f.strip() for f in record):
            continue
        number += 1
        yield line, number, record


def _row(record: list[str], line: int, number: int, meta: set[int], tags_column: int | None) -> Row:
    fields = [value for column, value in enumerate(record, 1) if column not in meta]
    tags: list[str] = []
    if tags_column is not None and tags_column <= len(record):
        tags = record[tags_column - 1].split()
    elif tags_column is None and len(fields) == 3:
        tags = fields.pop().split()
    if len(fields) != 2:
        expected = "front and back" if tags_column else "front, back and optional tags"
        raise RowError(f"expected {expected}, found {_count(len(fields))}", line, number)
    front, back = fields
    if not front.strip():
        raise RowError("the front is empty", line, number)
    if not back.strip() and not _CLOZE.search(front):  # a cloze note's back is optional
        raise RowError("the back is empty", line, number)
    return Row(line, number, front, back, tuple(tags))


def _count(n: int) -> str:
    return f"{n} field{'s' if n != 1 else ''}"


def read_anki_text(path: Path) -> AnkiText:
    """Parse the file at `path` (UTF-8, with or without a byte-order mark)."""
    text = path.read_bytes().decode("utf-8-sig")
    return parse_anki_text(text, path.suffix)
