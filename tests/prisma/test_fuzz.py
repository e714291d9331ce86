"""Broken schemas (random truncations and edits of valid ones) give SchemaError with positions, never
another exception; whatever still validates calculates and formats."""

from __future__ import annotations

import random
from pathlib import Path

from sandbox.prisma import SchemaError, format_schema, parse_schema, to_sql_schema

FIXTURES = Path(__file__).parent / "fixtures"
SOURCES = [p.read_text() for p in sorted(FIXTURES.glob("*/*.prisma"))]
PIECES = (
    '@ @@ ( ) [ ] " ? , : { } @id @relation( fields: [ @default( now() @db. VarChar( @unique model enum '
    "SetNull User [] // -1"
).split() + ["\n"]


def mutate(rng: random.Random, text: str) -> str:
    choice = rng.random()
    if choice < 0.4:
        return text[: rng.randrange(len(text) + 1)]
    if choice < 0.7:
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(PIECES) + text[at:]
    if choice < 0.9:
        at = rng.randrange(len(text) + 1)
        return text[:at] + text[at + rng.randint(1, 12) :]
    lines = text.split("\n")
    rng.shuffle(lines)
    return "\n".join(lines)


def test_broken_schemas_only_raise_schema_errors() -> None:
    rng = random.Random(20240601)
    outcomes = {"valid": 0, "invalid": 0}
    for _ in range(1500):
        text = mutate(rng, rng.choice(SOURCES))
        try:
            schema = parse_schema(text)
        except SchemaError as err:
            outcomes["invalid"] += 1
            assert err.diagnostics, text
            for d in err.diagnostics:
                assert d.line >= 1 and d.column >= 1 and d.message.strip(), (text, d)
                assert (d.end_line, d.end_column) >= (d.line, d.column), (text, d)
            continue
        outcomes["valid"] += 1
        to_sql_schema(schema)
        once = format_schema(text)
        assert format_schema(once) == once
    assert outcomes["invalid"] > 500 and outcomes["valid"] > 50  # the mutations exercise both paths


def test_truncations_of_a_valid_schema_never_crash() -> None:
    text = (FIXTURES / "calc" / "relations.prisma").read_text()
    for end in range(len(text)):
        try:
            to_sql_schema(text[:end])
        except SchemaError:
            pass
