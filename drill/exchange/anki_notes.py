"""The Anki note types of an .apkg, and which one each card becomes.

- `drill`: question, answer, reference, key; basic, choice and compute cards (Anki cannot
  shuffle choices, so they are listed in the question and the right one is the answer)
- `drill cloze`: Anki's Cloze type, so each `{{cN::…}}` becomes its own Anki card
- `drill reversed`: two templates, question → answer and answer → question
- `drill typed`: Anki's `{{type:…}}` comparison of a typed answer; an optional reverse

Each id comes from the note type's name, never drawn at random, so re-importing a newer
export updates the same note types and notes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from drill.exchange.entries import Entry
from drill.exchange.html import answer_html, markdown_html, question_html, reference_html
from drill.model import CardType

_TAIL = """{{#Reference}}<div class="reference">{{Reference}}</div>{{/Reference}}
<div class="key">{{Key}}</div>"""
CLOZE_FRONT = '<div class="question">{{cloze:Text}}</div>'
CLOZE_BACK = f"""<div class="question">{{{{cloze:Text}}}}</div>
{{{{#Back Extra}}}}<hr id="answer">
<div class="answer">{{{{Back Extra}}}}</div>{{{{/Back Extra}}}}
{_TAIL}"""
REVERSE_FRONT = '<div class="question">{{Answer}}</div>'
REVERSE_BACK = f"""{{{{FrontSide}}}}
<hr id="answer">
<div class="answer">{{{{Question}}}}</div>
{_TAIL}"""
TYPED_FRONT = '<div class="question">{{Question}}</div>\n{{type:Typed}}'
TYPED_BACK = f"""<div class="question">{{{{Question}}}}</div>
<hr id="answer">
{{{{type:Typed}}}}
<div class="answer">{{{{Answer}}}}</div>
{_TAIL}"""
TYPED_REVERSE_FRONT = '{{#Reverse}}<div class="question">{{Answer}}</div>{{/Reverse}}'
EXTRA_CSS = """
.cloze { font-weight: 700; color: var(--accent); }
ol.choices { margin: 0.6em 0 0 0; }
"""

CLOZE = "drill cloze"
REVERSED = "drill reversed"
TYPED = "drill typed"


def note_types(genanki: Any, basic: Any, stable_id: Callable[..., int], css: str) -> dict[str, Any]:
    """Every note type, by name; `basic` is the `drill` note type itself."""
    recall = basic.templates[0]
    return {
        basic.name: basic,
        CLOZE: genanki.Model(
            stable_id("drill-note-type", CLOZE),
            CLOZE,
            fields=[{"name": name} for name in ("Text", "Back Extra", "Reference", "Key")],
            templates=[{"name": "Cloze", "qfmt": CLOZE_FRONT, "afmt": CLOZE_BACK}],
            css=css + EXTRA_CSS,
            model_type=genanki.Model.CLOZE,
        ),
        REVERSED: genanki.Model(
            stable_id("drill-note-type", REVERSED),
            REVERSED,
            fields=[{"name": name} for name in ("Question", "Answer", "Reference", "Key")],
            templates=[
                recall,
                {"name": "Reverse", "qfmt": REVERSE_FRONT, "afmt": REVERSE_BACK},
            ],
            css=css + EXTRA_CSS,
        ),
        TYPED: genanki.Model(
            stable_id("drill-note-type", TYPED),
            TYPED,
            fields=[
                {"name": name}
                for name in ("Question", "Typed", "Answer", "Reference", "Key", "Reverse")
            ],
            templates=[
                {"name": "Type", "qfmt": TYPED_FRONT, "afmt": TYPED_BACK},
                {"name": "Reverse", "qfmt": TYPED_REVERSE_FRONT, "afmt": REVERSE_BACK},
            ],
            css=css + EXTRA_CSS,
        ),
    }


def note_type_of(entry: Entry, basic_name: str) -> str:
    card = entry.card
    if entry.exercise is None and card.type is CardType.CLOZE:
        return CLOZE
    if entry.exercise is None and card.type is CardType.BASIC and card.type_answer is not None:
        return TYPED
    if entry.exercise is None and card.type is CardType.BASIC and card.reverse:
        return REVERSED
    return basic_name


def note_fields(entry: Entry, note_type: str) -> list[str]:
    """The note's fields, in the order of its note type."""
    card = entry.card
    if note_type == CLOZE:
        extra = markdown_html(card.a) if card.a.strip() else ""
        return [question_html(entry), extra, reference_html(entry), entry.key]
    if note_type == TYPED:
        typed = html.escape(card.type_answer or "", quote=False)  # compared as plain text
        reverse = "y" if card.reverse else ""
        return [
            question_html(entry),
            typed,
            answer_html(entry),
            reference_html(entry),
            entry.key,
            reverse,
        ]
    return [question_html(entry), answer_html(entry), reference_html(entry), entry.key]
