"""Plain paragraphs are turned into HTML without markdown-it, and exactly as it would.

Exports render every card's Markdown (tens of thousands of answers for an Anki package);
text that can only be paragraphs of words takes a shortcut, which must never change a
byte: every text the shortcut takes is compared with markdown-it's own rendering."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drill.exchange.html import _markdown, markdown_html, plain_paragraphs

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
