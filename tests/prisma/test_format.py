"""The formatter gives `prisma format`'s layout (expected files come from Prisma's own formatter) and is
idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.prisma import format_schema, parse_schema, to_sql_schema

FIXTURES = Path(__file__).parent / "fixtures"
FORMAT_CASES = sorted(
    p.name.removesuffix(".input.prisma") for p in (FIXTURES / "format").glob("*.input.prisma")
)
SAMPLES = sorted((FIXTURES / "calc").glob("*.prisma"))


@pytest.mark.parametrize("case", FORMAT_CASES)
def test_same_layout_as_prisma_format(case: str) -> None:
    source = (FIXTURES / "format" / f"{case}.input.prisma").read_text()
    assert format_schema(source) == (FIXTURES / "format" / f"{case}.expected.prisma").read_text()


@pytest.mark.parametrize(
    "path", SAMPLES + sorted((FIXTURES / "format").glob("*.prisma")), ids=lambda p: p.name
)
def test_idempotent(path: Path) -> None:
    once = format_schema(path.read_text())
    assert format_schema(once) == once


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_formatting_keeps_the_meaning(path: Path) -> None:
    text = path.read_text()
    assert to_sql_schema(format_schema(text)) == to_sql_schema(text)


def test_aligns_columns_per_run_of_fields_and_moves_block_attributes_last() -> None:
    source = (
        'model User {\n@@map("users")\n  id Int @id\n  emailAddress String @unique // login\n\n'
        "  // profile\n  bio String?\n  @@index([bio])\n}\n"
    )
    assert format_schema(source) == (
        "model User {\n"
        "  id           Int    @id\n"
        "  emailAddress String @unique // login\n"
        "\n"
        "  // profile\n"
        "  bio String?\n"
        "\n"
        "  @@index([bio])\n"
        '  @@map("users")\n'
        "}\n"
    )


def test_keeps_comments_and_documentation() -> None:
    source = "// top\n/// docs\nmodel A { // opening\n  id Int @id /// field doc\n} // closing\n"
    formatted = format_schema(source)
    for comment in ("// top", "/// docs", "// opening", "/// field doc", "// closing"):
        assert comment in formatted
    assert parse_schema(formatted).models[0].documentation[0].text == "/// docs"


def test_normalises_spacing_inside_attributes_and_strings() -> None:
    source = (
        'model A {\n  id Int @id @default( autoincrement( ) )\n  s String @default("say \\"hi\\"\\n")\n}\n'
    )
    assert format_schema(source) == (
        'model A {\n  id Int    @id @default(autoincrement())\n  s  String @default("say \\"hi\\"\\n")\n}\n'
    )
