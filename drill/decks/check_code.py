"""Checks of code cards (`type: code`): the code exercise they name and its params, each
problem an error at its file:line:column, as in drill.decks.check.

The DeckChecker calls these with itself, as it calls drill.decks.check_types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drill.decks.reader import Node
from drill.exercises.code import registry
from drill.model import CardType


def misplaced(
    checker: Any, fields: Mapping[str, Node], card_type: CardType | None, label: str
) -> None:
    """An `exercise` on a card of another type."""
    if card_type is not None and card_type is not CardType.CODE and "exercise" in fields:
        message = "only code cards take 'exercise' (add 'type: code')"
        checker.error(fields["exercise"], message, label)


def code_content(
    checker: Any, fields: Mapping[str, Node], node: Node, label: str
) -> dict[str, Any]:
    if "a" in fields:
        message = "a code card's answer is its exercise's reference solution; remove 'a'"
        checker.error(fields["a"], message, label)
    if "generator" in fields:
        message = "a code card names an 'exercise', not a 'generator' (see drill code list)"
        checker.error(fields["generator"], message, label)
    q = checker.text(fields.get("q"), "q", label, optional=True)
    exercise = _exercise(checker, checker.require(fields, "exercise", node, label), label)
    params = checker.params(fields.get("params"), label, None)
    if checker.check_params and exercise is not None and params:
        _check_params(checker, fields["params"], exercise, params, label)
    return {"q": q or "", "generator": exercise, "params": params}


def _exercise(checker: Any, node: Node | None, label: str) -> str | None:
    name = checker.text(node, "exercise", label)
    if node is None or name is None:
        return None
    if name not in registry.CODE_EXERCISES:
        hint = registry.did_you_mean(name)
        checker.error(node, f"unknown code exercise {name!r}{hint}; see drill code list", label)
        return None
    return name


def _check_params(
    checker: Any, node: Node, exercise: str, params: Mapping[str, Any], label: str
) -> None:
    """With `drill lint`: each param against what the exercise accepts (imports numpy)."""
    for key, value in node.pairs:
        if key.value not in params:
            continue
        problem = registry.param_problem(exercise, key.value, params[key.value])
        if problem:
            known = key.value in registry.load(exercise).params
            checker.error(value if known else key, problem, label)
