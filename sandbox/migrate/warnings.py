"""Prisma's data-loss warnings and unexecutable steps for a migration, in Prisma's words.

Two texts per finding, as Prisma has: a static one written into `migration.sql` (`/* Warnings: */`),
and one computed from the rows of the target database, printed when the migration is created. A finding
whose rows are absent (empty table, no non-null value) is not reported against the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg import sql

from sandbox.migrate import casts
from sandbox.migrate.sqlschema import Column
from sandbox.migrate.steps import (
    AddColumn,
    AlterColumn,
    AlterEnum,
    AlterTable,
    CreateIndex,
    DropAndRecreateColumn,
    DropColumn,
    DropPrimaryKey,
    DropTable,
    Step,
)


@dataclass
class Finding:
    step: int
    static: str  # the text of the migration file header
    live: str  # the text against the database, when `applies`
    applies: bool
    unexecutable: bool  # against the database and in the file header (which lists these last)


@dataclass
class MigrationWarnings:
    findings: list[Finding] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [f.live for f in self.findings if f.applies and not f.unexecutable]

    @property
    def unexecutable(self) -> list[str]:
        return [f.live for f in self.findings if f.applies and f.unexecutable]

    @property
    def unexecutable_steps(self) -> list[int]:
        return [f.step for f in self.findings if f.applies and f.unexecutable]

    def file_header(self) -> str:
        """The `/* Warnings: */` block Prisma puts on top of migration.sql ("" when there is nothing)."""
        header = self.findings
        # Warnings first, then unexecutable steps, a column made required among them even with no
        # NULL in it (Prisma's check without rows: oracle case required_and_drop_order).
        ordered = [f for f in header if not f.unexecutable] + [f for f in header if f.unexecutable]
        if not ordered:
            return ""
        lines = "".join(f"  - {f.static}\n" for f in ordered)
        return f"/*\n  Warnings:\n\n{lines}\n*/\n"

    def console_text(self) -> str:
        """What `prisma migrate dev` prints on stderr before writing the migration."""
        out = ""
        if self.unexecutable:
            items = "".join(
                f"  • Step {i} {m}\n" for i, m in zip(self.unexecutable_steps, self.unexecutable, strict=True)
            )
            out += f"\n⚠️ We found changes that cannot be executed:\n\n{items}\n"
        if self.warnings:
            items = "".join(f"  • {m}\n" for m in self.warnings)
            out += f"\n⚠️  Warnings for the current datasource:\n\n{items}\n"
        return out


class Count(Protocol):
    """Rows of `table` (where `column` IS `condition`, when given) in the database schema `schema` (None:
    the default one): what a warning's wording depends on."""

    def __call__(
        self, table: str, column: str | None = None, condition: str = "", schema: str | None = None
    ) -> int: ...


def check_warnings(steps: list[Step], conn: psycopg.Connection | None) -> MigrationWarnings:
    """Findings for `steps` against the rows of `conn` (None: static texts only, nothing applies)."""
    cache: dict[tuple[str | None, str, str | None, str], int] = {}

    def count(table: str, column: str | None = None, condition: str = "", schema: str | None = None) -> int:
        key = (schema, table, column, condition)
        if conn is None:
            return 0
        if key not in cache:
            name = sql.Identifier(table) if schema is None else sql.Identifier(schema, table)
            query = sql.SQL("SELECT count(*) FROM {}").format(name)
            if column is not None:
                query += sql.SQL(" WHERE {} IS " + condition).format(sql.Identifier(column))
            row = conn.execute(query).fetchone()
            cache[key] = int(row[0]) if row else 0
        return cache[key]

    result = MigrationWarnings()
    for index, step in enumerate(steps):
        result.findings += _step_findings(index, step, count)
    return result


def _step_findings(i: int, step: Step, count: Count) -> list[Finding]:
    if isinstance(step, DropTable):
        t = step.table.name
        rows = count(t, schema=step.table.schema)
        return [
            Finding(
                i,
                f"You are about to drop the `{t}` table. "
                "If the table is not empty, all the data it contains will be lost.",
                f"You are about to drop the `{t}` table, which is not empty ({rows} rows).",
                rows > 0,
                False,
            )
        ]
    if isinstance(step, AlterEnum) and step.removed:
        text = (
            f"The values [{','.join(step.removed)}] on the enum `{step.before.name}` will be removed. "
            "If these variants are still used in the database, this will fail."
        )
        return [Finding(i, text, text, True, False)]
    if (
        isinstance(step, CreateIndex)
        and step.index.unique
        and not step.on_new_table
        and not step.after_recreate
    ):
        text = (
            f"A unique constraint covering the columns `[{','.join(step.index.columns)}]` on the table "
            f"`{step.table}` will be added. If there are existing duplicate values, this will fail."
        )
        return [Finding(i, text, text, count(step.table, schema=step.schema) > 0, False)]
    if isinstance(step, AlterTable):
        schema = step.schema

        def in_schema(
            table: str, column: str | None = None, condition: str = "", schema: str | None = schema
        ) -> int:
            return count(table, column, condition, schema)

        return [f for change in step.changes for f in _change_findings(i, step.table, change, in_schema)]
    return []


def _required_without_default(column: Column) -> bool:
    return not column.nullable and not column.is_array and column.default is None


def _change_findings(i: int, t: str, change: object, count: Count) -> list[Finding]:
    if isinstance(change, DropColumn):
        c = change.column.name
        values = count(t, c, "NOT NULL")
        drop = f"You are about to drop the column `{c}` on the `{t}` table"
        return [
            Finding(
                i,
                f"{drop}. All the data in the column will be lost.",
                f"{drop}, which still contains {values} non-null values.",
                values > 0,
                False,
            )
        ]
    if isinstance(change, AddColumn) and _required_without_default(change.column):
        c, rows = change.column.name, count(t)
        prefix = f"Added the required column `{c}` to the `{t}` table without a default value."
        return [
            Finding(
                i,
                f"{prefix} This is not possible if the table is not empty.",
                f"{prefix} There are {rows} rows in this table, it is not possible to execute this step.",
                rows > 0,
                True,
            )
        ]
    if isinstance(change, DropPrimaryKey):
        text = (
            f"The primary key for the `{t}` table will be changed. "
            "If it partially fails, the table could be left without primary key constraint."
        )
        return [Finding(i, text, text, count(t) > 0, False)]
    if isinstance(change, DropAndRecreateColumn):
        c = change.after.name
        if _required_without_default(change.after):
            prefix = (
                f"Changed the type of `{c}` on the `{t}` table. "
                "No cast exists, the column would be dropped and recreated"
            )
            return [
                Finding(
                    i,
                    f"{prefix}, which cannot be done if there is data, since the column is required.",
                    f"{prefix}, which cannot be done since the column is required "
                    "and there is data in the table.",
                    count(t) > 0,
                    True,
                )
            ]
        prefix = (
            f"The `{c}` column on the `{t}` table would be dropped and recreated. This will lead to data loss"
        )
        return [
            Finding(
                i,
                f"{prefix} if there is data in the column.",
                f"{prefix}.",
                count(t, change.before.name, "NOT NULL") > 0,
                False,
            )
        ]
    if isinstance(change, AlterColumn):
        return _alter_column_findings(i, t, change, count)
    return []


def _alter_column_findings(i: int, t: str, change: AlterColumn, count: Count) -> list[Finding]:
    findings = []
    c = change.before.name
    if (
        "arity" in change.changes
        and change.before.nullable
        and not change.after.nullable
        and not change.after.is_array
    ):
        nulls = count(t, c, "NULL")
        findings.append(
            Finding(
                i,
                f"Made the column `{c}` on table `{t}` required. "
                "This step will fail if there are existing NULL values in that column.",
                f"Made the column `{c}` on table `{t}` required, but there are {nulls} existing NULL values.",
                nulls > 0,
                True,
            )
        )
    if change.type_change == "risky":
        cast = (
            f"The data in that column will be cast from `{casts.display(change.before.type)}` "
            f"to `{casts.display(change.after.type)}`."
        )
        values = count(t, c, "NOT NULL")
        alter = f"You are about to alter the column `{c}` on the `{t}` table"
        findings.append(
            Finding(
                i,
                f"{alter}. The data in that column could be lost. {cast}",
                f"{alter}, which contains {values} non-null values. {cast}",
                values > 0,
                False,
            )
        )
    return findings
