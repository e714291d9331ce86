"""Column defaults as values, compared the way Prisma's schema engine compares them.

PostgreSQL gives a default back in its own spelling (`'x'::text`, `ARRAY[(1)::double precision]`,
`'2020-01-01 00:00:00'::timestamp without time zone`), Prisma writes it in another (`'x'`,
`ARRAY[1]::DOUBLE PRECISION[]`, `'2020-01-01 00:00:00 +00:00'`). Prisma's describer reads the catalog
text with one small grammar per type family, and what it cannot read stays a database-generated
expression; its differ then compares values (1 = 1.0, JSON by content, DateTime values never) rather
than text. Both sides go through the same grammar here, so a database built from a schema compares
equal to that schema exactly where it does for Prisma (checked against Prisma's engine: see
tests/fixtures/oracle/defaults_roundtrip and defaults_prisma_redoes).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, TypeAlias

from sandbox.migrate.sqlschema import Column, ColumnDefault

FAMILIES = {
    "INTEGER": "int", "SMALLINT": "int", "BIGINT": "int", "OID": "int",
    "DOUBLE PRECISION": "float", "REAL": "float", "DECIMAL": "float", "MONEY": "float",
    "BOOLEAN": "bool", "TEXT": "string", "VARCHAR": "string", "CHAR": "string", "CITEXT": "string",
    "INET": "string", "XML": "string", "BIT": "string", "VARBIT": "string",
    "JSON": "json", "JSONB": "json", "BYTEA": "bytes",
    "TIMESTAMP": "datetime", "TIMESTAMPTZ": "datetime", "DATE": "datetime", "TIME": "datetime",
    "TIMETZ": "datetime",
}  # fmt: skip
# A parsed default: (family, payload), e.g. ("int", 1), ("float", Decimal), ("list", (values...)),
# ("sequence", name); or one of the one-word markers below.
Value: TypeAlias = tuple[Any, ...]
# Prisma never compares DateTime values (a literal on a DateTime column matches any other default).
DATETIME = ("datetime",)
NOW = ("now",)

_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<cstr>[Ee]'(?:\\.|[^\\'])*')|(?P<str>'(?:[^']|'')*')|(?P<qid>"(?:[^"]|"")*")
    |(?P<cast>::)|(?P<digits>\d+)|(?P<ident>[A-Za-z][A-Za-z0-9_-]*)|(?P<punct>[,()\[\]{}.-])|(?P<other>.)""",
    re.X | re.S,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "a": "\a", "v": "\v"}
_SEQUENCE_NAME = re.compile(r'^(?:(?:"(?:[^"]|"")*"|[^."]+)\.)?("(?:[^"]|"")*"|[^."]+)$')


def family(column: Column) -> str:
    if column.is_enum:
        return "enum"
    return FAMILIES.get(column.type.split("(")[0], "other")


def from_catalog(expr: str | None, column: Column) -> ColumnDefault | None:
    """A catalog default (pg_get_expr) as Prisma's describer reads it; unreadable -> `expression`."""
    if expr is None or expr.strip().upper().startswith("NULL"):
        return None
    parser = _Parser(expr)
    value = parser.list(family(column)) if column.is_array else parser.scalar(family(column))
    if value is None or (value[0] == "list" and value[1] and column.type == "BIGINT"):
        # Prisma reads BigInt list items as Int values, which its list comparison never equates with
        # the schema's BigInt ones: such a default differs from every schema default, like an expression.
        return ColumnDefault("expression", expr)
    if value is NOW:
        return ColumnDefault("now")
    if value[0] == "sequence":
        return ColumnDefault("sequence", value[1])
    return ColumnDefault("literal", _render(value, column))


def defaults_match(old: Column, new: Column) -> bool:
    """Prisma's `defaults_match` for two defaults that are not sequences (those are compared apart)."""
    a, b = old.default, new.default
    if a is None or b is None:
        return a is None and b is None
    kinds = {a.kind, b.kind}
    if kinds == {"literal", "expression"} and "datetime" in (family(old), family(new)):
        literal_column = old if a.kind == "literal" else new
        if literal_column.is_array:
            return True
    if "literal" in kinds:
        va = value_of(a, old) if a.kind == "literal" else None
        vb = value_of(b, new) if b.kind == "literal" else None
        if va is not None and vb is not None:
            return _values_match(va, vb)
        return DATETIME in (va, vb)
    if kinds == {"now"}:
        return True
    if kinds == {"expression"}:
        return a.sql.encode().lower() == b.sql.encode().lower()
    return False


def value_of(default: ColumnDefault, column: Column) -> Value:
    """The value of a `literal` default, from Prisma's rendering or the catalog's (same grammar)."""
    kind = family(column)
    if kind == "datetime" and not column.is_array:
        return DATETIME
    parser = _Parser(default.sql)
    value = parser.list(kind, datetimes=True) if column.is_array else parser.scalar(kind)
    return value if value is not None and value is not NOW else ("raw", default.sql)


def _values_match(a: Value, b: Value) -> bool:
    if DATETIME in (a, b):
        return True
    if a[0] == b[0] == "list":
        return len(a[1]) == len(b[1]) and all(_values_match(x, y) for x, y in zip(a[1], b[1], strict=True))
    if "json" in (a[0], b[0]) and {a[0], b[0]} <= {"json", "string"}:
        try:
            # serde_json's equality: 1 and 1.0 differ, true and 1 differ, key order does not matter.
            return bool(_json_text(a[1]) == _json_text(b[1]))
        except ValueError:
            return True  # Prisma does not flag what it cannot parse
    return a == b


def _json_text(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True)


def _render(value: Value, column: Column) -> str:
    """A value spelled the way Prisma writes it."""
    if value[0] == "list":
        element = column.type
        if column.is_enum:
            element = f'"{column.type}"'
            if column.enum_schema is not None:
                element = f'"{column.enum_schema}".{element}'

        return f"ARRAY[{', '.join(_render(v, column) for v in value[1])}]::{element}[]"
    if value[0] in ("string", "json"):
        text: str = value[1]
        return "'" + text.replace("'", "''") + "'"
    if value[0] == "bytes":
        data: bytes = value[1]
        return "'\\x" + data.hex() + "'"
    if value[0] == "bool":
        return "true" if value[1] else "false"
    return str(value[1])


class _Fail(Exception):
    pass


class _Parser:
    """Prisma's default-value grammar for PostgreSQL, one method per type family."""

    def __init__(self, text: str):
        self.tokens = [(m.lastgroup or "", m.group()) for m in _TOKEN.finditer(text)]
        self.pos = 0

    def scalar(self, kind: str) -> Value | None:
        parse = getattr(self, "_" + kind, None)
        try:
            value = parse() if parse is not None else None
        except _Fail:
            return None
        # Prisma's check lets one trailing token through; kept so the same texts parse.
        return value if self.pos >= len(self.tokens) - 1 else None

    def list(self, kind: str, datetimes: bool = False) -> Value | None:
        """`ARRAY[...]` with an optional cast; `datetimes` reads Prisma's DateTime items as DATETIME."""
        element = self._datetime_item if datetimes and kind == "datetime" else getattr(self, "_" + kind, None)
        if element is None:
            return None
        try:
            if self._peek() == "(":
                self._next()
            if self._expect("ident").lower() != "array":
                raise _Fail
            self._expect("[")
            items: list[Value] = []
            while True:
                if self._peek() is None:
                    raise _Fail
                if self._peek() == "]":
                    self._next()
                    break
                items.append(element())
                separator = self._next()
                if separator == "]":
                    break
                if separator != ",":
                    raise _Fail
            self._cast()
        except _Fail:
            return None
        if any(item is NOW or item[0] == "sequence" for item in items):
            return None
        return ("list", tuple(items))

    # tokens

    def _skip_ws(self) -> None:
        while self.pos < len(self.tokens) and self.tokens[self.pos][0] == "ws":
            self.pos += 1

    def _peek(self) -> str | None:
        """The next token's kind (punctuation and `::` by their text)."""
        self._skip_ws()
        if self.pos >= len(self.tokens):
            return None
        kind, text = self.tokens[self.pos]
        return text if kind in ("punct", "cast") else kind

    def _next(self) -> str:
        kind = self._peek()
        if kind is None:
            raise _Fail
        self.pos += 1
        return kind

    def _expect(self, kind: str) -> str:
        if self._peek() != kind:
            raise _Fail
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def _cast(self) -> None:
        """`::type name(args)[]`, if present."""
        if self._peek() != "::":
            return
        self._next()
        while self._peek() in ("qid", "ident", "."):
            self._next()
        if self._peek() == "(":
            while self._next() != ")":
                pass
        if self._peek() == "[":
            self._next()
            self._expect("]")

    def _string_value(self) -> str:
        kind = self._peek()
        if kind == "str":
            text = self._expect("str")[1:-1].replace("''", "'")
        elif kind == "cstr":
            text = _unescape(self._expect("cstr")[2:-1])
        else:
            raise _Fail
        self._cast()
        return text

    # families

    def _string(self) -> Value:
        return ("string", self._string_value())

    def _json(self) -> Value:
        return ("json", self._string_value())

    def _enum(self) -> Value:
        if self._peek() == "ident":
            text = self._expect("ident")
            self._cast()
            return ("string", text)
        return ("string", self._string_value())

    def _int(self) -> Value:
        kind = self._peek()
        if kind == "digits":
            return ("int", int(self._expect("digits")))
        if kind == "-":
            self._next()
            return ("int", -int(self._expect("digits")))
        if kind in ("str", "cstr"):
            try:
                return ("int", int(self._string_value()))
            except ValueError:
                raise _Fail from None
        if kind == "ident" and self._expect("ident").lower() == "nextval":
            return self._nextval()
        raise _Fail

    def _nextval(self) -> Value:
        self._expect("(")
        if self._peek() == "(":
            self._next()
        match = _SEQUENCE_NAME.match(self._string_value())
        if match is None:
            raise _Fail
        name = match.group(1)
        name = name[1:-1].replace('""', '"') if name.startswith('"') else name
        while self._next() != ")":
            pass
        self._cast()
        if self._peek() == ")":
            self._next()
        self._cast()
        return ("sequence", name)

    def _float(self) -> Value:
        if self._peek() in ("str", "cstr"):
            inner = _Parser(self._string_value()).scalar("float")
            if inner is None:
                raise _Fail
            return inner
        braced = self._peek() == "("
        if braced:
            self._next()
        sign = "-" if self._peek() == "-" else ""
        if sign:
            self._next()
        number = sign + self._expect("digits")
        if self._peek() == ".":
            self._next()
            number += "." + self._expect("digits")
        if braced:
            self._expect(")")
        self._cast()
        return ("float", Decimal(number))

    def _bool(self) -> Value:
        word = self._expect("ident").lower()
        if word not in ("t", "true", "f", "false"):
            raise _Fail
        return ("bool", word.startswith("t"))

    def _datetime(self) -> Value:
        name = self._expect("ident").lower()
        if self._peek() == "(":
            self._next()
            self._expect(")")
        self._cast()
        if name not in ("now", "current_timestamp"):
            raise _Fail
        return NOW

    def _datetime_item(self) -> Value:
        self._string_value()
        return DATETIME

    def _bytes(self) -> Value:
        text = self._string_value()
        if not text.startswith("\\x") or not text.isascii():
            raise _Fail
        try:
            return ("bytes", bytes.fromhex(text[2:]))
        except ValueError:
            raise _Fail from None


def _unescape(body: str) -> str:
    """The body of an `E'...'` string."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU":
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, code)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", one, body, flags=re.S)
