"""Exchange: decks and history in other tools' formats, and back.

- `export`     the export entry point: choose a format, write the file atomically
- `entries`    one entry per note: a basic card, or one instance of a compute card
- `apkg`       Anki packages through genanki
- `delimited`  CSV and TSV in the layout of Anki's text importer
- `markdown`   a study sheet in Markdown
- `jsonfmt`    lossless JSON with the deck files' fields
- `html`       Markdown card text to the HTML of a note's sides
- `rendercache` the HTML markdown-it gave earlier exports, kept in the home
- `revlog`     the review history for FSRS optimizers (CSV or JSON lines)
- `importer`   `drill import`: a JSON export or an Anki-style text file becomes YAML decks
- `ankitext`   reading Anki-style text files (headers, separators, meta columns)
- `htmltext`   Anki's HTML fields back to Markdown

May import: `decks`, `exercises`, `review` (the review log, read only), `home`, `model`,
`errors`; genanki and markdown-it.
Must not import: `cli`, `ui`, rich or typer.
"""
