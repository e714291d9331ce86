"""Read a database schema from the PostgreSQL catalog into a SqlSchema, spelled the way Prisma renders it.

Objects come sorted by name, as Prisma's schema describer lists them: the order of the steps Prisma
generates against an introspected database (the shadow database of `migrate dev`) follows from it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import psycopg

from sandbox.migrate.default_values import from_catalog
from sandbox.migrate.sqlschema import (
    DEFAULT_SCHEMA,
    Column,
    Enum,
    ForeignKey,
    Index,
    PrimaryKey,
    ReferentialAction,
    SqlSchema,
    Table,
    schema_key,
)

IGNORED_TABLES = ("_prisma_migrations",)
ACTIONS: dict[str, ReferentialAction] = {
    "a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT",
}  # fmt: skip

COLUMNS_SQL = """
SELECT n.nspname, c.relname, a.attname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       format_type(CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE a.atttypid END, a.atttypmod),
       t.typcategory = 'A', coalesce(et.typtype, t.typtype) = 'e', coalesce(et.typname, t.typname),
       tn.nspname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem
JOIN pg_namespace tn ON tn.oid = coalesce(et.typnamespace, t.typnamespace)
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", a.attnum
"""
CONSTRAINTS_SQL = """
SELECT n.nspname, c.relname, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)::text[],
       refn.nspname, ref.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)::text[],
       con.confdeltype, con.confupdtype
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class ref ON ref.oid = con.confrelid
LEFT JOIN pg_namespace refn ON refn.oid = ref.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND con.contype IN ('p', 'f')
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", con.conname COLLATE "C"
"""
INDEXES_SQL = """
SELECT n.nspname, c.relname, i.relname, x.indisunique,
       ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o)::text[],
       ARRAY(SELECT CASE WHEN o.opt & 1 = 1 THEN 'DESC' END
             FROM unnest(x.indoption::int2[]) WITH ORDINALITY o(opt, n) ORDER BY o.n)::text[],
       ARRAY(SELECT CASE WHEN NOT oc.opcdefault THEN oc.opcname END
             FROM unnest(x.indclass::oid[]) WITH ORDINALITY k(cls, n)
             JOIN pg_opclass oc ON oc.oid = k.cls ORDER BY k.n)::text[],
       upper(am.amname)
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_am am ON am.oid = i.relam
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND NOT x.indisprimary
ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", i.relname COLLATE "C"
"""
ENUMS_SQL = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[]
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY(%(schemas)s)
GROUP BY n.nspname, t.typname
ORDER BY n.nspname COLLATE "C", t.typname COLLATE "C"
"""

# format_type() spelling -> Prisma's rendering (the arguments are kept).
TYPE_NAMES = {
    "integer": "INTEGER", "bigint": "BIGINT", "smallint": "SMALLINT", "text": "TEXT", "boolean": "BOOLEAN",
    "double precision": "DOUBLE PRECISION", "real": "REAL", "numeric": "DECIMAL",
    "character varying": "VARCHAR", "character": "CHAR", "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "time without time zone": "TIME", "time with time zone": "TIMETZ", "date": "DATE", "jsonb": "JSONB",
    "json": "JSON", "bytea": "BYTEA", "uuid": "UUID", "inet": "INET", "citext": "CITEXT", "xml": "XML",
    "bit": "BIT", "bit varying": "VARBIT", "money": "MONEY", "oid": "OID",
}  # fmt: skip
_FORMATTED = re.compile(r"^([a-z ]+?)(\([\d,]+\))?( with(?:out)? time zone)?$")


NAMESPACES_SQL = "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%(schemas)s)"


def introspect(conn: psycopg.Connection, schemas: Sequence[str] = (DEFAULT_SCHEMA,)) -> SqlSchema:
    """The database schemas `schemas` (a multi-schema datasource's `schemas`), sorted by schema and then
    name as Prisma's describer lists them; `_prisma_migrations` (in the default schema) is left out."""
    params = {"schemas": list(schemas)}
    tables: dict[tuple[str | None, str], Table] = {}
    for row in conn.execute(COLUMNS_SQL, params):
        nspname, relname, attname, notnull, default, formatted, is_array, is_enum, typname, typns = row
        key = (schema_key(nspname), relname)
        if key[0] is None and relname in IGNORED_TABLES:
            continue
        table = tables.setdefault(key, Table(relname, schema=key[0]))
        sql_type = typname if is_enum else render_type(formatted)
        column = Column(attname, sql_type, nullable=not notnull, is_enum=is_enum, is_array=is_array)
        if is_enum:
            column.enum_schema = schema_key(typns)
        column.default = from_catalog(default, column)
        table.columns.append(column)
    for row in conn.execute(CONSTRAINTS_SQL, params):
        nspname, relname, conname, contype, columns, ref_ns, ref_table, ref_columns, on_delete, on_update = (
            row
        )
        owner = tables.get((schema_key(nspname), relname))
        if owner is None:
            continue
        table = owner
        if contype == "p":
            table.primary_key = PrimaryKey(conname, list(columns))
        else:
            fk = ForeignKey(
                conname,
                list(columns),
                ref_table,
                list(ref_columns),
                ACTIONS[on_delete],
                ACTIONS[on_update],
                referenced_schema=schema_key(ref_ns),
            )
            table.foreign_keys.append(fk)
    for nspname, relname, index_name, unique, columns, sorts, opclasses, method in conn.execute(
        INDEXES_SQL, params
    ):
        if (schema_key(nspname), relname) in tables:
            tables[(schema_key(nspname), relname)].indexes.append(
                Index(
                    index_name,
                    list(columns),
                    unique=unique,
                    sorts=list(sorts) if any(sorts) else [],
                    opclasses=list(opclasses) if any(opclasses) else [],
                    algorithm=None if method == "BTREE" else method,
                )
            )
    enums = [Enum(name, list(values), schema_key(ns)) for ns, name, values in conn.execute(ENUMS_SQL, params)]
    existing = [row[0] for row in conn.execute(NAMESPACES_SQL, params)]
    # No extensions: Prisma 7.10.1's `migrate dev` does not read them back either, so a schema's
    # `extensions = [...]` gives its CREATE EXTENSION IF NOT EXISTS in every new migration, as Prisma's does.
    return SqlSchema(
        tables=list(tables.values()),
        enums=enums,
        namespace=DEFAULT_SCHEMA,
        namespaces=existing,
        listed=list(schemas),
    )


def render_type(formatted: str) -> str:
    """`character varying(50)` -> `VARCHAR(50)`, `timestamp(3) without time zone` -> `TIMESTAMP(3)`."""
    match = _FORMATTED.match(formatted)
    if not match:
        return formatted  # `int4range` and such: an Unsupported("…") type, kept as the catalog spells it
    name = match.group(1) + (match.group(3) or "")
    args = (match.group(2) or "").replace(" ", "")
    if name not in TYPE_NAMES:
        return formatted  # an Unsupported("…") type, in the catalog's spelling (Prisma's warnings show it)
    return TYPE_NAMES[name] + args
