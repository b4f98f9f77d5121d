"""Home: where drill keeps its files, its settings, and how it writes files.

- `paths`   one function decides every path; DRILL_HOME moves them all
- `config`  the TOML settings file over documented defaults
- `fileio`  atomic writes (temporary file, then rename) and size-bounded reads

May import: `errors`.
Must not import: any other part of drill, rich or typer: every part may use this one.
"""
