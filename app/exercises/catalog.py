"""Small catalog queries the schema checks ask a database (schema `public`)."""

from __future__ import annotations

import re

import psycopg

# Prisma's spelling of a type -> PostgreSQL's format_type() spelling.
TYPE_ALIASES = {
    "text": "text",
    "integer": "integer",
    "int": "integer",
    "serial": "integer",
    "bigint": "bigint",
    "bigserial": "bigint",
    "double precision": "double precision",
    "boolean": "boolean",
    "jsonb": "jsonb",
    "bytea": "bytea",
    "uuid": "uuid",
}


def normalize_type(spelling: str) -> str:
    t = spelling.strip().strip('"').lower()
    if t in TYPE_ALIASES:
        return TYPE_ALIASES[t]
    if m := re.fullmatch(r"(?:varchar|character varying)\s*\((\d+)\)", t):
        return f"character varying({m[1]})"
    if m := re.fullmatch(r"timestamp\s*\((\d)\)(?: without time zone)?", t):
        return f"timestamp({m[1]}) without time zone"
    if m := re.fullmatch(r"(?:timestamptz\s*\((\d)\)|timestamp\s*\((\d)\) with time zone)", t):
        return f"timestamp({m[1] or m[2]}) with time zone"
    if m := re.fullmatch(r"(?:decimal|numeric)\s*\((\d+),\s*(\d+)\)", t):
        return f"numeric({m[1]},{m[2]})"
    return t


def normalize_default(expr: str | None) -> str | None:
    if expr is None:
        return None
    e = re.sub(r"::[a-z_ ]+(\(\d+\))?(\[\])?", "", expr.strip(), flags=re.IGNORECASE)
    if e.lower().startswith("nextval("):
        return "autoincrement()"
    return e.strip().lower()


def table_exists(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = %s", (table,)
    ).fetchone()
    return row is not None


def column_info(conn: psycopg.Connection, table: str, column: str) -> dict | None:
    row = conn.execute(
        """SELECT format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE c.relname = %s AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped""",
        (table, column),
    ).fetchone()
    if row is None:
        return None
    return {"type": row[0], "nullable": row[1], "default": row[2]}


def indexes(conn: psycopg.Connection, table: str) -> list[dict]:
    rows = conn.execute(
        """SELECT i.relname, x.indisunique, x.indisvalid,
                  array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, pos)
                        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                        ORDER BY k.pos)
           FROM pg_index x
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
           WHERE t.relname = %s""",
        (table,),
    ).fetchall()
    return [{"name": r[0], "unique": r[1], "valid": r[2], "columns": list(r[3])} for r in rows]


def foreign_keys(conn: psycopg.Connection, table: str) -> list[dict]:
    rows = conn.execute(
        """SELECT c.conname, rt.relname, c.confdeltype, c.confupdtype,
                  array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, p)
                        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.p),
                  array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, p)
                        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.p)
           FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
           JOIN pg_class rt ON rt.oid = c.confrelid
           WHERE c.contype = 'f' AND t.relname = %s""",
        (table,),
    ).fetchall()
    actions = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
    return [
        {
            "name": r[0],
            "references": r[1],
            "on_delete": actions[r[2]],
            "on_update": actions[r[3]],
            "columns": list(r[4]),
            "referenced_columns": list(r[5]),
        }
        for r in rows
    ]


def enum_values(conn: psycopg.Connection, enum: str) -> list[str] | None:
    rows = conn.execute(
        """SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
           JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = 'public'
           WHERE t.typname = %s ORDER BY e.enumsortorder""",
        (enum,),
    ).fetchall()
    if not rows:
        exists = conn.execute(
            "SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'public' AND t.typname = %s AND t.typtype = 'e'",
            (enum,),
        ).fetchone()
        return [] if exists else None
    return [r[0] for r in rows]


def table_fingerprint(conn: psycopg.Connection, table: str, mode: str) -> str:
    """Row count, or a checksum of every row's values (column names do not enter it, so a column
    rename keeps it while a drop, a cast or a lost row changes it)."""
    if not table_exists(conn, table):
        return "missing"
    ident = '"' + table.replace('"', '""') + '"'
    if mode == "count":
        row = conn.execute(f"SELECT count(*) FROM {ident}").fetchone()
    else:
        row = conn.execute(
            f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '')"
            f" FROM {ident} t"
        ).fetchone()
    return str(row[0]) if row else "missing"
