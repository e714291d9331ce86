"""Small pieces of the engine: type-change risk, catalog defaults, empty scripts."""

from __future__ import annotations

import psycopg
import pytest

from sandbox.migrate.casts import column_type_change, display
from sandbox.migrate.default_values import defaults_match, from_catalog
from sandbox.migrate.differ import diff_schemas
from sandbox.migrate.introspection import introspect, render_type
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
    # A type Prisma does not know keeps the catalog's spelling: its warnings show `Unsupported("int4range")`.
    assert render_type("int4range") == "int4range" and render_type("circle") == "circle"


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


@pytest.mark.parametrize(
    ("expr", "column", "default"),
    [
        ("ARRAY[]::text[]", Column("c", "TEXT", is_array=True), ColumnDefault("literal", "ARRAY[]::TEXT[]")),
        (
            "(ARRAY[]::character varying[])::character varying(10)[]",
            Column("c", "VARCHAR(10)", is_array=True),
            ColumnDefault("literal", "ARRAY[]::VARCHAR(10)[]"),
        ),
        (
            "ARRAY[(1)::double precision, (2.5)::double precision]",
            Column("c", "DOUBLE PRECISION", is_array=True),
            ColumnDefault("literal", "ARRAY[1, 2.5]::DOUBLE PRECISION[]"),
        ),
        (
            "ARRAY[1.5::numeric(65,30), (2)::numeric(65,30)]",
            Column("c", "DECIMAL(65,30)", is_array=True),
            ColumnDefault("literal", "ARRAY[1.5, 2]::DECIMAL(65,30)[]"),
        ),
        (
            "ARRAY['USER'::\"Role\"]",
            Column("c", "Role", is_enum=True, is_array=True),
            ColumnDefault("literal", "ARRAY['USER']::\"Role\"[]"),
        ),
        ("'x'::text", Column("c", "TEXT"), ColumnDefault("literal", "'x'")),
        ("E'a\\nb'::text", Column("c", "TEXT"), ColumnDefault("literal", "'a\nb'")),
        ("'\\x6869'::bytea", Column("c", "BYTEA"), ColumnDefault("literal", "'\\x6869'")),
        ("'-0.5'::numeric", Column("c", "DOUBLE PRECISION"), ColumnDefault("literal", "-0.5")),
        (
            "nextval('public.\"T_id_seq\"'::regclass)",
            Column("c", "INTEGER"),
            ColumnDefault("sequence", "T_id_seq"),
        ),
        ("now()", Column("c", "TIMESTAMP(3)"), ColumnDefault("now")),
        ("NULL::text", Column("c", "TEXT"), None),
        # What Prisma's describer cannot read stays an expression (Prisma then re-migrates it).
        (
            "'2020-01-01 00:00:00'::timestamp without time zone",
            Column("c", "TIMESTAMP(3)"),
            ColumnDefault("expression", "'2020-01-01 00:00:00'::timestamp without time zone"),
        ),
        ("now()", Column("c", "TEXT"), ColumnDefault("expression", "now()")),
        (
            "'00000000-0000-0000-0000-000000000000'::uuid",
            Column("c", "UUID"),
            ColumnDefault("expression", "'00000000-0000-0000-0000-000000000000'::uuid"),
        ),
        (
            "ARRAY[(1)::double precision, ('-3'::integer)::double precision]",
            Column("c", "DOUBLE PRECISION", is_array=True),
            ColumnDefault("expression", "ARRAY[(1)::double precision, ('-3'::integer)::double precision]"),
        ),
        (
            "ARRAY['12345678901'::bigint]",
            Column("c", "BIGINT", is_array=True),
            ColumnDefault("expression", "ARRAY['12345678901'::bigint]"),
        ),
        ("(1 + 2)", Column("c", "INTEGER"), ColumnDefault("expression", "(1 + 2)")),
    ],
)
def test_catalog_default_texts_read_like_prisma(
    expr: str, column: Column, default: ColumnDefault | None
) -> None:
    assert from_catalog(expr, column) == default


def _col(sql_type: str, kind: str | None, sql: str = "", is_array: bool = False) -> Column:
    default = ColumnDefault(kind, sql) if kind else None  # type: ignore[arg-type]
    return Column("c", sql_type, default=default, is_array=is_array)


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        (_col("DOUBLE PRECISION", "literal", "1.0"), _col("DOUBLE PRECISION", "literal", "1"), True),
        (_col("DECIMAL(65,30)", "literal", "1.50"), _col("DECIMAL(65,30)", "literal", "1.5"), True),
        (_col("INTEGER", "literal", "5"), _col("BIGINT", "literal", "5"), True),
        (_col("INTEGER", "literal", "5"), _col("DOUBLE PRECISION", "literal", "5"), False),
        (
            _col("JSONB", "literal", '\'{"a": 1, "b": 2}\''),
            _col("JSONB", "literal", '\'{"b": 2, "a": 1}\''),
            True,
        ),
        (_col("JSONB", "literal", "'{\"a\": 1}'"), _col("JSONB", "literal", "'{\"a\": 1.0}'"), False),
        (_col("TEXT", "literal", "'a'"), _col("TEXT", "literal", "'b'"), False),
        # Prisma never compares DateTime literals, except with no default at all.
        (_col("TIMESTAMP(3)", "literal", "'2020-01-01 00:00:00 +00:00'"), _col("TIMESTAMP(3)", "now"), True),
        (
            _col("TIMESTAMP(3)", "expression", "'2020-01-01'::timestamp"),
            _col("TIMESTAMP(3)", "literal", "'x'"),
            True,
        ),
        (_col("TIMESTAMP(3)", None), _col("TIMESTAMP(3)", "literal", "'2020-01-01 00:00:00 +00:00'"), False),
        (_col("TIMESTAMP(3)", "expression", "'2020-01-01'::timestamp"), _col("TIMESTAMP(3)", "now"), False),
        (
            _col("TIMESTAMP(3)", "expression", "ARRAY['2020-01-01'::timestamp]", is_array=True),
            _col(
                "TIMESTAMP(3)",
                "literal",
                "ARRAY['2021-01-01 00:00:00 +00:00']::TIMESTAMP(3)[]",
                is_array=True,
            ),
            True,
        ),
        (
            _col("DOUBLE PRECISION", "literal", "ARRAY[1.0, 2]::DOUBLE PRECISION[]", is_array=True),
            _col("DOUBLE PRECISION", "literal", "ARRAY[1, 2.0]::DOUBLE PRECISION[]", is_array=True),
            True,
        ),
        (
            _col("INTEGER", "literal", "ARRAY[1, 2]::INTEGER[]", is_array=True),
            _col("INTEGER", "literal", "ARRAY[1, 2, 3]::INTEGER[]", is_array=True),
            False,
        ),
        (
            _col("UUID", "expression", "gen_random_uuid()"),
            _col("UUID", "expression", "GEN_RANDOM_UUID()"),
            True,
        ),
        (_col("TEXT", "literal", "'x'"), _col("TEXT", "expression", "'x'::text"), False),
        (_col("TIMESTAMP(3)", "now"), _col("TIMESTAMP(3)", "expression", "now()"), False),
    ],
)
def test_defaults_compare_like_prisma(old: Column, new: Column, same: bool) -> None:
    assert defaults_match(old, new) is same
