"""Domain errors. Each is caught once at the CLI edge and printed as one line."""

from __future__ import annotations


class DrillError(Exception):
    """Something the user can fix; its message is shown as `Error: <message>`."""


class DeckError(DrillError):
    """A deck file is invalid."""

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        card: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.card = card
        super().__init__(self.location_message())

    def location_message(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        card = f"card {self.card!r}: " if self.card else ""
        return f"{where}{card}{self.message}"


class UnknownCard(DrillError):
    """No such card."""


class UnknownDeck(DrillError):
    """No such deck."""


class UnknownTag(DrillError):
    """No card has this tag."""


class ConfigError(DrillError):
    """The configuration file is invalid."""


class StoreError(DrillError):
    """The database cannot be used."""
