"""A command's failure as data: Prisma's code, the migration, PostgreSQL's message (with its detail, hint
and position), the failing line, and the raw text.

The engine renders a failed migration as Prisma does (`P3018_TEXT`) and keeps that text in
`_prisma_migrations.logs`, as Prisma does; this reads it back, so a failure is the same data right after
the command (`CommandResult.failure`) and on any later view of the database (`failure_of_logs`)."""

from __future__ import annotations

from dataclasses import dataclass, field

SUMMARIES = {
    "P3018": "A migration failed to apply.",
    "P3009": "A failed migration blocks every new one in this database.",
}


@dataclass
class MigrationFailure:
    code: str  # Prisma's: P3018, P3009, ...
    migration: str = ""
    db_code: str = ""  # SQLSTATE, e.g. 23502
    message: str = ""  # "ERROR: column "nick" of relation "User" contains null values"
    notes: list[str] = field(default_factory=list)  # DETAIL: / HINT: lines
    position: list[str] = field(default_factory=list)  # the numbered lines up to the failing one
    where: str = ""  # table / column / constraint PostgreSQL named, when it gave no position
    raw: str = ""

    @property
    def summary(self) -> str:
        return SUMMARIES.get(self.code, "The command failed.")

    @property
    def statement(self) -> str:
        """The failing line of migration.sql (the last line of PostgreSQL's position), when known."""
        return self.position[-1] if self.position else ""


def parse_failure(text: str, code: str | None = None) -> MigrationFailure:
    """The failure a command printed (`Error: <code>` and what follows) or a migration's stored logs."""
    lines = text.splitlines()
    failure = MigrationFailure(code=code or _value(lines, "Error: ") or "", raw=text.strip())
    failure.migration = _value(lines, "Migration name: ")
    failure.db_code = _value(lines, "Database error code: ")
    if not failure.migration:  # P3009: "The `x` migration started at ... failed"
        for line in lines:
            if line.startswith("The `") and "` migration started at" in line:
                failure.migration = line[5 : line.index("` migration")]
                break
    _database_error(lines, failure)
    return failure


def _value(lines: list[str], prefix: str) -> str:
    return next((line[len(prefix) :].strip() for line in lines if line.startswith(prefix)), "")


def _database_error(lines: list[str], failure: MigrationFailure) -> None:
    start = next((i for i, line in enumerate(lines) if line.startswith(("ERROR: ", "FATAL: "))), None)
    if start is None:
        return
    failure.message = lines[start]
    in_position = False
    for line in lines[start + 1 :]:
        if line.startswith("DbError {"):
            failure.where = _where(line)
            break
        if line.startswith(("DETAIL: ", "HINT: ")):
            failure.notes.append(line)
        elif line == "Position:":
            in_position = True
        elif in_position and line.strip():
            failure.position.append(line)
        elif in_position:
            in_position = False


def _where(debug: str) -> str:
    """`table "User", column "nick"` from tokio-postgres' debug text of the error."""
    found = []
    for name in ("table", "column", "constraint"):
        marker = f'{name}: Some("'
        if marker in debug:
            value = debug.split(marker, 1)[1].split('")', 1)[0]
            found.append(f'{name} "{value}"')
    return ", ".join(found)


def failure_of_logs(logs: str | None) -> MigrationFailure:
    """The failure a `_prisma_migrations` row records in its logs (a migration that failed to apply)."""
    return parse_failure(logs or "", "P3018")
