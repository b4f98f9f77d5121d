"""Plain paragraphs are turned into HTML without markdown-it, and exactly as it would; the
terminal shows them without rich's Markdown, exactly as it would.

Exports render every card's Markdown (tens of thousands of answers for an Anki package);
text that can only be paragraphs of words takes a shortcut, which must never change a
byte: every text the shortcut takes is compared with markdown-it's own rendering."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.panel import Panel

from drill.decks import markup
from drill.exchange.html import _markdown, markdown_html, plain_paragraphs
from drill.ui.card_markdown import CardMarkdown
from drill.ui.card_view import card_markdown

WORDS = st.text(alphabet="abcXYZéσß2'\",.;:?()$+-=/%", min_size=1, max_size=8)
SEPARATORS = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\n\n",
        "\n\n\n",
        " \n",
        "\n ",
        "\n1. ",
        "\n- ",
        "\n# ",
        "\n===",
        "\n---",
        "\n    ",
        " *",
        "_",
        "`",
        "<b>",
        "&amp;",
        "|",
        "~~",
        "\t",
        "\u00a0",
        "\\",
        "!",
    ]
)


@st.composite
def texts(draw):
    words = draw(st.lists(WORDS, min_size=1, max_size=12))
    seps = draw(st.lists(SEPARATORS, min_size=len(words) - 1, max_size=len(words) - 1))
    text = words[0] + "".join(sep + word for sep, word in zip(seps, words[1:], strict=True))
    return draw(st.sampled_from(["", "\n"])) + text + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=600, deadline=None)
@given(texts())
def test_the_shortcut_renders_as_markdown_it_does(text):
    shortcut = plain_paragraphs(text)
    if shortcut is not None:
        assert shortcut == _markdown().render(text).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_either_declines_or_matches(text):
    shortcut = plain_paragraphs(text)
    if shortcut is not None:
        assert shortcut == _markdown().render(text).strip()


def test_plain_answers_take_the_shortcut():
    text = 'First paragraph, with "quotes"\nand a second line.\n\nSecond one (x = 2).\n'
    assert plain_paragraphs(text) == (
        "<p>First paragraph, with &quot;quotes&quot;\nand a second line.</p>\n"
        "<p>Second one (x = 2).</p>"
    )
    assert markdown_html(text) == _markdown().render(text).strip()


def test_markdown_declines_the_shortcut():
    for text in ("**bold**", "1. a list", "- item", "a  \nb", "  indented", "x | y", "a\n\n\nb"):
        assert plain_paragraphs(text) is None, text


def test_every_space_but_the_space_and_the_newline_declines_the_shortcut():
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace() and chr(c) not in " \n"]
    assert len(spaces) > 20
    for space in spaces:
        assert plain_paragraphs(f"a{space}b") is None, hex(ord(space))
    assert plain_paragraphs("a b\nc") == "<p>a b\nc</p>"


def test_ascii_text_is_judged_by_the_same_rule():
    # ASCII text is checked by its bytes, other text by the regex: one é sends it there.
    for code in range(128):
        ascii_text, other_text = f"a{chr(code)}b", f"é{chr(code)}b"
        assert ascii_text.isascii() and not other_text.isascii()
        declined = markup.plain_paragraphs(ascii_text) is None
        assert declined == (markup.plain_paragraphs(other_text) is None), hex(code)
        assert declined == bool(markup._NOT_PLAIN.search(chr(code))), hex(code)


def _terminal(renderable, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=True, color_system="truecolor").print(
        Panel(renderable, title="Question")
    )
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(texts(), st.sampled_from([12, 30, 80]))
def test_the_terminal_shows_plain_text_as_rich_markdown_does(text, width):
    if markup.plain_paragraphs(text) is None or "$" in text:
        assert isinstance(card_markdown(text), CardMarkdown)
    else:
        assert _terminal(card_markdown(text), width) == _terminal(CardMarkdown(text), width)


def test_the_terminal_takes_the_shortcut_for_plain_text_only():
    plain = [
        "Why does the loss\nplateau?\n\nSay why.",
        "One line, then\nanother and another,\nand a third one here.\n",
        "\nA  paragraph   with  spaces.\n\nAnd (a second) one: x = 2, y = 3.\n\n",
    ]
    for text in plain:
        assert not isinstance(card_markdown(text), CardMarkdown), text
        for width in (10, 24, 80):
            assert _terminal(card_markdown(text), width) == _terminal(CardMarkdown(text), width)
    for text in ("Is $x^2$ convex?", "What is `softmax`?", "**Why** this?", "1. first"):
        assert isinstance(card_markdown(text), CardMarkdown), text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab &<>\"'∂⊙\n;#x27amp"), max_size=40))
def test_exercise_text_is_escaped_as_html_escape_escapes_it(text):
    import html

    from drill.exchange.html import escape

    assert escape(text) == html.escape(text)
