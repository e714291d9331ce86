"""Small pieces of the engine: type-change risk, catalog defaults, empty scripts."""

from __future__ import annotations

import psycopg
import pytest

from sandbox.migrate.casts import column_type_change, display
from sandbox.migrate.diff import diff_schemas
from sandbox.migrate.introspect import introspect, render_type
from sandbox.migrate.render import EMPTY_MIGRATION, render_script
from sandbox.migrate.sqlschema import Column, ColumnDefault, SqlSchema, Table
from sandbox.migrate.summary import summarize


@pytest.mark.parametrize(
    ("before", "after", "risk"),
    [
        ("INTEGER", "BIGINT", "safe"),
        ("BIGINT", "INTEGER", "risky"),
        ("TEXT", "VARCHAR(50)", "risky"),
        ("VARCHAR(20)", "VARCHAR(200)", "safe"),
        ("VARCHAR(200)", "VARCHAR(20)", "risky"),
        ("TEXT", "INTEGER", "not_castable"),
        ("DOUBLE PRECISION", "DECIMAL(8,2)", "risky"),
        ("TIMESTAMP(3)", "TIMESTAMPTZ(3)", "safe"),
        ("TIMESTAMP(3)", "TIMESTAMP(3)", None),
        ("UUID", "TEXT", "safe"),
        ("BOOLEAN", "INTEGER", "not_castable"),
    ],
)
def test_type_change_risk(before: str, after: str, risk: str | None) -> None:
    assert column_type_change(Column("c", before), Column("c", after)) == risk


def test_enum_and_list_changes_are_not_castable() -> None:
    assert column_type_change(Column("c", "TEXT"), Column("c", "Role", is_enum=True)) == "not_castable"
    assert column_type_change(Column("c", "TEXT"), Column("c", "TEXT", is_array=True)) == "not_castable"
    assert column_type_change(Column("c", "TEXT", is_array=True), Column("c", "TEXT")) == "safe"


def test_type_display_names() -> None:
    assert [display(t) for t in ("TEXT", "VARCHAR(50)", "DECIMAL(8,2)", "DOUBLE PRECISION")] == [
        "Text",
        "VarChar(50)",
        "Decimal(8,2)",
        "DoublePrecision",
    ]


def test_catalog_types_render_as_prisma() -> None:
    assert render_type("character varying(50)") == "VARCHAR(50)"
    assert render_type("timestamp(3) without time zone") == "TIMESTAMP(3)"
    assert render_type("timestamp(6) with time zone") == "TIMESTAMPTZ(6)"
    assert render_type("numeric(65,30)") == "DECIMAL(65,30)"


def test_catalog_defaults_read_back(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(
            """CREATE TABLE "T" ("id" SERIAL PRIMARY KEY, "s" TEXT DEFAULT 'it''s',
            "n" INTEGER DEFAULT -5, "big" BIGINT DEFAULT 12345678901, "j" JSONB DEFAULT '{}',
            "tags" TEXT[] DEFAULT ARRAY['a', 'b']::TEXT[], "at" TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP,
            "u" UUID DEFAULT gen_random_uuid(), "_prisma_x" INT)"""
        )
        conn.execute('CREATE TABLE "_prisma_migrations" ("id" TEXT)')
        schema = introspect(conn)
    assert [t.name for t in schema.tables] == ["T"]
    defaults = {c.name: c.default for c in schema.tables[0].columns}
    assert defaults == {
        "id": ColumnDefault("sequence", "T_id_seq"),
        "s": ColumnDefault("literal", "'it''s'"),
        "n": ColumnDefault("literal", "-5"),
        "big": ColumnDefault("literal", "12345678901"),
        "j": ColumnDefault("literal", "'{}'"),
        "tags": ColumnDefault("literal", "ARRAY['a', 'b']::TEXT[]"),
        "at": ColumnDefault("now"),
        "u": ColumnDefault("expression", "gen_random_uuid()"),
        "_prisma_x": None,
    }


def test_no_change_gives_prismas_empty_texts() -> None:
    schema = SqlSchema([Table("T", [Column("id", "INTEGER", nullable=False)])])
    assert diff_schemas(schema, schema) == []
    assert render_script([]) == EMPTY_MIGRATION == "-- This is an empty migration."
    assert render_script([], create_schema=True) == EMPTY_MIGRATION
    assert summarize([]) == ["No difference detected."]
