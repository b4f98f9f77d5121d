"""Review: the memory of what was studied, and what to study next.

- `dbfile`     what makes a file a drill database; one-line errors for files that are not
- `store`      the SQLite store: card state, the append-only review log, named migrations
- `backup`     copies of the database (daily, before migrations, by hand) and rotation
- `restore`    putting a backup back, after checking it in full
- `scheduler`  FSRS through the `fsrs` package (imported on first use)
- `queue`      the study day and rollover
- `due`        due counts and the queue, in SQL over card state and the chosen keys
- `session`    the review loop as pure logic: next card, grades, answers, undo
- `stats`      the figures behind `drill stats`
- `planning`   toward a date: predicted recall on it, readiness, the plan, the pace
- `custom`     custom study: review ahead, cram, failed cards
- `optimizer`  your own FSRS parameters (fsrs-rs): fit, compare, simulate, reschedule

May import: `home` (paths, config), `model`, `errors`; the `fsrs` and `fsrs_rs_python`
packages (imported on first use).
Must not import: `decks`, `exercises`, `exchange`, `cli`, `ui`, rich or typer. Cards
come in as `model.Card` values; the database is reached only through `store.Store`.
"""
