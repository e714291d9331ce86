"""`prisma db seed` for the sandbox: a few example rows in every empty table, the way a seed script
would, so that data-loss warnings and backfills have something to act on."""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

from app.pg_errors import reason

ROWS_PER_TABLE = 3

COLUMNS = """
SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable = 'YES',
       c.column_default IS NOT NULL, c.is_identity = 'YES'
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> '_prisma_migrations'
ORDER BY c.table_name, c.ordinal_position
"""

FOREIGN_KEYS = """
SELECT cl.relname, a.attname, rcl.relname, ra.attname
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_class rcl ON rcl.oid = con.confrelid
JOIN LATERAL unnest(con.conkey, con.confkey) AS k(col, rcol) ON true
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col
JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.rcol
WHERE con.contype = 'f' AND n.nspname = 'public'
"""


def seed_database(conninfo: str) -> str:
    lines = ["Running seed command `migration-lab seed` ...", ""]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        columns: dict[str, list[tuple]] = {}
        for row in conn.execute(COLUMNS):
            columns.setdefault(row[0], []).append(row[1:])
        references = {(t, c): (rt, rc) for t, c, rt, rc in conn.execute(FOREIGN_KEYS)}
        for table_name in _in_dependency_order(columns, references):
            lines.append(_seed_table(conn, table_name, columns[table_name], references))
    lines += ["", "🌱  The seed command has been executed."]
    return "\n".join(lines)


def _in_dependency_order(columns: dict[str, list[tuple]], references: dict) -> list[str]:
    ordered: list[str] = []
    remaining = sorted(columns)
    while remaining:
        ready = [
            t
            for t in remaining
            if all(rt in ordered or rt == t for (ft, _), (rt, _) in references.items() if ft == t)
        ]
        ordered += ready or remaining  # a cycle: try the rest anyway, failures are reported per table
        remaining = [t for t in remaining if t not in ordered]
    return ordered


def _seed_table(conn: psycopg.Connection, table_name: str, cols: list[tuple], references: dict) -> str:
    count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table_name))).fetchone()
    if count and count[0]:
        return f"  {table_name}: has {count[0]} rows, left as it is"
    inserted = 0
    try:
        for index in range(1, ROWS_PER_TABLE + 1):
            names, values = [], []
            for name, data_type, udt, _nullable, has_default, identity in cols:
                if has_default or identity:
                    continue
                names.append(sql.Identifier(name))
                values.append(_value(conn, table_name, name, data_type, udt, index, references))
            statement = (
                sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    sql.Identifier(table_name), sql.SQL(", ").join(names), sql.SQL(", ").join(values)
                )
                if names
                else sql.SQL("INSERT INTO {} DEFAULT VALUES").format(sql.Identifier(table_name))
            )
            conn.execute(statement)
            inserted += 1
    except psycopg.Error as exc:
        return f"  {table_name}: inserted {inserted} rows, then stopped: {reason(exc)}"
    return f"  {table_name}: inserted {inserted} rows"


def _value(conn, table_name, column, data_type, udt, index, references) -> sql.Composable:
    if (table_name, column) in references:
        ref_table, ref_column = references[(table_name, column)]
        return sql.SQL("(SELECT {} FROM {} ORDER BY 1 OFFSET {} LIMIT 1)").format(
            sql.Identifier(ref_column), sql.Identifier(ref_table), sql.Literal((index - 1) % ROWS_PER_TABLE)
        )
    token = secrets.token_hex(3)
    if data_type == "ARRAY":
        return sql.SQL("'{}'")
    if data_type == "USER-DEFINED":  # an enum: its first value
        return sql.SQL("(enum_range(NULL::{}))[1]").format(sql.Identifier(udt))
    if data_type in ("integer", "bigint", "smallint"):
        return sql.Literal(index * 10 + secrets.randbelow(10))
    if data_type in ("numeric", "double precision", "real"):
        return sql.Literal(index * 1.5)
    if data_type == "boolean":
        return sql.Literal(index % 2 == 1)
    if data_type.startswith(("timestamp", "date", "time")):
        return sql.SQL("now()")
    if data_type in ("json", "jsonb"):
        return sql.Literal(f'{{"example": {index}}}')
    if data_type == "bytea":
        return sql.SQL("'\\x00'::bytea")
    if data_type == "uuid":
        return sql.SQL("gen_random_uuid()")
    if column.lower() == "email":
        return sql.Literal(f"learner{index}-{token}@example.com")
    return sql.Literal(f"{column} {index} {token}")
