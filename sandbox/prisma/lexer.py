"""Tokens of the Prisma schema language, one line at a time (the language is line-oriented:
a field, an attribute list or a property never spans lines)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.prisma.errors import Diagnostic, Span

_TOKEN = re.compile(
    r"""
    (?P<doc>///[^\n]*)
  | (?P<comment>//[^\n]*)
  | (?P<space>[ \t\r\f\v\ufeff]+)
  | (?P<number>-?\d+(?:\.\d+)?(?![\w-]))
  | (?P<ident>[A-Za-z0-9_][A-Za-z0-9_-]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<unterminated>"(?:[^"\\\n]|\\.)*\\?$)
  | (?P<atat>@@)
  | (?P<punct>[@{}()\[\],:=?.])
  | (?P<other>.)
    """,
    re.VERBOSE,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident, number, string, doc, comment, atat, or the punctuation character itself
    text: str
    span: Span
    value: str = ""  # a string's content after unescaping


def tokenize_line(text: str, line: int, diagnostics: list[Diagnostic]) -> list[Token]:
    tokens: list[Token] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        span = Span(line, m.start() + 1, line, m.end() + 1)
        if kind == "space":
            continue
        if kind == "unterminated":
            diagnostics.append(
                Diagnostic.at(span, 'This string is not closed: add a `"` before the end of the line.')
            )
            continue
        if kind == "other":
            diagnostics.append(Diagnostic.at(span, f"Unexpected character `{m.group()}`."))
            continue
        value = _unescape(m.group()[1:-1]) if kind == "string" else ""
        tokens.append(Token(m.group() if kind == "punct" else kind, m.group(), span, value))
    return tokens


def _unescape(body: str) -> str:
    def one(m: re.Match[str]) -> str:
        ch = m.group(1)
        if ch.startswith("u"):
            return chr(int(ch[1:], 16))
        return _ESCAPES.get(ch, ch)

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|.)", one, body)
