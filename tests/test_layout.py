"""The tree shows the architecture: each part imports only the parts it may.

Every module's imports are read from its source (those inside functions too, since a lazy
import is still a dependency), and checked against the rules each part's `__init__.py`
states. A new module belongs to a part; a new dependency between parts is a decision,
made here, not an accident.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import drill

PACKAGE = Path(drill.__file__).parent

# What each part may import of drill (besides itself). Top-level modules count as parts.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "model": set(),
    "engine": set(),
    "home": {"errors"},
    "exercises": {"engine", "errors", "model"},
    "decks": {"exercises", "home", "errors", "model"},
    "review": {"home", "errors", "model"},
    "exchange": {"decks", "exercises", "review", "home", "errors", "model"},
    "interview": {"review", "exercises", "errors", "model"},
    "doctor": {"decks", "review", "home", "errors", "model"},
    "ui": {"interview", "review", "exercises", "decks", "home", "errors", "model"},
    "cli": {
        "ui",
        "interview",
        "doctor",
        "exchange",
        "review",
        "exercises",
        "decks",
        "home",
        "errors",
        "model",
        "drill",
    },
    "drill": {"errors", "model"},  # drill/__init__.py
    "__main__": {"cli"},
}
# Third-party packages that only some parts may use.
RESTRICTED = {
    "typer": {"cli", "ui"},
    "click": {"cli", "ui"},
    "rich": {"cli", "ui"},
    "numpy": {"engine", "exercises"},
    "fsrs": {"review"},
    "fsrs_rs_python": {"review"},
    "genanki": {"exchange"},
    "markdown_it": {"exchange", "ui"},
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(name: str) -> str:
    """drill.review.store -> review; drill.model -> model; drill -> drill."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "drill"


@cache
def imports_of(path: Path) -> tuple[str, ...]:
    """Every module `path` imports, as absolute dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append(module)
            # `from drill import backup` imports the module drill.backup
            found += [f"{module}.{alias.name}" for alias in node.names]
    return tuple(found)


@cache
def drill_modules() -> frozenset[str]:
    return frozenset(module_name(path) for path in modules())


def test_every_module_belongs_to_a_known_part():
    assert sorted({part_of(name) for name in drill_modules()} - set(ALLOWED)) == []


def forbidden(name: str, imported: tuple[str, ...], known: frozenset[str]) -> list[str]:
    """The modules of drill that module `name` imports but its part may not."""
    part = part_of(name)
    return sorted(
        target
        for target in imported
        if target in known
        and target != "drill"
        and part_of(target) != part
        and part_of(target) not in ALLOWED[part]
    )


@pytest.mark.parametrize("path", modules(), ids=lambda path: module_name(path))
def test_parts_import_only_what_they_may(path):
    name = module_name(path)
    wrong = forbidden(name, imports_of(path), drill_modules())
    assert wrong == [], f"{name} ({part_of(name)}) may not import {wrong}"


@pytest.mark.parametrize("path", modules(), ids=lambda path: module_name(path))
def test_heavy_and_terminal_libraries_stay_in_their_parts(path):
    part = part_of(module_name(path))
    wrong = sorted(
        {
            target
            for target in imports_of(path)
            if target.split(".")[0] in RESTRICTED and part not in RESTRICTED[target.split(".")[0]]
        }
    )
    assert wrong == [], f"{module_name(path)} ({part}) may not import {wrong}"


def test_no_import_cycles_between_modules():
    known = drill_modules()
    graph = {
        module_name(path): {
            target
            for target in imports_of(path)
            if target in known
            and target != module_name(path)
            # a package's __init__ and its own modules are one unit
            and not target.startswith(module_name(path) + ".")
            and not module_name(path).startswith(target + ".")
        }
        for path in modules()
    }
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize("part", sorted(p for p in ALLOWED if (PACKAGE / p).is_dir()))
def test_every_part_says_what_it_is_and_what_it_may_import(part):
    doc = ast.get_docstring(ast.parse((PACKAGE / part / "__init__.py").read_text()))
    assert doc, f"drill/{part}/__init__.py has no docstring"
    assert "May import" in doc and "Must not" in doc


def test_the_rules_catch_a_violation():
    """The checker itself: the engine importing the store, or decks importing review."""
    known = drill_modules()
    assert forbidden("drill.engine.tensor", ("drill.review.store",), known) == [
        "drill.review.store"
    ]
    assert forbidden("drill.decks.loader", ("drill.review.session",), known) == [
        "drill.review.session"
    ]
    assert forbidden("drill.cli.app", ("drill.review.store",), known) == []
