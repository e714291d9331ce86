"""Prisma's default constraint and index names, truncated to PostgreSQL's 63-byte identifiers the
way Prisma does it: the `{table}_{columns}` part is cut so that the suffix always survives."""

from __future__ import annotations

MAX_IDENTIFIER = 63


def _truncate(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")  # never split a multi-byte character


def _named(table: str, columns: list[str], suffix: str) -> str:
    base = f"{table}_{'_'.join(columns)}" if columns else table
    return _truncate(base, MAX_IDENTIFIER - len(suffix)) + suffix


def primary_key_name(table: str) -> str:
    return _named(table, [], "_pkey")


def unique_name(table: str, columns: list[str]) -> str:
    return _named(table, columns, "_key")


def index_name(table: str, columns: list[str]) -> str:
    return _named(table, columns, "_idx")


def foreign_key_name(table: str, columns: list[str]) -> str:
    return _named(table, columns, "_fkey")


def join_table_names(table: str) -> dict[str, str]:
    """Names inside an implicit many-to-many table `_AToB` (Prisma's fixed legacy spelling)."""
    return {
        "pkey": _truncate(f"{table}_AB_pkey", MAX_IDENTIFIER),
        "index": _truncate(f"{table}_B_index", MAX_IDENTIFIER),
        "a_fkey": _truncate(f"{table}_A_fkey", MAX_IDENTIFIER),
        "b_fkey": _truncate(f"{table}_B_fkey", MAX_IDENTIFIER),
    }
