"""Decks: YAML files become Deck and Card values.

- `reader`     safe, bounded YAML reading into nodes that know their file:line:column
- `check`      a file's node tree becomes a Deck; every problem an error with its place
- `limits`     size, depth and count limits shared by the reader and the loader
- `cache`      parsed decks kept on disk, so an unchanged file is not parsed again
- `shipped`    the built-in decks as the wheel ships them, parsed (read by the loader)
- `prebuilt`   makes that table at build time, checking every built-in deck
- `loader`     where decks come from (built-in, user folder, DRILL_DECKS, --decks) and
               the Collection every command reads
- `selection`  choosing cards by deck id, prefix and tag
- `index`      the study index: the chosen decks' keys, for counting and queueing in SQL

May import: `exercises` (to check a compute card's generator and params), `home`,
`model`, `errors`.
Must not import: `review` (decks know nothing of schedules), `exchange`, `cli`, `ui`,
rich or typer. A deck is never written by a review.
"""
