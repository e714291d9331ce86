"""What the data is, read from the database: one fingerprint per column (its non-null count and the sum
of its values' 64-bit hashes, so row order does not matter), keyed by the column's identity (table oid,
attnum), which a rename keeps.

Comparing fingerprints before and after the replay tells, without reading any SQL, whether a column's
values are still somewhere: in the same column (renamed or not, retyped to a type that prints the same),
or copied into another column (add + copy + drop). Values print with `format('%s')`, the type's own
output function: no cast a learner could have created is ever called.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

COLUMNS_SQL = """
SELECT c.oid, c.relname, a.attnum, a.attname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
WHERE n.nspname OPERATOR(pg_catalog.=) 'public'
  AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog."char"[])
  AND c.relname OPERATOR(pg_catalog.<>) '_prisma_migrations'
  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
ORDER BY c.oid, a.attnum
"""
# A sum of 64-bit hashes: independent of row order without sorting (10 000 rows: a few ms per column).
DIGEST = "pg_catalog.sum(pg_catalog.hashtextextended({v}, 0))::pg_catalog.text"


@dataclass(frozen=True)
class Column:
    table_oid: int
    table: str
    attnum: int
    name: str
    rows: int  # rows of the table
    values: int  # non-null values
    digest: str  # sum of the non-null values' 64-bit hashes ('' when none)


Fingerprints = dict[tuple[int, int], Column]


def fingerprints(conn: psycopg.Connection) -> Fingerprints:
    """Every column of every table of `public` (on a read-only session with a fixed search path)."""
    tables: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for oid, table, attnum, name in conn.execute(COLUMNS_SQL):
        tables.setdefault(oid, (table, []))[1].append((attnum, name))
    found: Fingerprints = {}
    for oid, (table, columns) in tables.items():
        parts: list[sql.Composable] = [sql.SQL("pg_catalog.count(*)")]
        for _, name in columns:
            value = sql.SQL("pg_catalog.format('%s', {})").format(sql.Identifier(name))
            parts.append(sql.SQL("pg_catalog.count({})").format(sql.Identifier(name)))
            parts.append(sql.SQL(DIGEST).format(v=value))
        query = sql.SQL("SELECT {} FROM {}.{}").format(
            sql.SQL(", ").join(parts), sql.Identifier("public"), sql.Identifier(table)
        )
        row = conn.execute(query).fetchone()
        assert row is not None
        for i, (attnum, name) in enumerate(columns):
            values, digest = row[1 + 2 * i], row[2 + 2 * i] or ""
            found[(oid, attnum)] = Column(oid, table, attnum, name, row[0], values, digest)
    return found


def kept_in(before: Column, after: Fingerprints) -> Column | None:
    """Where `before`'s values are now: the same column (by identity) when its values are unchanged,
    else any column holding exactly the same values (a copy); None when they are nowhere."""
    same = after.get((before.table_oid, before.attnum))
    if same is not None and same.digest == before.digest and same.values == before.values:
        return same
    copies = [c for c in after.values() if c.digest == before.digest and c.values == before.values]
    in_table = [c for c in copies if c.table_oid == before.table_oid]
    found = in_table or copies
    return found[0] if found else None


def table_rows(found: Fingerprints, table_oid: int) -> int | None:
    return next((c.rows for c in found.values() if c.table_oid == table_oid), None)


def by_name(found: Fingerprints, table: str) -> list[Column]:
    return [c for c in found.values() if c.table == table]
