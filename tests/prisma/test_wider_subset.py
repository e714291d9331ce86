"""The features real schemas use, beyond the first subset: messages for what stays outside, limits, and
`migrate diff --to-empty` (expected texts are Prisma 7.10.1's, from its engine)."""

from __future__ import annotations

import pytest

from sandbox.migrate.script_diff import diff_script
from sandbox.prisma import SchemaError, format_schema, parse_schema

HEAD = 'datasource db {\n  provider = "postgresql"\n}\n'


def errors(text: str) -> list[str]:
    with pytest.raises(SchemaError) as caught:
        parse_schema(text)
    return [d.message for d in caught.value.diagnostics]


def test_thirty_thousand_nested_lists_are_refused_with_a_limit() -> None:
    deep = "[" * 30000 + "1" + "]" * 30000
    assert errors(HEAD + f"model A {{\n  id Int @id @default({deep})\n}}\n") == [
        "Lists and function calls nested more than 32 levels deep are not supported."
    ]


def test_unclosed_block_comment_is_said_once() -> None:
    assert errors(HEAD + "/* never closed\nmodel A {\n  id Int @id\n}\n") == [
        "This block comment is not closed: add `*/` to end it."
    ]


def test_block_comments_are_whitespace_and_format_keeps_them() -> None:
    text = HEAD + "/** A */\nmodel A {\n  id Int @id /* key */\n  /** t */ t String\n}\n"
    assert [f.name for f in parse_schema(text).models[0].fields] == ["id", "t"]
    assert format_schema(text) == text


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            HEAD.replace("}", '  relationMode = "foo"\n}') + "model A {\n  id Int @id\n}\n",
            'Error validating datasource `relationMode`: Invalid relation mode setting: "foo". '
            'Supported values: "prisma", "foreignKeys"',
        ),
        (
            HEAD.replace("}", "  extensions = [citext]\n}") + "model A {\n  id Int @id\n}\n",
            "The `extensions` property is only available with the `postgresqlExtensions` preview feature.",
        ),
        (
            HEAD + 'model A {\n  id Int @id\n  @@schema("auth")\n}\n',
            "This schema is not defined in the datasource. Read more on `@@schema` at "
            "https://pris.ly/d/multi-schema",
        ),
        (
            HEAD + "model A {\n  id Int @id\n  a String\n  @@index([a(sort: Desc)], type: Hash)\n}\n",
            'Error parsing attribute "@@index": Hash type does not support sort option.',
        ),
        (
            HEAD + "model A {\n  id Int @id\n  a String\n  @@index([a(length: 10)])\n}\n",
            'Error parsing attribute "@@index": The length argument is not supported in an index definition '
            "with the current connector",
        ),
        (
            HEAD + "model A {\n  id Int @id\n  a Int\n  @@index([a(ops: JsonbPathOps)], type: Gin)\n}\n",
            'Error parsing attribute "@@index": The given operator class `JsonbPathOps` points to the field '
            "`a` that is not of Json type.",
        ),
    ],
)
def test_what_stays_outside_is_named(source: str, message: str) -> None:
    found = errors(source)
    assert message in found
    assert not any("needs a list of fields" in m or "has to be unique" in m for m in found)


def test_to_empty_qualifies_drops_with_the_schema_as_prisma() -> None:
    schema = (
        HEAD
        + "enum E {\n  X\n}\nmodel A {\n  id Int @id\n  e E\n  tags T[]\n}\n"
        + "model T {\n  id Int @id\n  as A[]\n}\n"
    )
    sql, changed = diff_script(schema, None)
    assert changed
    assert sql == (
        '-- DropForeignKey\nALTER TABLE "public"."_AToT" DROP CONSTRAINT "_AToT_A_fkey";\n\n'
        '-- DropForeignKey\nALTER TABLE "public"."_AToT" DROP CONSTRAINT "_AToT_B_fkey";\n\n'
        '-- DropTable\nDROP TABLE "public"."A";\n\n'
        '-- DropTable\nDROP TABLE "public"."T";\n\n'
        '-- DropTable\nDROP TABLE "public"."_AToT";\n\n'
        '-- DropEnum\nDROP TYPE "public"."E";\n'
    )


def test_two_unreadable_indexes_say_so_without_a_false_name_clash() -> None:
    found = errors(HEAD + 'model A {\n  id Int @id\n  a Int\n  @@index("a")\n  @@index(42)\n}\n')
    needs = "The index definition needs a list of fields, for example `@@index([a, b])`."
    assert found == [f'Error validating model "A": {needs}'] * 2


def test_relation_mode_prisma_refuses_what_prisma_cannot_emulate_on_postgresql() -> None:
    source = HEAD.replace("}", '  relationMode = "prisma"\n}')
    found = errors(
        source
        + "model A {\n  id Int @id\n  parentId Int?\n"
        + '  parent A? @relation("tree", fields: [parentId], references: [id], onUpdate: NoAction)\n'
        + '  children A[] @relation("tree")\n}\n'
    )
    assert found == [
        "Error validating: A self-relation must have `onDelete` and `onUpdate` referential actions set to "
        "`NoAction` in one of the @relation attributes. (Implicit default `onDelete`: `SetNull`) "
        "Read more at https://pris.ly/d/cyclic-referential-actions",
        "Error validating: Invalid referential action: `NoAction`. Allowed values: (`Cascade`, `Restrict`, "
        '`SetNull`). `NoAction` is not implemented for Postgres when using `relationMode = "prisma"`, '
        "you could try using `Restrict` instead. Learn more at https://pris.ly/d/relation-mode",
    ]


@pytest.mark.parametrize(
    ("target", "statement"),
    [  # Prisma 7.10.1's engine, from `String @db.Xml`
        ("String", 'ALTER TABLE "T" ALTER COLUMN "x" SET DATA TYPE TEXT;'),
        ("String @db.VarChar(50)", 'ALTER TABLE "T" ALTER COLUMN "x" SET DATA TYPE VARCHAR(50);'),
        ("String @db.Char(10)", 'ALTER TABLE "T" ALTER COLUMN "x" SET DATA TYPE CHAR(10);'),
        ("Boolean", 'ALTER TABLE "T" DROP COLUMN "x",\nADD COLUMN     "x" BOOLEAN NOT NULL;'),
        ("String @db.Citext", 'ALTER TABLE "T" DROP COLUMN "x",\nADD COLUMN     "x" CITEXT NOT NULL;'),
    ],
)
def test_xml_columns_cast_only_to_text_types(target: str, statement: str) -> None:
    def schema(field: str) -> str:
        return HEAD + f"model T {{\n  id Int @id\n  x {field}\n}}\n"

    sql, _ = diff_script(schema("String @db.Xml"), schema(target))
    assert statement in sql
