"""Find the statements of a migration that would destroy data on a given database: a dropped table
that has rows, a dropped column that has non-null values. This is what Prisma's data-loss warnings
count, measured on the grading data instead of trusted from a comment that a learner may edit."""

from __future__ import annotations

import re

import psycopg

IDENT = r'("(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
DROP_TABLE = re.compile(rf"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:public\.)?{IDENT}", re.I)
ALTER_TABLE = re.compile(rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?:public\.)?{IDENT}", re.I)
DROP_COLUMN = re.compile(rf"\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?{IDENT}", re.I)
NOT_COLUMNS = {"constraint", "default", "not", "identity", "expression"}


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def statements(sql: str) -> list[str]:
    """Split on `;` outside comments and string literals (enough for migration files)."""
    text = re.sub(r"/\*.*?\*/|--[^\n]*", " ", sql, flags=re.DOTALL)
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _count(conn: psycopg.Connection, query: str) -> int:
    try:
        with conn.transaction(force_rollback=True):
            row = conn.execute(query).fetchone()
    except psycopg.Error:
        return 0  # the migration itself will report a missing table or column
    return int(row[0]) if row else 0


def data_loss(conn: psycopg.Connection, migration_name: str, sql: str) -> list[str]:
    found = []
    for stmt in statements(sql):
        if m := DROP_TABLE.match(stmt):
            table = _unquote(m[1])
            rows = _count(conn, f"SELECT count(*) FROM {_quote(table)}")
            if rows:
                found.append(f"{migration_name} drops the table `{table}`, which holds {rows} rows")
        elif m := ALTER_TABLE.match(stmt):
            table = _unquote(m[1])
            for col in DROP_COLUMN.finditer(stmt[m.end():]):
                column = _unquote(col[1])
                if column.lower() in NOT_COLUMNS and not col[1].startswith('"'):
                    continue
                rows = _count(
                    conn, f"SELECT count({_quote(column)}) FROM {_quote(table)}"
                )
                if rows:
                    found.append(
                        f"{migration_name} drops the column `{column}` of `{table}`, "
                        f"which still holds {rows} non-null values"
                    )
    return found
