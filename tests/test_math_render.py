"""Math in card text: found where `$…$` really is math, shown as Unicode in the terminal,
as MathJax in Anki, kept as written in Markdown; and HTML in card text shown as text in
every output."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from drill.decks.markup import Kind, math_spans, segments
from drill.exchange.entries import Entry
from drill.exchange.html import markdown_html
from drill.exchange.markdown import render_markdown
from drill.exchange.mathjax import markdown_source
from drill.model import Card, Deck
from drill.ui.card_markdown import CardMarkdown
from drill.ui.math import render_latex, terminal_markdown


def shown(markdown: str, width: int = 80) -> str:
    """What the terminal shows for card Markdown, without styles."""
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(CardMarkdown(markdown))
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()).strip()


# -- where math is ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        ("Scale by $1/\\sqrt{d}$ each.", ["1/\\sqrt{d}"]),
        ("$$\\sum_i x_i$$ and $y$", ["\\sum_i x_i", "y"]),
        ("It costs $5 and $10 a month.", []),  # prices: the closing $ follows a space
        ("under $0.20;", []),
        ("a literal \\$x$ dollar", []),
        ("`$x$` in code, $y$ outside", ["y"]),
        ("```\n$x$\n```\nthen $z$", ["z"]),
        ("$ x$ is not math, nor $x $", []),
        ("one $x$\n\n$y$ two", ["x", "y"]),
        ("a $x\n\ny$ crosses a paragraph", []),
    ],
)
def test_math_is_found_where_it_is_math(text, bodies):
    assert [span.text for span in math_spans(text)] == bodies


@given(st.text(alphabet="ab $`\\\n{}*_", max_size=40))
def test_segments_cover_the_text_exactly(text):
    parts = segments(text)
    assert "".join(text[part.start : part.end] for part in parts) == text
    assert all(part.end > part.start for part in parts)
    assert all(
        part.text == text[part.start : part.end] for part in parts if part.kind is not Kind.MATH
    )


# -- the terminal: LaTeX to Unicode ----------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "unicode"),
    [
        ("\\sigma(x) = \\frac{1}{1 + e^{-x}}", "σ(x) = 1/(1 + e⁻ˣ)"),
        ("\\frac{\\partial L}{\\partial w}", "∂L/∂w"),
        ("\\operatorname{softmax}(QK^\\top / \\sqrt{d_k})V", "softmax(QKᵀ/ √dₖ)V"),
        ("\\sum_{i=1}^{n} x_i^2", "∑ᵢ₌₁ⁿ xᵢ²"),
        ("\\nabla_\\theta \\mathcal{L}", "∇_θ ℒ"),  # no subscript θ in Unicode: written out
        ("x \\in \\mathbb{R}^{d}", "x ∈ ℝᵈ"),
        ("\\hat{y} - y", "ŷ − y"),
        ("a \\cdot b \\times c \\le d", "a · b × c ≤ d"),
        ("\\|w\\|_2^2", "‖w‖₂²"),
        ("\\left( \\frac{a}{b} \\right)", "(a/b)"),
        ("p_{\\text{data}}", "p_data"),
        ("e^{-(z_1 - z_2)}", "e^(−(z₁ − z₂))"),
        ("\\alpha\\,\\beta", "α β"),
        ("\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}", "(a b; c d)"),
        ("\\unknown{x}", "unknown(x)"),  # readable, not dropped
        ("\\log p(x)", "log p(x)"),
        ("10^{-4}", "10⁻⁴"),
    ],
)
def test_latex_reads_as_unicode(latex, unicode):
    assert render_latex(latex) == unicode


def test_markdown_keeps_backslashes_and_underscores_inside_math():
    # Without care Markdown eats `\,` (leaving `,`) and reads `_i … _j` as emphasis.
    text = "Use $a \\, b$ and $x_i + y_j$, not *this*."
    assert terminal_markdown(text) == "Use a b and xᵢ \\+ yⱼ, not *this*."
    assert shown("$W_{hh}$ *and* $\\frac{a_i}{b_i}$") == "Wₕₕ and aᵢ/bᵢ"
    assert shown("$\\mathrm{some\\_name}_{x*y*z}$") == "some_name_(x*y*z)"


def test_html_in_card_text_shows_as_text_in_the_terminal():
    assert shown("Use <b>bold</b> tags & x < y") == "Use <b>bold</b> tags & x < y"
    assert shown("<div>a block</div>") == "<div>a block</div>"


# -- Anki: MathJax; Markdown: as written -------------------------------------------------


def test_anki_gets_mathjax_with_its_backslashes():
    assert markdown_html("Scale by $\\frac{1}{\\sqrt{d_k}}$, *not* $d_k$.") == (
        "<p>Scale by \\(\\frac{1}{\\sqrt{d_k}}\\), <em>not</em> \\(d_k\\).</p>"
    )
    assert markdown_html("$$a_i < b_i \\, c$$") == "<p>\\[a_i &lt; b_i \\, c\\]</p>"
    assert markdown_html("<b>x</b> & $x$") == "<p>&lt;b&gt;x&lt;/b&gt; &amp; \\(x\\)</p>"


def test_a_cloze_field_spaces_closing_braces_inside_math():
    html = markdown_html("{{c1::$\\frac{1}{\\sqrt{d}}$}}", cloze=True)
    assert html == "<p>{{c1::\\(\\frac{1}{\\sqrt{d} }\\)}}</p>"


def test_markdown_export_keeps_math_and_escapes_html():
    card = Card(
        "m", "scale", q="Why $\\sqrt{d_k}$?", a="Keeps $q \\cdot k$ at unit <b>variance</b>."
    )
    text, _ = render_markdown([Entry(Deck("m", "Math", (card,)), card)])
    assert "## Why $\\sqrt{d_k}$?" in text
    assert "Keeps $q \\cdot k$ at unit \\<b>variance\\</b>." in text
    assert markdown_source("`<b>` and $a<b$ and x < y") == "`<b>` and $a<b$ and x < y"


def test_mathjax_read_back_from_anki_html_is_dollar_math_again():
    from drill.exchange.htmltext import html_to_markdown

    text = "Scale by $\\frac{1}{\\sqrt{d_k}}$, then $$a_i < b_i$$"
    assert html_to_markdown(markdown_html(text)) == text
