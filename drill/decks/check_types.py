"""Checks of the cloze and choice card types, and of the typed-answer and reverse fields of
basic cards: each problem an error at its file:line:column, as in drill.decks.check.

The DeckChecker calls these with itself; they reach it only through the small protocol
below, so this module and the checker do not import each other.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Protocol

from drill.decks import cloze
from drill.decks.reader import BOOL, Kind, Node, scalar_value
from drill.model import CardType

MAX_CHOICES = 9  # one key each on the study screen
KEYS = ("text", "choices", "answer", "multiple", "type_answer", "accept", "reverse")
# Which card types take each field; a field on another type is an error naming the owner.
_OWNERS: dict[str, tuple[CardType, ...]] = {
    "text": (CardType.CLOZE,),
    "choices": (CardType.CHOICE,),
    "answer": (CardType.CHOICE,),
    "multiple": (CardType.CHOICE,),
    "type_answer": (CardType.BASIC,),
    "accept": (CardType.BASIC,),
    "reverse": (CardType.BASIC,),
}
_NEW_TYPES = (CardType.CLOZE, CardType.CHOICE)


class Checker(Protocol):
    def error(self, node: Node | None, message: str, card: str | None = None) -> None: ...

    def require(
        self, fields: Mapping[str, Node], name: str, owner: Node, card: str | None = None
    ) -> Node | None: ...

    def text(
        self, node: Node | None, name: str, card: str | None = None, optional: bool = False
    ) -> str | None: ...


def misplaced(
    checker: Checker, node: Node, fields: Mapping[str, Node], card_type: CardType | None, label: str
) -> None:
    """Errors for the fields of other card types (those this module knows)."""
    if card_type is None:
        return
    for name, value in fields.items():
        owners = _OWNERS.get(name)
        if card_type in _NEW_TYPES and name in ("generator", "params"):
            owners = (CardType.COMPUTE,)
        if card_type is CardType.CLOZE and name == "q":
            message = "a cloze card has no 'q': its question is the 'text', with deletions"
            checker.error(value, message, label)
            continue
        if owners is None or card_type in owners:
            continue
        if name == "answer" and card_type is CardType.BASIC:
            # `answer` is what people write for `a`, coming from other tools.
            checker.error(_key_node(node, name), "unknown key 'answer' (did you mean 'a'?)", label)
            continue
        kind = owners[0].value
        message = f"only {kind} cards take {name!r} (add 'type: {kind}')"
        if owners == (CardType.BASIC,):
            message = f"only basic cards take {name!r} (remove 'type: {card_type.value}')"
        checker.error(value, message, label)


def basic_extras(checker: Checker, fields: Mapping[str, Node], label: str) -> dict[str, Any]:
    """`type_answer`, `accept` and `reverse` of a basic card."""
    out: dict[str, Any] = {}
    if "type_answer" in fields:
        typed = _one_line(checker, fields["type_answer"], "type_answer", label)
        if typed is not None:
            out["type_answer"] = typed.strip()
    if "accept" in fields:
        if "type_answer" not in fields:
            checker.error(
                fields["accept"], "'accept' lists other typed answers: add 'type_answer'", label
            )
        accepted = _text_list(checker, fields["accept"], "accept", label, allow_one=True)
        out["accept"] = tuple(item.strip() for item in accepted)
    if "reverse" in fields:
        out["reverse"] = bool(_flag(checker, fields["reverse"], "reverse", label))
    return out


def cloze_content(
    checker: Checker, fields: Mapping[str, Node], node: Node, label: str
) -> dict[str, Any]:
    text_node = checker.require(fields, "text", node, label)
    text = checker.text(text_node, "text", label)
    extra = checker.text(fields.get("a"), "a", label, optional=True)
    if text is None:
        return {}
    problems = cloze.problems(text)
    for problem in problems:
        checker.error(text_node, problem.message, label)
    if not problems and not cloze.numbers(text):
        checker.error(text_node, "a cloze card needs a deletion, like {{c1::answer}}", label)
    return {"text": text, "a": extra or ""}


def choice_content(
    checker: Checker, fields: Mapping[str, Node], node: Node, label: str
) -> dict[str, Any]:
    q = checker.text(checker.require(fields, "q", node, label), "q", label)
    explanation = checker.text(fields.get("a"), "a", label, optional=True)
    choices_node = checker.require(fields, "choices", node, label)
    choices = _choices(checker, choices_node, label) if choices_node is not None else []
    multiple = (
        bool(_flag(checker, fields["multiple"], "multiple", label))
        if "multiple" in fields
        else False
    )
    answer_node = checker.require(fields, "answer", node, label)
    answers = _answers(checker, answer_node, choices, multiple, label) if answer_node else []
    return {
        "q": q or "",
        "a": explanation or "",
        "choices": tuple(choices),
        "answers": tuple(answers),
        "multiple": multiple,
    }


def _choices(checker: Checker, node: Node, label: str) -> list[str]:
    if node.kind is not Kind.SEQUENCE:
        checker.error(node, f"'choices' must be a list, not a {node.kind}", label)
        return []
    choices = _text_list(checker, node, "choices", label)
    if len(node.items) < 2:
        checker.error(node, "a choice card needs at least 2 choices", label)
    if len(node.items) > MAX_CHOICES:
        checker.error(node, f"at most {MAX_CHOICES} choices (one key each)", label)
    seen: dict[str, int] = {}
    for item in node.items:
        if item.kind is not Kind.SCALAR:
            continue
        same = " ".join(item.value.split()).casefold()
        if same in seen:
            checker.error(
                item, f"choice {item.value!r} is listed twice (first at line {seen[same]})", label
            )
        seen.setdefault(same, item.line)
    return choices


def _answers(
    checker: Checker, node: Node, choices: list[str], multiple: bool, label: str
) -> list[str]:
    if node.kind is Kind.SEQUENCE:
        if not multiple:
            checker.error(node, "several answers need 'multiple: true'", label)
        items = list(node.items)
        if not items:
            checker.error(node, "'answer' is empty", label)
    else:
        items = [node]
    answers = []
    for item in items:
        value = checker.text(item, "answer", label)
        if value is None:
            continue
        if choices and value.strip() not in choices:
            close = difflib.get_close_matches(value.strip(), choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            checker.error(item, f"answer {value.strip()!r} is not one of the choices{hint}", label)
            continue
        if value.strip() in answers:
            checker.error(item, f"answer {value.strip()!r} is given twice", label)
            continue
        answers.append(value.strip())
    return answers


def _text_list(
    checker: Checker, node: Node, name: str, label: str, allow_one: bool = False
) -> list[str]:
    """A list of one-line texts (or, with `allow_one`, a single text)."""
    items = node.items if node.kind is Kind.SEQUENCE else (node,)
    if node.kind is Kind.MAPPING or (node.kind is Kind.SCALAR and not allow_one):
        checker.error(node, f"{name!r} must be a list, not a {node.kind}", label)
        return []
    out = []
    for item in items:
        value = _one_line(checker, item, name, label)
        if value is not None:
            out.append(value.strip())
    return out


def _one_line(checker: Checker, node: Node, name: str, label: str) -> str | None:
    value = checker.text(node, name, label)
    if value is not None and "\n" in value.strip():
        checker.error(node, f"{name!r} must be one line", label)
        return None
    return value


def _flag(checker: Checker, node: Node, name: str, label: str) -> bool | None:
    if node.kind is not Kind.SCALAR or node.tag != BOOL:
        shown = repr(node.value) if node.kind is Kind.SCALAR else f"a {node.kind}"
        checker.error(node, f"{name!r} must be true or false, not {shown}", label)
        return None
    return bool(scalar_value(node))


def _key_node(node: Node, name: str) -> Node:
    for key, _value in node.pairs:
        if key.kind is Kind.SCALAR and key.value == name:
            return key
    return node
