"""Limits on deck files, shared by the YAML reader and the loader.

A module of its own, importing nothing, so that loading decks from the parse cache
(drill.decks.cache) can know the limit without loading the YAML reader.
"""

MAX_DECK_BYTES = 5 * 1024 * 1024
"""Deck files above this size are refused before they are read (the config may lower it)."""
