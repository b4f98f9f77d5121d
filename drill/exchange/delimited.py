"""CSV and TSV in the layout of Anki's text importer.

The `#` header lines tell Anki the separator, that fields hold HTML, and which columns
carry the tags, the deck and the GUID. Columns: front, back, tags, deck, GUID. The front
and back are positional, so they land in the first two fields of whatever note type the
user picks (Basic in a fresh collection); the GUID is the one the .apkg export uses, so
importing either file updates the same notes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from drill.exchange.apkg import anki_deck_name, anki_guid, anki_tags
from drill.exchange.entries import Entry
from drill.exchange.html import answer_html, question_html, reference_html

SEPARATOR_NAMES = {",": "Comma", "\t": "Tab"}
TAGS_COLUMN, DECK_COLUMN, GUID_COLUMN = 3, 4, 5  # 1-based, as in Anki's headers


def header(separator: str) -> str:
    return (
        f"#separator:{SEPARATOR_NAMES[separator]}\n"
        "#html:true\n"
        f"#tags column:{TAGS_COLUMN}\n"
        f"#deck column:{DECK_COLUMN}\n"
        f"#guid column:{GUID_COLUMN}\n"
    )


def render_delimited(entries: Iterable[Entry], separator: str) -> tuple[str, int]:
    """The whole file as text, and the number of notes in it."""
    buffer = io.StringIO()
    buffer.write(header(separator))
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
    count = 0
    for entry in entries:
        writer.writerow(
            [
                question_html(entry),
                _back(entry),
                " ".join(anki_tags(entry)),
                anki_deck_name(entry.deck),
                anki_guid(entry.key),
            ]
        )
        count += 1
    return buffer.getvalue(), count


def _back(entry: Entry) -> str:
    # A Basic note has no reference field, so the reference closes the back.
    reference = reference_html(entry)
    back = answer_html(entry)
    return f'{back}\n<p class="reference">{reference}</p>' if reference else back
