"""`migrate dev` on tables with rows, compared with Prisma's (`node oracle.mjs dev --create-only`).

For one pair (before, after): a scratch database gets Prisma's from-empty SQL of `before` as its first
migration (applied by Prisma's engine), then one row in every table, written from the catalog (a value of
each column's type, the first row of the referenced table for a foreign key, NULL where allowed); then
Prisma's `migrate dev --create-only` to `after` prints its data-aware warnings and unexecutable steps and
writes migration.sql. Ours reads the same database: the same warnings (the stderr text) and the same file.
Slow (two Node runs and a shadow database per pair), so the driver runs it on a sample (`--dev N`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from sandbox.migrate.differ import diff_schemas
from sandbox.migrate.introspection import introspect
from sandbox.migrate.render import EMPTY_MIGRATION, render_script
from sandbox.migrate.warnings import check_warnings
from sandbox.prisma import to_sql_schema

# A literal of each catalog type (format_type's base name), cast by the column's own type.
VALUES = {
    "integer": "1", "bigint": "1", "smallint": "1", "text": "'x'", "character varying": "'x'",
    "character": "'x'", "boolean": "true", "numeric": "1", "real": "1", "double precision": "1",
    "money": "1", "timestamp without time zone": "now()", "timestamp with time zone": "now()",
    "date": "now()", "time without time zone": "now()", "time with time zone": "now()", "jsonb": "'{}'",
    "json": "'{}'", "bytea": "'\\x00'", "uuid": "gen_random_uuid()", "inet": "'127.0.0.1'",
    "xml": "'<a/>'", "citext": "'x'", "circle": "'<(0,0),1>'", "tsvector": "''", "int4range": "'[1,2)'",
}  # fmt: skip
COLUMNS = """
SELECT n.nspname, c.relname, a.attname, a.attnotnull, a.atthasdef, t.typcategory = 'A',
       t.typtype = 'e', format_type(a.atttypid, NULL), a.atttypid::regtype::text,
       (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid ORDER BY e.enumsortorder LIMIT 1),
       (SELECT array_agg(ARRAY[rn.nspname, rc.relname, ra.attname])::text
          FROM pg_constraint k JOIN pg_class rc ON rc.oid = k.confrelid
          JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          JOIN pg_attribute ra ON ra.attrelid = k.confrelid
           AND ra.attnum = k.confkey[array_position(k.conkey, a.attnum)]
         WHERE k.conrelid = c.oid AND k.contype = 'f' AND a.attnum = ANY(k.conkey))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
WHERE n.nspname = ANY(%s) AND c.relkind = 'r' AND c.relname <> '_prisma_migrations'
ORDER BY n.nspname, c.relname, a.attnum
"""


def seed(conn: psycopg.Connection, schemas: list[str]) -> None:
    """One row in every table it can fill (tables whose foreign keys point to filled ones first)."""
    tables: dict[tuple[str, str], list[tuple]] = {}
    for row in conn.execute(COLUMNS, (schemas,)):
        tables.setdefault((row[0], row[1]), []).append(row)
    pending = list(tables)
    for _ in range(len(pending) + 1):
        progress = False
        for key in list(pending):
            if _insert(conn, key, tables[key]):
                pending.remove(key)
                progress = True
        if not progress:
            break


def _insert(conn: psycopg.Connection, key: tuple[str, str], columns: list[tuple]) -> bool:
    names, values = [], []
    for _, _, name, notnull, hasdef, is_array, is_enum, formatted, regtype, label, refs in columns:
        if refs:
            ref = refs.strip("{}").split("},{")[0].split(",")
            if notnull:
                values.append(
                    sql.SQL("(SELECT {} FROM {} LIMIT 1)").format(
                        sql.Identifier(ref[2].strip('"')),
                        sql.Identifier(ref[0].strip('"'), ref[1].strip('"')),
                    )
                )
                names.append(sql.Identifier(name))
            continue
        if hasdef or (not notnull and not is_array):
            continue
        literal: sql.Composable
        if is_array:
            literal = sql.SQL("'{}'")
        elif is_enum:
            literal = sql.Literal(label)
        else:
            literal = sql.SQL(VALUES.get(formatted.split("(")[0], "NULL"))
        names.append(sql.Identifier(name))
        values.append(sql.SQL("{}::{}").format(literal, sql.SQL(regtype)))
    target = sql.Identifier(*key)
    statement = (
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            target, sql.SQL(", ").join(names), sql.SQL(", ").join(values)
        )
        if names
        else sql.SQL("INSERT INTO {} DEFAULT VALUES").format(target)
    )
    try:
        with conn.transaction():
            conn.execute(statement)
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()
            return bool(row and row[0])
    except psycopg.Error:
        return False


def compare(oracle: Path, url: str, before: str, after: str, before_sql: str) -> tuple[bool | None, str]:
    """(same, detail) for one pair: Prisma's stderr and migration.sql against ours on the same rows;
    same is None when Prisma's SQL of `before` does not apply to PostgreSQL (nothing to compare)."""
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    name = "fuzz_dev"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    db = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))  # a URL: Prisma's engine reads no key=value
    env = {**os.environ, "DATABASE_URL": db}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "00000000000000_before").mkdir()
        lines = [line for line in before_sql.splitlines() if line != 'CREATE SCHEMA IF NOT EXISTS "public";']
        (folder / "00000000000000_before" / "migration.sql").write_text("\n".join(lines) + "\n")
        (folder / "before.prisma").write_text(before)
        (folder / "after.prisma").write_text(after)
        run = ["node", str(oracle / "oracle.mjs"), "dev", "--migrations", str(folder)]
        subprocess.run(
            [*run, "--schema", str(folder / "before.prisma")], capture_output=True, env=env, cwd=oracle
        )
        target = to_sql_schema(after)
        with psycopg.connect(db, autocommit=True) as conn:
            try:
                applied = conn.execute(
                    "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL"
                )
                row = applied.fetchone()
            except psycopg.Error:
                row = None
            if not row or not row[0]:
                return None, "Prisma's SQL of `before` does not apply"
            seed(conn, target.listed + [s for s in to_sql_schema(before).listed if s not in target.listed])
        done = subprocess.run(
            [*run, "--schema", str(folder / "after.prisma"), "--name", "change", "--create-only"],
            capture_output=True,
            text=True,
            env=env,
            cwd=oracle,
        )
        theirs_err = "\n".join(
            line for line in done.stderr.splitlines() if not line.startswith(("Applied: ", "Wrote "))
        )
        written = sorted(folder.glob("*_change/migration.sql"))
        theirs_sql = written[0].read_text() if written else ""
    with psycopg.connect(db, autocommit=True) as conn:
        steps = diff_schemas(introspect(conn, target.listed), target)
        found = check_warnings(steps, conn)
        ours_sql = found.file_header() + (render_script(steps) if steps else EMPTY_MIGRATION)
    ours_err = found.console_text().strip("\n")
    same = ours_err == theirs_err.strip("\n") and (not written or ours_sql == theirs_sql)
    detail = (
        f"prisma stderr:\n{theirs_err}\nours:\n{ours_err}\n\nprisma sql:\n{theirs_sql}\nours:\n{ours_sql}\n"
    )
    return same, detail
