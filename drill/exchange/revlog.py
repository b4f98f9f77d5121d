"""The review history for other tools: the FSRS optimizers' revlog CSV, or JSON lines.

The CSV follows the review-log schema of the FSRS optimizer tools:

    card_id,review_time,review_rating,review_state,review_duration

with `review_time` in epoch milliseconds (UTC), `review_state` the card's state when it
was reviewed (0 new, 1 learning, 2 review, 3 relearning; drill numbers states the same
way), and `review_duration` in milliseconds (empty when unknown). Undone reviews are left
out: they did not happen as far as scheduling goes. `card_id` is a number derived from the
card key, so it stays the same from one export to the next; reviews logged under a card's
old id (see `was:` in decks) count for the card as it is named now.

JSON lines keep everything, undone reviews included (flagged), one review per line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drill.review.store import Review

REVLOG_COLUMNS = ("card_id", "review_time", "review_rating", "review_state", "review_duration")


class LogFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


def card_number(key: str) -> int:
    """A stable positive integer for a card key (48 bits: exact in doubles and JavaScript)."""
    import hashlib  # here: the log's format choices are needed by `drill --help`

    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:6], "big")


def revlog_csv(
    reviews: Iterable[Review], renames: Mapping[str, str] | None = None
) -> tuple[str, int]:
    """The CSV text and the number of reviews in it."""
    from drill.review.store import to_ms  # the store loads only when a log is exported

    renames = renames or {}
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REVLOG_COLUMNS)
    count = 0
    for review in reviews:
        if review.undone:
            continue
        count += 1
        writer.writerow(
            [
                card_number(renames.get(review.key, review.key)),
                to_ms(review.reviewed_at),
                int(review.rating),
                int(review.state_before),
                "" if review.duration_ms is None else review.duration_ms,
            ]
        )
    return buffer.getvalue(), count


def reviews_jsonl(
    reviews: Iterable[Review], renames: Mapping[str, str] | None = None
) -> tuple[str, int]:
    """One JSON object per line, and the number of lines."""
    renames = renames or {}
    lines = []
    for review in reviews:
        record = review.to_dict()
        record["card_id"] = card_number(renames.get(review.key, review.key))
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines), len(lines)


def render_log(
    reviews: Iterable[Review], fmt: LogFormat, renames: Mapping[str, str] | None = None
) -> tuple[str, int]:
    """The log in `fmt`, and how many reviews it holds."""
    if fmt is LogFormat.CSV:
        return revlog_csv(reviews, renames)
    return reviews_jsonl(reviews, renames)
