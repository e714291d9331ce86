"""Multi-schema (`schemas = [...]` in the datasource, `@@schema` on models and enums): Prisma 7.10.1's
validation messages and positions, and the SQL of `migrate diff` (texts from its engine)."""

from __future__ import annotations

import pytest

from sandbox.migrate.script_diff import diff_script
from sandbox.prisma import SchemaError, parse_schema, to_sql_schema

SCHEMA = """datasource db {
  provider = "postgresql"
  schemas  = ["public", "auth"]
}

model User {
  id    Int    @id
  role  Role
  posts Post[]
  @@schema("auth")
}

model Post {
  id     Int  @id
  userId Int
  user   User @relation(fields: [userId], references: [id])
  @@schema("public")
}

enum Role {
  USER
  @@schema("auth")
}
"""


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(SchemaError) as caught:
        parse_schema(text)
    return [(d.line, d.message) for d in caught.value.diagnostics]


UNKNOWN = (
    "This schema is not defined in the datasource. Read more on `@@schema` at https://pris.ly/d/multi-schema"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            SCHEMA.replace('  @@schema("public")\n', ""),
            [(13, 'Error validating model "Post": This model is missing an `@@schema` attribute.')],
        ),
        (
            SCHEMA.replace('  USER\n  @@schema("auth")\n', "  USER\n"),
            [(20, "This enum is missing an `@@schema` attribute.")],
        ),
        (SCHEMA.replace('@@schema("public")', '@@schema("nope")'), [(17, UNKNOWN)]),
        (
            SCHEMA.replace('["public", "auth"]', "[]"),
            [(3, "If provided, the schemas array can not be empty.")],
        ),
        (
            SCHEMA.replace('["public", "auth"]', '["public", "auth", "auth"]'),
            [(3, "Duplicated schema names are not allowed")],
        ),
        (
            SCHEMA.replace('  schemas  = ["public", "auth"]\n', ""),
            [(9, UNKNOWN), (16, UNKNOWN), (21, UNKNOWN)],
        ),
    ],
)
def test_prismas_rules_and_words(text: str, expected: list[tuple[int, str]]) -> None:
    assert problems(text) == expected


def test_tables_and_constraint_names_are_unique_per_schema() -> None:
    twin = SCHEMA + (
        '\nmodel Twin {\n  id Int @id(map: "User_pkey")\n  @@map("User")\n  @@schema("public")\n}\n'
    )
    tables = to_sql_schema(twin).tables
    assert [(t.schema, t.name) for t in tables] == [("auth", "User"), (None, "Post"), (None, "User")]
    clash = twin.replace('@@map("User")\n  @@schema("public")', '@@map("User")\n  @@schema("auth")')
    found = [m for _, m in problems(clash)]
    assert any("could not be defined because another model" in m for m in found)
    assert any("The given constraint name `User_pkey` has to be unique" in m for m in found)


def test_diff_qualifies_every_other_schema_and_creates_it_from_empty() -> None:
    sql, _ = diff_script(None, SCHEMA)
    assert sql.split("\n\n")[:3] == [
        '-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "auth";',
        '-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";',
        '-- CreateEnum\nCREATE TYPE "auth"."Role" AS ENUM (\'USER\');',
    ]
    assert 'FOREIGN KEY ("userId") REFERENCES "auth"."User"("id")' in sql
    moved, changed = diff_script(SCHEMA, SCHEMA.replace('@@schema("public")', '@@schema("auth")'))
    assert changed and 'DROP TABLE "Post";' in moved and 'CREATE TABLE "auth"."Post" (' in moved
