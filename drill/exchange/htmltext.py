"""HTML fields (as Anki writes them) back to Markdown, for importing into a YAML deck.

Only the markup that cards commonly use is kept: paragraphs, line breaks, bold, italics,
code, preformatted blocks, lists, headings, links and images. Anything else is reduced to
its text. The result reads well in a deck file and renders as the original did.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "div", "table", "tr", "blockquote", "hr"} | _HEADINGS
_INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*", "del": "~~", "s": "~~"}
# MathJax as Anki (and drill's exports) write it, back to the $…$ of card text.
_MATHJAX = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)


def _dollars(match: re.Match[str]) -> str:
    inline, display = match.groups()
    return f"${inline.strip()}$" if inline is not None else f"$${display.strip()}$$"


def html_to_markdown(html: str) -> str:
    parser = _Converter()
    parser.feed(html)
    parser.close()
    return parser.markdown()


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0  # depth of <pre>: whitespace is kept as written inside
        self.lists: list[list[int]] = []  # one counter per open list; [0] means unordered
        self.link: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("ul", "ol"):
            self._break(1 if self.lists else 2)  # a nested list stays inside its item
            self.lists.append([1] if tag == "ol" else [0])
        elif tag in _BLOCKS:
            self._break(2)
            if tag in _HEADINGS:
                self.out.append("#" * int(tag[1]) + " ")
        elif tag == "li":
            self._li()
        elif tag == "br":
            # A hard break in Markdown; a plain newline would read as a space.
            self.out.append("\n" if self.pre else "\\\n")
        elif tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "pre":
            self._break(2)
            self.out.append("```\n")
            self.pre += 1
        elif tag == "a":
            self.link = attributes.get("href")
            self.out.append("[" if self.link else "")
        elif tag == "img":
            self.out.append(f"![{attributes.get('alt') or ''}]({attributes.get('src') or ''})")
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "pre" and self.pre:
            self.pre -= 1
            self.out = ["".join(self.out).rstrip("\n"), "\n```"]
            self._break(2)
        elif tag == "a" and self.link:
            self.out.append(f"]({self.link})")
            self.link = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._break(2)
        elif tag in _BLOCKS:
            self._break(2)

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = _MATHJAX.sub(_dollars, data)
            data = re.sub(r"\s+", " ", data)
            if self._at_line_start():
                data = data.lstrip(" ")
        self.out.append(data)

    def _li(self) -> None:
        self._break(1)
        depth = max(len(self.lists) - 1, 0)
        counter = self.lists[-1] if self.lists else [0]
        marker = f"{counter[0]}." if counter[0] else "-"
        if counter[0]:
            counter[0] += 1
        self.out.append("   " * depth + marker + " ")

    def _break(self, newlines: int) -> None:
        """End the line, with at least `newlines` newlines (not `newlines` more)."""
        text = "".join(self.out)
        if not self.pre:
            text = text.rstrip(" ")
        present = len(text) - len(text.rstrip("\n"))
        self.out = [text, "\n" * max(newlines - present, 0)]

    def _at_line_start(self) -> bool:
        text = "".join(self.out)
        return not text or text.endswith("\n")

    def markdown(self) -> str:
        text = "".join(self.out)
        text = re.sub(r"(?:\\\n){2,}", "\n\n", text)  # <br><br> separates paragraphs
        text = re.sub(r"\\\n(?=\n)|\\\n\s*$", "\n", text)  # a break before a block is moot
        return re.sub(r"\n{3,}", "\n\n", text).strip()
