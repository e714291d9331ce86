"""Pygments has no lexer for the Prisma Schema Language; this one covers what the lessons show."""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

SCALAR_TYPES = (
    "String", "Int", "BigInt", "Float", "Decimal", "Boolean", "DateTime", "Json", "Bytes", "Unsupported",
)


class PrismaLexer(RegexLexer):
    name = "Prisma"
    aliases = ["prisma"]
    filenames = ["*.prisma"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"///.*?$", String.Doc),
            (r"//.*?$", Comment.Single),
            (r"/\*", Comment.Multiline, "comment"),
            (
                r"(model|enum|type|view)(\s+)([A-Za-z_]\w*)",
                bygroups(Keyword.Declaration, Whitespace, Name.Class),
            ),
            (r"(datasource|generator)(\s+)([A-Za-z_]\w*)", bygroups(Keyword.Declaration, Whitespace, Name)),
            (r"@@?[A-Za-z_][\w.]*", Name.Decorator),
            (r"([A-Za-z_]\w*)(\s*)(\()", bygroups(Name.Function, Whitespace, Punctuation)),
            (words(SCALAR_TYPES, suffix=r"\b"), Keyword.Type),
            (r"(true|false|null)\b", Keyword.Constant),
            (r'"(\\\\|\\[^\\]|[^"\\])*"', String.Double),
            (r"-?\d+(\.\d+)?", Number),
            (r"([A-Za-z_]\w*)(\s*)(:)", bygroups(Name.Attribute, Whitespace, Punctuation)),
            (r"([A-Za-z_]\w*)(\s*)(=)", bygroups(Name.Attribute, Whitespace, Operator)),
            (r"[A-Za-z_]\w*", Name),
            (r"[?]|\[\]", Operator),
            (r"[{}()\[\],.=:]", Punctuation),
            (r".", Text),
        ],
        "comment": [
            (r"[^*]+", Comment.Multiline),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"\*", Comment.Multiline),
        ],
    }
