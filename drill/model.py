"""The values drill works with: cards, decks, and the closed sets that describe them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any


class CardType(StrEnum):
    BASIC = "basic"
    COMPUTE = "compute"
    CLOZE = "cloze"  # `text` with {{c1::…}} deletions; one scheduled card per number
    CHOICE = "choice"  # `q`, `choices` and the right `answers` among them
    CODE = "code"  # `exercise` (kept in Card.generator) and params: implement it in NumPy


class Rating(IntEnum):
    """The four grades of a review, numbered as in Anki and FSRS."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class CardState(IntEnum):
    """Learning state of a card. NEW has no FSRS counterpart: the card was never reviewed."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class Card:
    deck_id: str
    id: str
    q: str = ""
    a: str = ""
    type: CardType = CardType.BASIC
    tags: tuple[str, ...] = ()
    ref: str | None = None
    generator: str | None = None  # compute: its generator; code: its code exercise
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)
    was: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)
    # Card types of issue 18 (drill.decks.scheduled makes the scheduled cards of each).
    text: str = ""  # cloze: the text holding the deletions
    choices: tuple[str, ...] = ()  # choice: every choice, as written
    answers: tuple[str, ...] = ()  # choice: the right one(s)
    multiple: bool = False  # choice: several answers are right
    type_answer: str | None = None  # basic: the short answer to type, compared by drill
    accept: tuple[str, ...] = ()  # basic: other answers counted as right when typed
    reverse: bool = False  # basic: also ask answer -> question, as a sibling card
    variant: str = ""  # which scheduled card of the written one: "c1", "reverse"; "" itself

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _frozen_mapping(self.params))

    @cached_property  # looked up for every card whenever due cards are counted
    def key(self) -> str:
        """The card's stable identity: `<deck id>/<card id>`, and `#<variant>` for one of
        the cards a written card schedules (`deck/card#c1`, `deck/card#reverse`)."""
        return f"{self.deck_id}/{self.id}#{self.variant}" if self.variant else self.note_key

    @property
    def note_key(self) -> str:
        """The key of the written card: what sibling cards (variants) share."""
        return f"{self.deck_id}/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """The card as it is written in a deck file (no deck id, no position)."""
        out: dict[str, Any] = {"id": self.id}
        if self.type in (CardType.COMPUTE, CardType.CODE):
            out["type"] = self.type.value
            out["exercise" if self.type is CardType.CODE else "generator"] = self.generator
            if self.params:
                out["params"] = dict(self.params)
            if self.q:
                out["q"] = self.q
        elif self.type in (CardType.CLOZE, CardType.CHOICE):
            out.update(self._question_dict())
        else:
            out["q"] = self.q
            out["a"] = self.a
            if self.type_answer is not None:
                out["type_answer"] = self.type_answer
            if self.accept:
                out["accept"] = list(self.accept)
            if self.reverse:
                out["reverse"] = True
        if self.tags:
            out["tags"] = list(self.tags)
        if self.ref:
            out["ref"] = self.ref
        if self.was:
            out["was"] = list(self.was)
        return out

    def _question_dict(self) -> dict[str, Any]:
        """The fields of a cloze or choice card, in the order a deck file gives them."""
        out: dict[str, Any] = {"type": self.type.value}
        if self.type is CardType.CLOZE:
            out["text"] = self.text
        else:
            out["q"] = self.q
            out["choices"] = list(self.choices)
            out["answer"] = list(self.answers) if self.multiple else self.answers[0]
            if self.multiple:
                out["multiple"] = True
        if self.a:
            out["a"] = self.a  # cloze: extra shown with the answer; choice: the explanation
        return out

    @classmethod
    def from_dict(cls, deck_id: str, data: Mapping[str, Any]) -> Card:
        answer = data.get("answer", ())
        return cls(
            deck_id=deck_id,
            id=data["id"],
            q=data.get("q", ""),
            a=data.get("a", ""),
            type=CardType(data.get("type", "basic")),
            tags=tuple(data.get("tags", ())),
            ref=data.get("ref"),
            generator=data.get("generator") or data.get("exercise"),  # a code card's exercise
            params=data.get("params") or {},
            was=tuple(data.get("was", ())),
            text=data.get("text", ""),
            choices=tuple(data.get("choices", ())),
            answers=(answer,) if isinstance(answer, str) else tuple(answer),
            multiple=bool(data.get("multiple", False)),
            type_answer=data.get("type_answer"),
            accept=tuple(data.get("accept", ())),
            reverse=bool(data.get("reverse", False)),
        )


@dataclass(frozen=True)
class Deck:
    id: str
    title: str
    cards: tuple[Card, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def card(self, card_id: str) -> Card | None:
        for card in self.cards:
            if card.id == card_id:
                return card
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title}
        if self.description:
            out["description"] = self.description
        if self.tags:
            out["tags"] = list(self.tags)
        out["cards"] = [card.to_dict() for card in self.cards]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path | None = None) -> Deck:
        deck_id = data["id"]
        return cls(
            id=deck_id,
            title=data.get("title", deck_id),
            description=data.get("description", ""),
            tags=tuple(data.get("tags", ())),
            cards=tuple(Card.from_dict(deck_id, c) for c in data["cards"]),
            path=path,
        )
