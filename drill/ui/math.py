"""Math in the terminal: the LaTeX of `$…$` shown with the Unicode a terminal can draw.

Greek letters, operators and arrows become their symbols, `^` and `_` become super- and
subscripts where Unicode has every character (`e^{-x}` → e⁻ˣ, `x_{ij}` → xᵢⱼ, else `^(…)`),
`\\frac{a}{b}` becomes a/b (with brackets around a compound part), `\\sqrt{x}` √x, accents
combine (`\\hat{y}` → ŷ), `\\mathbb{R}` → ℝ. What Unicode cannot show stays readable: an
unknown command is its name, a matrix its rows. Card text around the math is Markdown,
which would eat backslashes and read `_` as emphasis, so rendered math is escaped for it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from drill.decks.markup import Segment, map_segments

_GREEK = {
    name: chr(code)
    for name, code in (
        ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4),
        ("epsilon", 0x3F5), ("varepsilon", 0x3B5), ("zeta", 0x3B6), ("eta", 0x3B7),
        ("theta", 0x3B8), ("vartheta", 0x3D1), ("iota", 0x3B9), ("kappa", 0x3BA),
        ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE), ("pi", 0x3C0),
        ("varpi", 0x3D6), ("rho", 0x3C1), ("varrho", 0x3F1), ("sigma", 0x3C3),
        ("varsigma", 0x3C2), ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3D5),
        ("varphi", 0x3C6), ("chi", 0x3C7), ("psi", 0x3C8), ("omega", 0x3C9),
        ("Gamma", 0x393), ("Delta", 0x394), ("Theta", 0x398), ("Lambda", 0x39B),
        ("Xi", 0x39E), ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Upsilon", 0x3A5), ("Phi", 0x3A6),
        ("Psi", 0x3A8), ("Omega", 0x3A9),
    )
}  # fmt: skip
_SYMBOLS = {
    "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫",
    "oint": "∮", "forall": "∀", "exists": "∃", "neg": "¬", "lnot": "¬", "ell": "ℓ",
    "hbar": "ħ", "emptyset": "∅", "varnothing": "∅", "ldots": "…", "dots": "…",
    "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "langle": "⟨", "rangle": "⟩",
    "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖", "lvert": "|", "rvert": "|",
    "vert": "|", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋", "top": "⊤",
    "bot": "⊥", "prime": "′", "dagger": "†", "star": "⋆", "ast": "∗", "degree": "°",
    "{": "{", "}": "}", "%": "%", "$": "$", "&": "&", "#": "#", "_": "_",
    "lbrace": "{", "rbrace": "}", "backslash": "\\", "checkmark": "✓", "square": "□",
}  # fmt: skip
# Relations and operators: set with a space on each side, whatever the source's spacing.
_OPERATORS = {
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "le": "≤", "leq": "≤",
    "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "∼",
    "simeq": "≃", "cong": "≅", "propto": "∝", "equiv": "≡", "ll": "≪", "gg": "≫",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "implies": "⇒", "iff": "⇔", "Leftrightarrow": "⇔",
    "leftrightarrow": "↔", "mapsto": "↦", "in": "∈", "notin": "∉", "ni": "∋",
    "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇", "cup": "∪",
    "cap": "∩", "setminus": "∖", "land": "∧", "wedge": "∧", "lor": "∨", "vee": "∨",
    "circ": "∘", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "perp": "⊥", "mid": "∣",
    "coloneqq": "≔", "triangleq": "≜",
}  # fmt: skip
_FUNCTIONS = {
    "log", "ln", "lg", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin",
    "arccos", "arctan", "max", "min", "arg", "sup", "inf", "lim", "liminf", "limsup",
    "det", "dim", "ker", "Pr", "deg", "gcd", "sgn", "argmax", "argmin", "softmax", "tr",
    "diag", "rank", "Var", "Cov", "KL",
}  # fmt: skip
_FONTS_AS_TEXT = {
    "text", "textrm", "textit", "textbf", "texttt", "textsf", "mathrm", "mathit", "mathbf",
    "mathsf", "mathtt", "mathfrak", "boldsymbol", "bm", "operatorname", "mbox", "hbox",
    "emph",
}  # fmt: skip
_DROPPED = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "displaystyle", "textstyle", "scriptstyle", "limits", "nolimits", "middle", "!",
}  # fmt: skip
_SPACES = {",": " ", ":": " ", ";": " ", " ": " ", "quad": "  ", "qquad": "    ", "enspace": " "}
_ACCENTS = {
    "hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0305",
    "tilde": "\u0303", "widetilde": "\u0303", "vec": "\u20d7", "dot": "\u0307",
    "ddot": "\u0308", "check": "\u030c", "breve": "\u0306", "acute": "\u0301",
    "grave": "\u0300", "underline": "\u0332",
}  # fmt: skip
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ", "1": "𝟙"}
_CALLIGRAPHIC = {
    "A": "𝒜", "B": "ℬ", "C": "𝒞", "D": "𝒟", "E": "ℰ", "F": "ℱ", "G": "𝒢", "H": "ℋ",
    "I": "ℐ", "J": "𝒥", "K": "𝒦", "L": "ℒ", "M": "ℳ", "N": "𝒩", "O": "𝒪", "P": "𝒫",
    "Q": "𝒬", "R": "ℛ", "S": "𝒮", "T": "𝒯", "U": "𝒰", "V": "𝒱", "W": "𝒲", "X": "𝒳",
    "Y": "𝒴", "Z": "𝒵",
}  # fmt: skip
_SUPERSCRIPT = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW⊤αβγδθφχ′",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵀᵅᵝᵞᵟᶿᵠᵡ′",
        strict=True,
    )
)
_SUBSCRIPT = dict(
    zip(
        "0123456789+-−=()aehijklmnoprstuvxβγρφχ",
        "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ",
        strict=True,
    )
)
_MATRICES = {
    "matrix": ("", ""), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"), "vmatrix": ("|", "|"),
    "Bmatrix": ("{", "}"), "Vmatrix": ("‖", "‖"), "cases": ("{ ", ""), "aligned": ("", ""),
    "align": ("", ""), "array": ("", ""), "split": ("", ""),
}  # fmt: skip
_FUNCTION = "\x00"  # marks a function name (log, max…) for the spacing before it
_TOKEN = re.compile(r"\\([A-Za-z]+)(\s*)|\\(.)|(\s+)|(.)", re.DOTALL)
_COMPOUND = re.compile(r"[\s+\-−=·×÷/,<>≤≥≠≈→±]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&$-])")


def render_latex(latex: str) -> str:
    """The Unicode reading of a LaTeX formula (the text between the dollars)."""
    text = _Parser(latex).expression().replace(_FUNCTION, "")  # one left in a script
    text = re.sub(r"([(\[]) +| +([)\]])", r"\1\2", text)  # `\left( x \right)` → (x)
    text = "\n".join(" ".join(line.split()) for line in text.strip().split("\n"))
    return unicodedata.normalize("NFC", text)  # y + combining hat → ŷ where one exists


def math_markdown(segment: Segment) -> str:
    """A math segment as Markdown that shows its Unicode rendering, escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", render_latex(segment.text))


def terminal_markdown(text: str) -> str:
    """Card Markdown with its math rendered for the terminal; the rest as written."""
    if "$" not in text:
        return text
    return map_segments(text, math=math_markdown)


def terminal_text(text: str) -> str:
    """Plain (not Markdown) text with its math rendered: a one-line summary, a choice."""
    if "$" not in text:
        return text
    return map_segments(text, math=lambda segment: render_latex(segment.text))


@dataclass
class _Token:
    command: str | None = None  # \name, or the symbol of \, \{ …
    space_after: bool = False
    char: str | None = None  # any other character, spaces as " "


def _tokens(latex: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(latex):
        name, space, symbol, blank, char = match.groups()
        if name is not None:
            tokens.append(_Token(command=name, space_after=bool(space)))
        elif symbol is not None:
            tokens.append(_Token(command=symbol))
        elif blank is not None:
            tokens.append(_Token(char="\n" if "\n\n" in blank else " "))
        else:
            tokens.append(_Token(char=char))
    return tokens


class _Parser:
    def __init__(self, latex: str) -> None:
        self.tokens = _tokens(latex)
        self.position = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token | None:
        token = self.peek()
        self.position += token is not None
        return token

    def expression(self, closing: str | None = None) -> str:
        """Atoms up to `closing` (a `}` or an \\end), which is consumed, or the end."""
        parts: list[str] = []
        while (token := self.peek()) is not None:
            if closing == "}" and token.char == "}":
                self.take()
                break
            if closing == "end" and token.command == "end":
                self.take()
                self.group_text()
                break
            atom = self.atom()
            if atom.startswith(_FUNCTION):  # `\\log`: apart from a preceding operand
                atom = atom[1:]
                previous = parts[-1][-1:] if parts else ""
                if previous.isalnum() or previous in (")", "]", "′"):
                    atom = " " + atom
            parts.append(atom)
        return "".join(parts)

    def group_text(self) -> str:
        """The raw content of a `{…}` argument, as text (environment names, \\text)."""
        token = self.peek()
        if token is None or token.char != "{":
            return ""
        self.take()
        depth, out = 1, []
        while (token := self.take()) is not None:
            if token.char == "{":
                depth += 1
            elif token.char == "}":
                depth -= 1
                if depth == 0:
                    break
            out.append(token.char if token.char is not None else _command_text(token))
        return "".join(out)

    def argument(self) -> str:
        """The next argument: a `{…}` group, or a single token."""
        token = self.peek()
        while token is not None and token.char == " ":
            self.take()
            token = self.peek()
        if token is None:
            return ""
        if token.char == "{":
            self.take()
            return self.expression("}")
        return self.atom()

    def atom(self) -> str:
        token = self.take()
        if token is None:
            return ""
        if token.char is not None:
            return self.character(token.char)
        return self.command(token)

    def letter_follows(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        if token.char is not None:
            return token.char.isalnum()
        return token.command in _GREEK or token.command in ("mathcal", "mathbb", "mathrm")

    def character(self, char: str) -> str:
        if char == "{":
            return self.expression("}")
        if char in "^_":
            script = _script(self.argument(), char)
            if script.startswith(char) and self.letter_follows():
                script += " "  # written out, `∇_θ ℒ` keeps the script apart from what follows
            return script
        if char == "&":
            return "  "
        return {"-": "−", "'": "′", "~": " "}.get(char, char)

    def command(self, token: _Token) -> str:
        name = token.command or ""
        space = " " if token.space_after else ""
        if name in _GREEK:
            return _GREEK[name]
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _OPERATORS:
            return f" {_OPERATORS[name]} "
        if name in _SPACES:
            return _SPACES[name]
        if name in _DROPPED:
            if name in ("left", "right", "middle") and (after := self.peek()) and after.char == ".":
                self.take()  # \left. is an invisible delimiter
            return ""
        if name == "\\":
            return "\n"
        if name in _FUNCTIONS:
            return _FUNCTION + name + space
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            return _fraction(self.argument(), self.argument())
        if name == "binom":
            top, bottom = self.argument(), self.argument()
            return f"C({top}, {bottom})"
        if name == "sqrt":
            return self.root()
        if name in _ACCENTS:
            mark = _ACCENTS[name]
            return "".join(char + mark if not char.isspace() else char for char in self.argument())
        if name == "mathbb":
            body = self.argument()
            return "".join(_BLACKBOARD.get(char, char) for char in body)
        if name == "mathcal" or name == "mathscr":
            body = self.argument()
            return "".join(_CALLIGRAPHIC.get(char, char) for char in body)
        if name in _FONTS_AS_TEXT:
            return (
                self.group_text() if name.startswith("text") or name == "mbox" else self.argument()
            )
        if name == "begin":
            return self.environment(self.group_text())
        if name in ("not",):
            return self.argument() + "\u0338"
        if (after := self.peek()) is not None and after.char == "{":
            return f"{name}({self.argument()})"  # unknown, with an argument: readable
        return name + space  # unknown: its name

    def root(self) -> str:
        degree = ""
        token = self.peek()
        if token is not None and token.char == "[":
            self.take()
            parts = []
            while (token := self.take()) is not None and token.char != "]":
                parts.append(token.char if token.char is not None else _command_text(token))
            degree = "".join(parts)
        body = self.argument()
        sign = {"": "√", "2": "√", "3": "∛", "4": "∜"}.get(degree) or _script(degree, "^") + "√"
        return sign + (f"({body})" if _compound(body) else body)

    def environment(self, name: str) -> str:
        if name == "array" and (token := self.peek()) is not None and token.char == "{":
            self.group_text()  # the column spec
        body = self.expression("end")
        opening, closing = _MATRICES.get(name, ("", ""))
        rows = [" ".join(row.split()) for row in body.split("\n")]
        return opening + "; ".join(row for row in rows if row) + closing


def _command_text(token: _Token) -> str:
    return "\\" + (token.command or "")


def _compound(text: str) -> bool:
    """Whether text needs brackets to stay one operand next to `/` or `√`."""
    text = text.strip()
    if len(text) <= 1 or (text[0] in "([" and text[-1] in ")]"):
        return False
    return _COMPOUND.search(text) is not None


def _fraction(top: str, bottom: str) -> str:
    top, bottom = top.strip(), bottom.strip()
    top = f"({top})" if _compound(top) else top
    bottom = f"({bottom})" if _compound(bottom) else bottom
    return f"{top}/{bottom}"


def _script(body: str, mark: str) -> str:
    """`body` as a superscript (`mark` "^") or subscript ("_"), or written out when
    Unicode lacks one of its characters."""
    body = " ".join(body.split())
    if not body:
        return ""
    table = _SUPERSCRIPT if mark == "^" else _SUBSCRIPT
    compact = body.replace(" ", "")
    if all(char in table for char in compact):
        return "".join(table[char] for char in compact)
    if len(compact) == 1 or re.fullmatch(r"\w+", compact):
        return f"{mark}{compact}"
    return f"{mark}({body})"
