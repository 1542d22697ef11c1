"""Office Math (OMML) to LaTeX."""

from __future__ import annotations

import pytest
from lxml import etree

from conveyor.processors.parse.omml import MAX_DEPTH, to_latex

_NS = 'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"'


def _latex(body: str) -> str:
    return to_latex(etree.fromstring(f"<m:oMath {_NS}>{body}</m:oMath>"))


def _run(text: str) -> str:
    return f"<m:r><m:t>{text}</m:t></m:r>"


@pytest.mark.parametrize(("body", "latex"), [
    (_run("A=πr") + f"<m:sSup><m:e>{_run('r')}</m:e><m:sup>{_run('2')}</m:sup></m:sSup>", r"A=\pi rr^{2}"),
    (f"<m:f><m:num>{_run('a+1')}</m:num><m:den>{_run('b')}</m:den></m:f>", r"\frac{a+1}{b}"),
    (f"<m:sSup><m:e><m:f><m:num>{_run('x')}</m:num><m:den>{_run('v')}</m:den></m:f></m:e>"
     f"<m:sup>{_run('2')}</m:sup></m:sSup>", r"{\frac{x}{v}}^{2}"),
    (f'<m:nary><m:naryPr><m:chr m:val="∑"/></m:naryPr><m:sub>{_run("n=1")}</m:sub><m:sup>{_run("∞")}</m:sup>'
     f"<m:e>{_run('a')}</m:e></m:nary>", r"\sum_{n=1}^{\infty} a"),
    (f"<m:rad><m:radPr><m:degHide/></m:radPr><m:deg/><m:e>{_run('x')}</m:e></m:rad>", r"\sqrt{x}"),
    (f"<m:d><m:e>{_run('x')}</m:e></m:d>", r"\left(x\right)"),
    (f'<m:func><m:fName><m:r><m:rPr><m:sty m:val="p"/></m:rPr><m:t>log</m:t></m:r></m:fName>'
     f"<m:e>{_run('x')}</m:e></m:func>", r"\log x"),
    (_run("x – y^2 {50%}"), r"x - y^2 \{50\%\}"),
])
def test_omml_objects(body: str, latex: str) -> None:
    assert _latex(body) == latex


def test_too_deep_nesting_keeps_the_text() -> None:
    depth = MAX_DEPTH + 20  # elements nested twice as deep; lxml itself stops at 256
    latex = _latex("<m:d><m:e>" * depth + _run("deep") + "</m:e></m:d>" * depth)
    assert "deep" in latex
    assert latex.count(r"\left(") < depth
