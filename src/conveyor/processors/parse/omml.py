"""Office Math (OMML, the equations of Word documents) as LaTeX.

Each OMML object maps to its LaTeX form: fractions, scripts, radicals, n-ary operators (sums,
integrals …), delimiters, functions, limits, accents, bars, group characters, boxes, equation arrays
and matrices. Math runs keep their text, with symbols spelled as LaTeX commands (π → ``\\pi``) and
LaTeX's special characters escaped. Anything unknown contributes its content, so no text is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from conveyor.processors.parse.ooxml import Element, local_name, text_of

MAX_DEPTH = 64
"""Deeper nesting than this is written as plain text."""

_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_VAL = f"{_M}val"
_SYMBOLS = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ϖ": r"\varpi", "ρ": r"\rho",
    "σ": r"\sigma", "ς": r"\varsigma", "τ": r"\tau", "υ": r"\upsilon", "φ": r"\varphi", "ϕ": r"\phi",
    "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta",
    "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi",
    "Ψ": r"\Psi", "Ω": r"\Omega", "∞": r"\infty", "±": r"\pm", "∓": r"\mp", "×": r"\times", "÷": r"\div",
    "⋅": r"\cdot", "∙": r"\cdot", "·": r"\cdot", "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx",
    "≡": r"\equiv", "∼": r"\sim", "≅": r"\cong", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg", "∈": r"\in",
    "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊃": r"\supset", "⊆": r"\subseteq", "⊇": r"\supseteq",
    "∪": r"\cup", "∩": r"\cap", "∧": r"\wedge", "∨": r"\vee", "¬": r"\neg", "∀": r"\forall",
    "∃": r"\exists", "∅": r"\emptyset", "∂": r"\partial", "∇": r"\nabla", "→": r"\rightarrow",
    "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow", "↦": r"\mapsto", "…": r"\ldots", "⋯": r"\cdots", "⋮": r"\vdots",
    "⋱": r"\ddots", "∠": r"\angle", "°": r"^{\circ}", "′": "'", "″": "''", "∘": r"\circ", "⊕": r"\oplus",
    "⊗": r"\otimes", "ℏ": r"\hbar", "ℓ": r"\ell", "ℜ": r"\Re", "ℑ": r"\Im", "ℵ": r"\aleph",
    "−": "-", "–": "-", "\u2061": "", "\u2062": "", "\u2063": "", "\u200b": "",
    "\\": r"\backslash", "{": r"\{", "}": r"\}", "%": r"\%", "#": r"\#", "$": r"\$",
}
_NARY = {"∑": r"\sum", "∏": r"\prod", "∐": r"\coprod", "∫": r"\int", "∬": r"\iint", "∭": r"\iiint",
         "∮": r"\oint", "∯": r"\oiint", "∰": r"\oiiint", "⋃": r"\bigcup", "⋂": r"\bigcap",
         "⋁": r"\bigvee", "⋀": r"\bigwedge", "⨁": r"\bigoplus", "⨂": r"\bigotimes"}
_ACCENTS = {"\u0302": r"\hat", "\u0303": r"\tilde", "\u0304": r"\bar", "\u0305": r"\bar", "\u0307": r"\dot",
            "\u0308": r"\ddot", "\u20d7": r"\vec", "\u0301": r"\acute", "\u0300": r"\grave",
            "\u0306": r"\breve", "\u030c": r"\check", "\u20db": r"\dddot"}
_DELIMITERS = {"": ".", "{": r"\{", "}": r"\}", "〈": r"\langle", "〉": r"\rangle", "⟨": r"\langle",
               "⟩": r"\rangle", "‖": r"\|", "⌊": r"\lfloor", "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil"}
_FUNCTIONS = frozenset({
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "coth",
    "log", "ln", "lg", "exp", "lim", "liminf", "limsup", "max", "min", "sup", "inf", "det", "dim", "gcd",
    "deg", "arg", "ker", "hom", "Pr",
})
_COMMAND_END = re.compile(r"\\[A-Za-z]+$")


def to_latex(math: Element) -> str:
    """The LaTeX of an ``m:oMath`` element (without ``$`` delimiters)."""
    return " ".join(_content(math, 0).split())


def _content(element: Element, depth: int) -> str:
    if depth > MAX_DEPTH:
        return _text(text_of(element))
    parts: list[str] = []
    for child in element:
        part = _node(child, depth + 1)
        if part and parts and _COMMAND_END.search(parts[-1]) and part[0].isalpha():
            parts.append(" ")  # keep "\pi r" from becoming "\pir"
        parts.append(part)
    return "".join(parts)


def _node(element: Element, depth: int) -> str:
    name = local_name(element)
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler(element, depth)
    if name.endswith("Pr"):  # properties: rPr, ctrlPr, fPr …
        return ""
    return _content(element, depth)


def _text(text: str) -> str:
    return "".join(_symbol(char) for char in text)


def _symbol(char: str) -> str:
    command = _SYMBOLS.get(char)
    if command is None:
        return char
    return command + " " if command[-1:].isalpha() else command


def _arg(element: Element, name: str, depth: int) -> str:
    child = _child(element, name)
    return "" if child is None else _content(child, depth).strip()


def _child(element: Element, name: str) -> Element | None:
    return next((child for child in element if local_name(child) == name), None)


def _setting(element: Element, name: str) -> Element | None:
    """Property ``name`` of the element, from its ``*Pr`` child."""
    properties = next((child for child in element if local_name(child).endswith("Pr")), None)
    return None if properties is None else _child(properties, name)


def _property(element: Element, name: str, default: str) -> str:
    found = _setting(element, name)
    return default if found is None else str(found.get(_VAL, default))


def _hidden(element: Element, name: str) -> bool:
    found = _setting(element, name)
    return found is not None and found.get(_VAL, "on") in ("on", "1", "true")


def _group(latex: str) -> str:
    """``latex`` as a script base: braced unless it is one character or one command."""
    stripped = latex.strip()
    if len(stripped) == 1 or re.fullmatch(r"\\[A-Za-z]+", stripped):
        return stripped
    return f"{{{stripped}}}"


def _run(element: Element, depth: int) -> str:
    return _text(text_of(element))


def _fraction(element: Element, depth: int) -> str:
    numerator, denominator = _arg(element, "num", depth), _arg(element, "den", depth)
    kind = _property(element, "type", "bar")
    if kind == "lin":
        return f"{_group(numerator)}/{_group(denominator)}"
    if kind == "noBar":
        return f"\\genfrac{{}}{{}}{{0pt}}{{}}{{{numerator}}}{{{denominator}}}"
    return f"\\frac{{{numerator}}}{{{denominator}}}"


def _superscript(element: Element, depth: int) -> str:
    return f"{_group(_arg(element, 'e', depth))}^{{{_arg(element, 'sup', depth)}}}"


def _subscript(element: Element, depth: int) -> str:
    return f"{_group(_arg(element, 'e', depth))}_{{{_arg(element, 'sub', depth)}}}"


def _sub_superscript(element: Element, depth: int) -> str:
    base = _group(_arg(element, "e", depth))
    return f"{base}_{{{_arg(element, 'sub', depth)}}}^{{{_arg(element, 'sup', depth)}}}"


def _prescript(element: Element, depth: int) -> str:
    lower, upper = _arg(element, "sub", depth), _arg(element, "sup", depth)
    scripts = (f"_{{{lower}}}" if lower else "") + (f"^{{{upper}}}" if upper else "")
    return f"{{}}{scripts}{_arg(element, 'e', depth)}" if scripts else _arg(element, "e", depth)


def _radical(element: Element, depth: int) -> str:
    degree = "" if _hidden(element, "degHide") else _arg(element, "deg", depth)
    body = _arg(element, "e", depth)
    return f"\\sqrt[{degree}]{{{body}}}" if degree else f"\\sqrt{{{body}}}"


def _nary(element: Element, depth: int) -> str:
    symbol = _property(element, "chr", "∫")
    latex = _NARY.get(symbol) or _text(symbol).strip()
    lower = "" if _hidden(element, "subHide") else _arg(element, "sub", depth)
    upper = "" if _hidden(element, "supHide") else _arg(element, "sup", depth)
    limits = (f"_{{{lower}}}" if lower else "") + (f"^{{{upper}}}" if upper else "")
    return f"{latex}{limits} {_arg(element, 'e', depth)}"


def _delimiter(element: Element, depth: int) -> str:
    begin, end = _property(element, "begChr", "("), _property(element, "endChr", ")")
    separator = _property(element, "sepChr", "|")
    inner = f" {_delimiter_char(separator)} ".join(
        _content(child, depth).strip() for child in element if local_name(child) == "e")
    return f"\\left{_delimiter_char(begin)}{inner}\\right{_delimiter_char(end)}"


def _delimiter_char(char: str) -> str:
    return _DELIMITERS.get(char, char)


def _function(element: Element, depth: int) -> str:
    name = _arg(element, "fName", depth)
    return f"{_operator(name)} {_arg(element, 'e', depth)}"


def _operator(name: str) -> str:
    """``\\sin`` for a known function name, ``\\operatorname{argmax}`` for another word, else as is."""
    if name in _FUNCTIONS:
        return f"\\{name}"
    if name.isalpha() and len(name) > 1:
        return f"\\operatorname{{{name}}}"
    return name


def _lower_limit(element: Element, depth: int) -> str:
    base = _arg(element, "e", depth)
    return f"{_group(_operator(base))}_{{{_arg(element, 'lim', depth)}}}"


def _upper_limit(element: Element, depth: int) -> str:
    return f"\\overset{{{_arg(element, 'lim', depth)}}}{{{_arg(element, 'e', depth)}}}"


def _accent(element: Element, depth: int) -> str:
    command = _ACCENTS.get(_property(element, "chr", "\u0302"), r"\hat")
    return f"{command}{{{_arg(element, 'e', depth)}}}"


def _bar(element: Element, depth: int) -> str:
    command = r"\overline" if _property(element, "pos", "bot") == "top" else r"\underline"
    return f"{command}{{{_arg(element, 'e', depth)}}}"


def _group_character(element: Element, depth: int) -> str:
    body = _arg(element, "e", depth)
    symbol = _property(element, "chr", "⏟")
    if symbol == "⏟":
        return f"\\underbrace{{{body}}}"
    if symbol == "⏞":
        return f"\\overbrace{{{body}}}"
    command = r"\overset" if _property(element, "pos", "bot") == "top" else r"\underset"
    return f"{command}{{{_text(symbol).strip()}}}{{{body}}}"


def _border_box(element: Element, depth: int) -> str:
    return f"\\boxed{{{_arg(element, 'e', depth)}}}"


def _equation_array(element: Element, depth: int) -> str:
    rows = [_content(child, depth).strip() for child in element if local_name(child) == "e"]
    if len(rows) == 1:
        return rows[0]
    return "\\begin{array}{l}" + r" \\ ".join(rows) + "\\end{array}"


def _matrix(element: Element, depth: int) -> str:
    rows = [" & ".join(_content(cell, depth).strip() for cell in row if local_name(cell) == "e")
            for row in element if local_name(row) == "mr"]
    return "\\begin{matrix}" + r" \\ ".join(rows) + "\\end{matrix}"


_HANDLERS: dict[str, Callable[[Element, int], str]] = {
    "r": _run, "f": _fraction, "sSup": _superscript, "sSub": _subscript, "sSubSup": _sub_superscript,
    "sPre": _prescript, "rad": _radical, "nary": _nary, "d": _delimiter, "func": _function,
    "limLow": _lower_limit, "limUpp": _upper_limit, "acc": _accent, "bar": _bar, "groupChr": _group_character,
    "borderBox": _border_box, "eqArr": _equation_array, "m": _matrix,
}
