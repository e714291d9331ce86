"""Turning the engine's results into what the panel shows."""

from __future__ import annotations

from dataclasses import replace

from app.panel.views import MigrationOutcome, SchemaProblem
from sandbox.migrate import CommandResult


def schema_problems(schema: str) -> list[SchemaProblem]:
    """Every problem of the schema at its line and column; empty when it is valid."""
    from sandbox.prisma import SchemaError, to_sql_schema

    try:
        to_sql_schema(schema)
    except SchemaError as exc:
        lines = schema.splitlines()
        return [
            SchemaProblem(d.line, d.column, d.message, lines[d.line - 1] if 0 < d.line <= len(lines) else "")
            for d in exc.diagnostics
        ]
    return []


def migration_outcome(result: CommandResult, create_only: bool) -> MigrationOutcome:
    base = MigrationOutcome(
        kind="nothing",
        sql=result.sql or "",
        warnings=list(result.warnings),
        unexecutable=list(result.unexecutable),
        output=result.output,
        create_only=create_only,
    )
    if result.needs_reset:
        return replace(
            base,
            kind="drift",
            message="Dev does not match the migration history, so Prisma would reset it (all its data "
            "would be lost). Press Reset dev, then Create migration again.",
        )
    if result.error_code:
        return replace(base, kind="failed", message=error_summary(result))
    if result.needs_confirmation:
        return replace(base, kind="confirm")
    if result.unexecutable and result.exit_code:
        return replace(
            base,
            kind="refused",
            message="This change cannot be applied to the rows dev holds. Tick Create only to write the "
            "migration yourself (a default, a backfill), then Apply it.",
        )
    migration = result.created_migration
    if migration is not None and create_only:
        return replace(
            base,
            kind="draft",
            name=migration.name,
            sql=migration.sql,
            message="Prisma Migrate created the following migration without applying it. "
            "You can now edit it and apply it.",
        )
    if migration is not None:
        return replace(
            base,
            kind="created",
            name=migration.name,
            sql=migration.sql,
            message=f"Created and applied {migration.name} to dev.",
        )
    return replace(base, message=result.report[-1] if result.report else "Nothing to do.")


def error_summary(result: CommandResult) -> str:
    """`P3018: A migration failed to apply. …`: the code and the first sentence of Prisma's message."""
    first = next((line.strip() for line in result.message.splitlines() if line.strip()), "")
    return f"{result.error_code}: {first}" if first else f"Error {result.error_code}"
