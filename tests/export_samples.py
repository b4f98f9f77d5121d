"""Small decks and a fast stand-in exercise generator, shared by the export and import tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drill.exercises.base import Difficulty, Exercise
from drill.model import Card, CardType, Deck

ANSWER = "**Forward** pass, then the *backward* pass.\n\n- chain rule\n- `x < y` & more"


def basic_deck(deck_id: str = "ml", title: str = "Machine learning", answer: str = ANSWER) -> Deck:
    cards = (
        Card(
            deck_id,
            "two-passes",
            q="Explain the two passes of backpropagation.",
            a=answer,
            tags=("interview", "core"),
            ref="Goodfellow et al., Deep Learning (2016), §6.5",
        ),
        Card(
            deck_id,
            "relu",
            q="What is `ReLU`?",
            a="max(0, x), applied elementwise.",
            was=("rectifier",),
        ),
    )
    return Deck(deck_id, title, cards, description="The basics.", tags=("deep-learning",))


def compute_deck(deck_id: str = "grads") -> Deck:
    card = Card(
        deck_id,
        "neuron-grad",
        q="Work it by hand.",
        type=CardType.COMPUTE,
        generator="mlp-backward",
        params={"activation": "relu"},
        tags=("compute",),
    )
    return Deck(deck_id, "Gradients", (card,))


def fake_make(name: str, seed: int, params: Mapping[str, Any], difficulty: Difficulty) -> Exercise:
    """A deterministic exercise that needs no numpy: its numbers come from the seed."""
    return Exercise(
        generator=name,
        seed=seed,
        difficulty=Difficulty(difficulty),
        question=f"x = {seed % 7}\nCompute 2 * x < 100?",
        spec=dict(params),
        inputs={"x": seed % 7},
        asked={},
        answer=2 * (seed % 7),
        solution=(f"2 * x = {2 * (seed % 7)}", "done & dusted"),
    )


YAML_DECK = """\
id: ml
title: Machine learning
description: The basics.
tags: [deep-learning]
cards:
  - id: two-passes
    q: Explain the two passes of backpropagation.
    a: |-
      **Forward** pass, then the *backward* pass.

      - chain rule
      - `x < y` & more
    tags: [interview, core]
    ref: Goodfellow et al., Deep Learning (2016), §6.5
  - id: relu
    q: What is `ReLU`?
    a: max(0, x), applied elementwise.
  - id: mlp-grad
    type: compute
    generator: mlp-backward
"""


def write_deck_folder(root: Path, text: str = YAML_DECK, name: str = "ml.yaml") -> Path:
    """A folder holding one deck file, for --decks."""
    folder = root / "decks"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder
