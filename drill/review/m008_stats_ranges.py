"""Migration m008: the retention copy keyed for counting.

True retention (drill.review.stats) counts reviews of cards in the review state by window,
young or mature, passed or failed, each card's first review of a study day only. Keyed by
(young, rating, reviewed_at), each of those figures is the size of a few ranges of
`review_retention`, which SQLite counts without reading or testing a row; `young` is
stored, worked out once as the row is written. A card reviewed again within its study day
is rare: the partial index `review_retention_repeats` holds only the reviews that came
within REPEAT_MS of the card's previous one, so the repeats of any window, which do not
count, are read from it alone and taken away. The table is derived from the log (see m003
and m004), so rebuilding it loses nothing.
"""

from __future__ import annotations

import sqlite3

# Fixed by this migration: the trigger and the stored rows use them as written here.
YOUNG_MS = 21 * 86_400_000  # an interval under 21 days is young (Anki's threshold)
# A study day lasts 23 to 25 hours (24, give or take a daylight-saving shift): a review
# later than this after the card's previous one cannot repeat it within one study day.
REPEAT_MS = 26 * 3_600_000
# The rows of the partial index of quick repeats. SQLite reads a partial index only for a
# query that states this same test.
REPEAT_TEST = f"reviewed_at - last_review < {REPEAT_MS}"

_COLUMNS = "young, rating, reviewed_at, review_id, key, last_review, due"


def m008_stats_ranges(db: sqlite3.Connection) -> None:
    """Rebuild review_retention keyed by (young, rating, reviewed_at, review_id), with a
    stored `young`, and index the reviews that may repeat a card within a study day."""
    db.execute("DROP TRIGGER review_retention_fill")
    db.execute(
        """CREATE TABLE review_retention_by_outcome (
            young INTEGER NOT NULL,
            rating INTEGER NOT NULL,
            reviewed_at INTEGER NOT NULL,
            review_id INTEGER NOT NULL REFERENCES review_log (id),
            key TEXT NOT NULL,
            last_review INTEGER,
            due INTEGER,
            PRIMARY KEY (young, rating, reviewed_at, review_id)
        ) WITHOUT ROWID"""
    )
    # A review whose previous interval is unknown counts as young: it cannot have been long.
    db.execute(
        f"INSERT INTO review_retention_by_outcome ({_COLUMNS})"
        f" SELECT coalesce(due - last_review < {YOUNG_MS}, 1), rating, reviewed_at, review_id,"
        " key, last_review, due FROM review_retention ORDER BY 1, 2, 3, 4"
    )
    db.execute("DROP TABLE review_retention")
    db.execute("ALTER TABLE review_retention_by_outcome RENAME TO review_retention")
    db.execute(
        "CREATE INDEX review_retention_repeats ON review_retention (reviewed_at, last_review, key)"
        f" WHERE {REPEAT_TEST}"
    )
    last_review = "json_extract(NEW.previous, '$.last_review')"
    due = "json_extract(NEW.previous, '$.due')"
    db.execute(
        "CREATE TRIGGER review_retention_fill AFTER INSERT ON review_log"
        f" WHEN NEW.state_before = 2 BEGIN INSERT INTO review_retention ({_COLUMNS})"
        f" VALUES (coalesce({due} - {last_review} < {YOUNG_MS}, 1), NEW.rating,"
        f" NEW.reviewed_at, NEW.id, NEW.key, {last_review}, {due}); END"
    )
