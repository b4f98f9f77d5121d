"""Math for the exports: MathJax delimiters in HTML (Anki), `$…$` kept in Markdown.

Markdown renderers treat a backslash as an escape and `_` or `*` as emphasis, which would
wreck LaTeX (`\\,` would lose its backslash). So each math span is taken out before the
Markdown is rendered, a placeholder standing in its place, and put back afterwards as
`\\( … \\)` (inline) or `\\[ … \\]` (display), HTML-escaped, as Anki's MathJax reads it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from drill.decks.markup import Segment, map_segments

# Private-use characters: nothing in card text uses them, and Markdown leaves them alone.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
# An HTML tag, comment or declaration starts like this; `x < y` does not.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def mathjax(segment: Segment, cloze: bool = False) -> str:
    """One math span as escaped MathJax. In a cloze note `}}` would end the deletion early,
    so braces are spaced (`} }`), which MathJax ignores, as Anki's manual advises."""
    body = segment.text.strip()
    if cloze:
        while "}}" in body:
            body = body.replace("}}", "} }")
    opening, closing = ("\\[", "\\]") if segment.display else ("\\(", "\\)")
    return opening + html.escape(body, quote=False) + closing


def render_with_math(text: str, render: Callable[[str], str], cloze: bool = False) -> str:
    """`render(text)` (Markdown to HTML) with the math of `text` kept out of its way."""
    if "$" not in text:
        return render(text)
    spans: list[str] = []

    def hold(segment: Segment) -> str:
        spans.append(mathjax(segment, cloze))
        return f"{_OPEN}{len(spans) - 1}{_CLOSE}"

    rendered = render(map_segments(text, math=hold))
    return _PLACEHOLDER.sub(lambda match: spans[int(match.group(1))], rendered)


def markdown_source(text: str) -> str:
    """Card text for a Markdown file: math kept as written, HTML tags escaped (`\\<b>`) so
    they show as text there too, code left alone."""
    if "<" not in text:
        return text
    return map_segments(text, plain=lambda plain: _TAG_START.sub(r"\\<", plain))
