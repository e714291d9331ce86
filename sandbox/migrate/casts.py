"""How risky it is to change a column from one PostgreSQL type to another, as Prisma judges it.

`safe` and `risky` become `ALTER COLUMN ... SET DATA TYPE` (risky ones with a warning); `not_castable`
becomes a drop and re-add of the column. The rules follow Prisma's postgres schema differ.
"""

from __future__ import annotations

import re

from sandbox.migrate.sqlschema import Column
from sandbox.migrate.steps import TypeChange

_TYPE = re.compile(r"^([A-Z ]+?)(?:\((\d+)(?:,\s*(\d+))?\))?$")

# Rendered type name -> Prisma's native type name (used in warnings: "cast from `Text` to `VarChar(50)`").
DISPLAY = {
    "TEXT": "Text", "VARCHAR": "VarChar", "CHAR": "Char", "INTEGER": "Integer", "BIGINT": "BigInt",
    "SMALLINT": "SmallInt", "DOUBLE PRECISION": "DoublePrecision", "REAL": "Real", "DECIMAL": "Decimal",
    "BOOLEAN": "Boolean", "TIMESTAMP": "Timestamp", "TIMESTAMPTZ": "Timestamptz", "DATE": "Date",
    "TIME": "Time",
    "TIMETZ": "Timetz", "UUID": "Uuid", "JSONB": "JsonB", "JSON": "Json", "BYTEA": "ByteA", "INET": "Inet",
    "CITEXT": "Citext", "XML": "Xml", "BIT": "Bit", "VARBIT": "VarBit", "MONEY": "Money", "OID": "Oid",
}  # fmt: skip


def parse(sql_type: str) -> tuple[str, tuple[int, ...]]:
    match = _TYPE.match(sql_type)
    if not match:
        return sql_type, ()
    args = tuple(int(a) for a in match.group(2, 3) if a is not None)
    return match.group(1), args


def display(sql_type: str) -> str:
    if not known(sql_type):
        return f'Unsupported("{sql_type}")'
    name, args = parse(sql_type)
    shown = DISPLAY.get(name, sql_type)
    return f"{shown}({','.join(map(str, args))})" if args and name in DISPLAY else shown


def column_type_change(before: Column, after: Column) -> TypeChange | None:
    if before.is_enum or after.is_enum:
        named = (before.enum_schema, before.type) == (after.enum_schema, after.type)
        same = before.is_enum and after.is_enum and named
        return None if same and before.is_array == after.is_array else "not_castable"
    if before.is_array != after.is_array:
        name, args = parse(after.type)
        if before.is_array and not after.is_array:
            if name == "TEXT" or (name == "VARCHAR" and not args):
                return "safe"
            if name in ("VARCHAR", "CHAR"):
                return "risky"
        return "not_castable"
    if _spelling(before.type) == _spelling(after.type):
        return None  # an Unsupported("…") type reads back in the catalog's own case and spacing
    if not (known(before.type) and known(after.type)):
        # Prisma's postgres differ: between two Unsupported("…") types no change at all (it compares the
        # old column's type with itself, a Prisma bug kept: the column keeps its old type), between an
        # Unsupported and a known type a risky cast (ALTER COLUMN … SET DATA TYPE, as it writes it).
        return None if not known(before.type) and not known(after.type) else "risky"
    return _native_change(parse(before.type), parse(after.type))


def known(sql_type: str) -> bool:
    """A type Prisma knows (a scalar's or an `@db.` native type), not an `Unsupported("…")` one."""
    return parse(sql_type)[0] in DISPLAY


def _spelling(sql_type: str) -> str:
    return "".join(sql_type.split()).upper()


def _len(args: tuple[int, ...]) -> int | None:
    return args[0] if args else None


def _native_change(prev: tuple[str, tuple[int, ...]], nxt: tuple[str, tuple[int, ...]]) -> TypeChange | None:  # noqa: C901
    p, pa = prev
    n, na = nxt
    text_like = n in ("TEXT", "VARCHAR", "CHAR")
    n_len = _len(na)
    if p in ("SMALLINT", "INTEGER", "BIGINT"):
        digits = {"SMALLINT": (3, 4), "INTEGER": (10, 11), "BIGINT": (19, 20)}[p]
        widen = {"SMALLINT": ("INTEGER", "BIGINT"), "INTEGER": ("BIGINT",), "BIGINT": ()}[p]
        if n in widen or n in ("REAL", "DOUBLE PRECISION", "TEXT"):
            return "safe"
        if n in ("SMALLINT", "INTEGER", "BIGINT"):
            return "risky"
        if n == "DECIMAL":
            return "risky" if na and na[0] - (na[1] if len(na) > 1 else 0) < digits[0] else "safe"
        if n in ("VARCHAR", "CHAR"):
            return (
                "risky"
                if (n_len is not None and n_len < digits[1]) or (n_len is None and n == "CHAR")
                else "safe"
            )
        return "not_castable"
    if p == "DECIMAL":
        return _decimal_change(pa, n, na)
    if p in ("REAL", "DOUBLE PRECISION"):
        if n in ("SMALLINT", "INTEGER", "BIGINT", "DECIMAL") or (p, n) == ("DOUBLE PRECISION", "REAL"):
            return "risky"
        if n in ("REAL", "DOUBLE PRECISION", "TEXT"):
            return "safe"
        if n in ("VARCHAR", "CHAR"):
            limit = 47 if p == "REAL" else 317
            return (
                "risky"
                if (n_len is not None and n_len < limit) or (n_len is None and n == "CHAR")
                else "safe"
            )
        return "not_castable"
    if p in ("VARCHAR", "CHAR"):
        if n == "TEXT":
            return "safe"
        if n in ("VARCHAR", "CHAR"):
            old = _len(pa)
            if p == "CHAR" and old is None:
                return "safe"
            if old is None and n_len is None:
                return "risky" if n == "CHAR" else "safe"
            if old is None:
                return "risky"
            if n_len is None:
                return "risky" if n == "CHAR" and old != 1 else "safe"
            return "risky" if old > n_len else "safe"
        return "not_castable"
    if p == "TEXT":
        if n in ("TEXT", "CITEXT") or (n == "VARCHAR" and not na):
            return "safe"
        return "risky" if n in ("VARCHAR", "CHAR") else "not_castable"
    if p in ("TIMESTAMP", "TIMESTAMPTZ", "DATE", "TIME", "TIMETZ"):
        return _temporal_change(p, pa, n, na)
    if p in ("JSON", "JSONB"):
        if n in ("TEXT", "JSON", "JSONB") or (n == "VARCHAR" and not na):
            return "safe"
        return "risky" if text_like else "not_castable"
    if p == "BOOLEAN":
        if n in ("TEXT", "VARCHAR"):
            return "safe"
        if n == "CHAR" and n_len is not None and n_len > 3:
            return "safe" if n_len > 4 else "risky"
        return "not_castable"
    if p == "UUID":
        if n == "TEXT" or (n == "VARCHAR" and n_len is None):
            return "safe"
        return "safe" if text_like and n_len is not None and n_len > 31 else "not_castable"
    if p == "BYTEA":
        if n == "TEXT" or (n == "VARCHAR" and n_len is None):
            return "safe"
        return "risky" if text_like and n_len is not None and n_len > 2 else "not_castable"
    if p == "XML":  # checked against Prisma's engine: only to text types, anything else is re-created
        if n == "TEXT" or (n == "VARCHAR" and not na):
            return "safe"
        return "risky" if n in ("VARCHAR", "CHAR") else "not_castable"
    if p in ("INET", "CITEXT"):
        if n in ("TEXT", "VARCHAR", "CITEXT"):
            return "safe"
        return "not_castable" if p == "INET" else "risky"
    return "risky"


def _decimal_change(pa: tuple[int, ...], n: str, na: tuple[int, ...]) -> TypeChange | None:
    scale = pa[1] if len(pa) > 1 else 0
    if n in ("SMALLINT", "INTEGER", "BIGINT"):
        limit = {"SMALLINT": 2, "INTEGER": 9, "BIGINT": 18}[n]
        return "risky" if not pa or scale > 0 or pa[0] > limit else "safe"
    if n == "DECIMAL":
        if pa and not na:
            return "safe"
        if not pa and na:
            return "risky"
        new_scale = na[1] if len(na) > 1 else 0
        return "risky" if pa[0] - scale > na[0] - new_scale or scale > new_scale else "safe"
    if n in ("REAL", "DOUBLE PRECISION"):
        return "risky"
    if n in ("VARCHAR", "CHAR"):
        length = _len(na)
        if length is not None and pa:
            return "risky" if pa[0] + (2 if scale > 0 else 1) > length else "safe"
        if length is not None:
            return "risky" if length < 131073 else "safe"
        return "risky" if n == "CHAR" else "safe"
    return "safe" if n == "TEXT" else "not_castable"


def _temporal_change(p: str, pa: tuple[int, ...], n: str, na: tuple[int, ...]) -> TypeChange | None:
    min_len = {"TIMESTAMP": 22, "TIMESTAMPTZ": 27, "DATE": 27, "TIME": 13, "TIMETZ": 18}[p]
    if n == "TEXT" or (n == "VARCHAR" and not na):
        return "safe"
    if n in ("VARCHAR", "CHAR"):
        return "safe" if na and na[0] > min_len else "not_castable"
    if n == p and (not na or not pa or pa == na):
        return None
    targets = {
        "TIMESTAMP": ("TIMESTAMP", "TIMESTAMPTZ", "DATE", "TIME", "TIMETZ"),
        "TIMESTAMPTZ": ("TIMESTAMP", "TIMESTAMPTZ", "DATE", "TIME", "TIMETZ"),
        "DATE": ("TIMESTAMP", "TIMESTAMPTZ"),
        "TIME": ("TIMETZ",),
        "TIMETZ": ("TIMETZ", "TIME"),
    }[p]
    return "safe" if n in targets else "not_castable"
