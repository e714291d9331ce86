"""`migrate dev | deploy | status | reset | resolve` and `migrate diff`, as Prisma Migrate runs them.

Each command takes a history store and connection strings and returns a `CommandResult`: the text
Prisma would print (`output`), its exit code, and the same facts as data for the web app (what it
applied, found pending, failed or edited; the migration it created; its findings line by line in
`report`; Prisma's error `message`), so that no caller reads the printed text. Learner
mistakes and Prisma's refusals (P3009, P3018, drift, ...) are results, never exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import psycopg

from sandbox.migrate import table
from sandbox.migrate.differ import diff_schemas
from sandbox.migrate.failure import MigrationFailure, parse_failure
from sandbox.migrate.history import HistoryStore, Migration, MigrationFileMissing, find, new_migration_name
from sandbox.migrate.introspection import introspect
from sandbox.migrate.render import render_script
from sandbox.migrate.script_diff import calculate, diff_script, schema_error_text
from sandbox.migrate.shadow import ShadowCreationError, ShadowReplayError, location, replay, reset_schemas
from sandbox.migrate.sqlschema import SqlSchema
from sandbox.migrate.steps import Step
from sandbox.migrate.summary import summarize
from sandbox.migrate.table import ApplyError, MigrationRecord, SchemaNotEmpty
from sandbox.migrate.warnings import check_warnings
from sandbox.prisma import SchemaError

FOLDER_LABEL = "prisma/migrations"
NOT_APPLIED_HINT = (
    "To apply migrations in development run prisma migrate dev.\n"
    "To apply migrations in production run prisma migrate deploy."
)
DRIFT_DETECTED = (
    "Drift detected: Your database schema is not in sync with your migration history.\n\n"
    "The following is a summary of the differences between the expected database schema given your "
    "migrations files, and the actual schema of the database.\n\n"
    "This summary details discrepancies by listing elements found in the current database schema but "
    "missing in your Prisma schema, indicating the Prisma schema updates required for alignment.\n"
)
FIRST_TIME = (
    "\nIf you are running this the first time on an existing database, please make sure to read this "
    "documentation page:\nhttps://www.prisma.io/docs/guides/database/developing-with-prisma-migrate/"
    "troubleshooting-development\n"
)
RESET_PROMPT = "Are you sure you want to reset your database? All data will be lost."
DEV_PROMPT = "Are you sure you want to create and apply this migration?"
DEV_PROMPT_CREATE_ONLY = "Are you sure you want to create this migration?"
UNEXECUTABLE_HINT = (
    "You can use prisma migrate dev --create-only to create the migration file, and manually modify it "
    "to address the underlying issue(s).\nThen run prisma migrate dev to apply it and verify it works.\n"
)
EMPTY_MIGRATION = "-- This is an empty migration."


@dataclass
class CommandResult:
    """What a command printed and decided. `applied` lists the migrations this run applied; `report` what
    it found, line by line, without counts and advice (`migrate status`: the database's state; `migrate
    dev` with nothing to create: why); `message` Prisma's error message (without `Error: <code>`)."""

    output: str = ""
    exit_code: int = 0
    error_code: str | None = None
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    created_migration: Migration | None = None
    sql: str | None = None
    warnings: list[str] = field(default_factory=list)
    unexecutable: list[str] = field(default_factory=list)
    needs_confirmation: bool = False
    needs_reset: bool = False
    drift: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    message: str = ""

    def say(self, text: str = "") -> None:
        self.output += text + "\n"

    def note(self, text: str = "") -> None:
        """Say a finding (not advice): it is kept in `report` as well."""
        self.say(text)
        self.report += [line for line in text.splitlines() if line.strip()]

    @property
    def failure(self) -> MigrationFailure | None:
        """Why the command failed, as data (its code, the migration, PostgreSQL's error and position)."""
        return parse_failure(self.output, self.error_code) if self.exit_code != 0 else None

    def fail(self, code: str | None, message: str, exit_code: int = 1) -> None:
        self.error_code = code
        self.message = message
        self.exit_code = exit_code
        self.say(f"Error: {code}\n\n{message}" if code else f"Error: {message}")


# -- shared pieces -------------------------------------------------------------------------------

_PRISMA_ERRORS = (ApplyError, SchemaNotEmpty, ShadowReplayError, ShadowCreationError, MigrationFileMissing)


class PrismaError(Exception):
    """A refusal with Prisma's code and message (P3008, P3009, P3011, ...)."""

    def __init__(self, code: str | None, message: str) -> None:
        self.code = code
        super().__init__(message)


def _run(body: Callable[[CommandResult], None]) -> CommandResult:
    result = CommandResult()
    try:
        body(result)
    except (PrismaError, *_PRISMA_ERRORS) as err:
        result.fail(err.code, str(err).rstrip("\n"))
    except SchemaError as err:
        result.fail("P1012", schema_error_text(err, err.path or "schema.prisma"))
    except psycopg.OperationalError as err:
        result.fail("P1001", f"Can't reach the database server.\n\n{str(err).strip()}")
    return result


@contextmanager
def _connect(conninfo: str | psycopg.Connection) -> Iterator[psycopg.Connection]:
    if isinstance(conninfo, psycopg.Connection):  # the caller's open connection: it closes it
        yield conninfo
        return
    with psycopg.connect(conninfo, autocommit=True) as conn:
        yield conn


def _files(folder: str, names: Sequence[str]) -> str:
    """Prisma's tree of migration folders (printFilesFromMigrationIds)."""
    return f"{folder}/" + "".join(f"\n  └─ {name}/\n    └─ migration.sql" for name in names)


def _found(result: CommandResult, migrations: Sequence[Migration]) -> None:
    n = len(migrations)
    result.say(
        f"{n} migration{'s' if n > 1 else ''} found in {FOLDER_LABEL}"
        if n
        else f"No migration found in {FOLDER_LABEL}"
    )


def _started(record: MigrationRecord) -> str:
    started = record.started_at.astimezone(UTC)
    fraction = f".{started.microsecond:06d}" if started.microsecond else ""
    return started.strftime("%Y-%m-%d %H:%M:%S") + fraction + " UTC"


@dataclass
class _Diagnosis:
    """The history of the folder against the migrations table (Prisma's diagnoseMigrationHistory)."""

    has_table: bool
    applied: list[str]
    pending: list[str]
    failed: list[str]
    edited: list[str]
    missing_locally: list[str]
    failed_records: list[MigrationRecord]


def _diagnose(
    migrations: Sequence[Migration], records: Sequence[MigrationRecord], has_table: bool
) -> _Diagnosis:
    names = {m.name for m in migrations}
    # Rolled-back rows do not count: Prisma applies those migrations again.
    recorded = {r.migration_name for r in records if r.rolled_back_at is None}
    edited = []
    for m in migrations:
        live = [r for r in records if r.migration_name == m.name and r.rolled_back_at is None]
        if any(r.checksum != m.checksum for r in live):
            edited.append(m.name)
    applied = {r.migration_name for r in records if r.applied}
    return _Diagnosis(
        has_table=has_table,
        applied=[m.name for m in migrations if m.name in applied],
        pending=[m.name for m in migrations if m.name not in recorded],
        failed=[r.migration_name for r in records if r.failed],
        edited=edited,
        missing_locally=list(
            dict.fromkeys(r.migration_name for r in records if r.migration_name not in names)
        ),
        failed_records=[r for r in records if r.failed],
    )


def _read_state(conn: psycopg.Connection, migrations: Sequence[Migration]) -> _Diagnosis:
    records = table.read_records(conn)
    return _diagnose(migrations, records or [], records is not None)


def _found_failed(diagnosis: _Diagnosis) -> PrismaError:
    details = ""
    for record in diagnosis.failed_records:
        logs = (record.logs or "").strip()
        details += (
            f"The `{record.migration_name}` migration started at {_started(record)} failed"
            + (f" with the following logs:\n{logs}" if logs else "")
            + "\n"
        )
    return PrismaError(
        "P3009",
        "migrate found failed migrations in the target database, new migrations will not be applied. "
        "Read more about how to resolve migration issues in a production database: "
        f"https://pris.ly/d/migrate-resolve\n{details}",
    )


def _apply_pending(conn: psycopg.Connection, migrations: Sequence[Migration], result: CommandResult) -> None:
    """Prisma's applyMigrations: refuse after a failure (P3009), then run each pending file in order."""
    table.initialize(conn)
    diagnosis = _read_state(conn, migrations)
    if diagnosis.failed:
        raise _found_failed(diagnosis)
    for migration in migrations:
        if migration.name in diagnosis.pending:
            result.say(f"Applying migration `{migration.name}`")
            table.apply_migration(conn, migration.name, migration.sql, migration.checksum)
            result.applied.append(migration.name)


def _modified_warning(result: CommandResult, edited: Sequence[str]) -> None:
    if edited:
        result.note("WARNING The following migrations have been modified since they were applied:")
        for name in edited:
            result.note(name)
        result.say()


# -- migrate deploy ------------------------------------------------------------------------------


def migrate_deploy(history: HistoryStore, url: str | psycopg.Connection) -> CommandResult:
    """Apply pending migrations in order; no shadow, no drift check, never a reset."""

    def body(result: CommandResult) -> None:
        migrations = history.list()
        _found(result, migrations)
        result.say()
        with _connect(url) as conn:
            table.lock(conn)
            diagnosis = _read_state(conn, migrations)
            result.failed, result.edited = diagnosis.failed, diagnosis.edited
            result.pending = list(diagnosis.pending)
            _modified_warning(result, diagnosis.edited)
            try:
                _apply_pending(conn, migrations, result)
            finally:
                result.pending = [n for n in diagnosis.pending if n not in result.applied]
        result.say()
        if not result.applied:
            result.say("No pending migrations to apply.")
            return
        result.say("The following migration(s) have been applied:\n")
        result.say(_files("migrations", result.applied))
        result.say("\nAll migrations have been successfully applied.")

    return _run(body)


# -- migrate status ------------------------------------------------------------------------------


def migrate_status(
    history: HistoryStore,
    url: str | psycopg.Connection,
    records: list[MigrationRecord] | None | Literal["read"] = "read",
) -> CommandResult:
    """Prisma's texts; exit code 1 when the database is not in sync with the folder. `url` may be an open
    autocommit connection, for callers that read the same database anyway (a new one costs ~2 ms), and
    `records` the migrations table as such a caller just read it (`table.read_records`: None when there
    is none), so that it is not read again."""

    def body(result: CommandResult) -> None:
        migrations = history.list()
        if records == "read":
            with _connect(url) as conn:
                diagnosis = _read_state(conn, migrations)
        else:
            diagnosis = _diagnose(migrations, records or [], records is not None)
        result.failed, result.edited, result.pending = diagnosis.failed, diagnosis.edited, diagnosis.pending
        _found(result, migrations)
        pending, missing = diagnosis.pending, diagnosis.missing_locally
        if pending and not missing:
            plural = "s" if len(pending) > 1 else ""
            result.note(f"Following migration{plural} have not yet been applied:")
            result.note("\n".join(pending) + "\n")
            result.say(NOT_APPLIED_HINT)
            result.exit_code = 1
            return
        if pending and missing:
            last = _last_common(migrations, pending)
            result.note(
                "Your local migration history and the migrations table from your database are different:\n"
            )
            result.note(f"The last common migration is: {last}\n")
            result.note(f"The migration{'s' if len(pending) > 1 else ''} have not yet been applied:")
            result.note("\n".join(pending) + "\n")
            s = "s" if len(missing) > 1 else ""
            result.note(f"The migration{s} from the database are not found locally in {FOLDER_LABEL}:")
            result.note("\n".join(missing))
            result.exit_code = 1
            return
        if not diagnosis.has_table:
            result.note("The current database is not managed by Prisma Migrate.\n")
            result.say("Read more about how to baseline an existing production database:")
            result.say("https://pris.ly/d/migrate-baseline")
            result.exit_code = 1
            return
        if diagnosis.failed:
            failed = diagnosis.failed
            result.note(f"Following migration{'s' if len(failed) > 1 else ''} have failed:")
            result.note("\n".join(failed) + "\n")
            result.say(
                "During development if the failed migration(s) have not been deployed to a production "
                "database you can then fix the migration(s) and run prisma migrate dev.\n"
            )
            result.say("The failed migration(s) can be marked as rolled back or applied:\n")
            result.say("- If you rolled back the migration(s) manually:")
            result.say(f'prisma migrate resolve --rolled-back "{failed[0]}"\n')
            result.say("- If you fixed the database manually (hotfix):")
            result.say(f'prisma migrate resolve --applied "{failed[0]}"\n')
            result.say("Read more about how to resolve migration issues in a production database:")
            result.say("https://pris.ly/d/migrate-resolve")
            result.exit_code = 1
            return
        result.say()
        if diagnosis.edited:
            # Prisma's status stays silent here; the course reports edits, which deploy warns about.
            _modified_warning(result, diagnosis.edited)
            result.exit_code = 1
            return
        result.note("Database schema is up to date!")

    return _run(body)


def _last_common(migrations: Sequence[Migration], pending: Sequence[str]) -> str:
    index = next(i for i, m in enumerate(migrations) if m.name in pending)
    return migrations[index - 1].name if index > 0 else ""


# -- migrate resolve -----------------------------------------------------------------------------


def migrate_resolve(
    history: HistoryStore, url: str, applied: str | None = None, rolled_back: str | None = None
) -> CommandResult:
    """Mark a failed migration rolled back, or a migration applied (hotfix, baseline)."""

    def body(result: CommandResult) -> None:
        if applied and rolled_back:
            raise PrismaError(None, "Pass either --applied or --rolled-back, not both.")
        if not applied and not rolled_back:
            raise PrismaError(
                None,
                "--applied or --rolled-back must be part of the command like:\n"
                "prisma migrate resolve --applied 20201231000000_example\n"
                "prisma migrate resolve --rolled-back 20201231000000_example",
            )
        with _connect(url) as conn:
            table.lock(conn)
            if applied:
                _resolve_applied(conn, history.list(), applied)
                result.say(f"Migration {applied} marked as applied.")
            elif rolled_back:
                _resolve_rolled_back(conn, rolled_back)
                result.say(f"Migration {rolled_back} marked as rolled back.")
            result.failed = _read_state(conn, history.list()).failed

    return _run(body)


def _resolve_applied(conn: psycopg.Connection, migrations: Sequence[Migration], name: str) -> None:
    migration = find(migrations, name)
    if migration is None:
        raise PrismaError(
            "P3017",
            f"The migration {name} could not be found. Please make sure that the migration exists, and that "
            'you included the whole name of the directory. (example: "20201207184859_initial_migration")',
        )
    if not table.has_table(conn):
        table.create_table(conn)  # baselining: no emptiness check, unlike deploy
    records = [r for r in table.list_records(conn) if r.migration_name == name]
    if any(r.finished_at is not None for r in records):
        raise PrismaError("P3008", f"The migration `{name}` is already recorded as applied in the database.")
    for record in records:
        if record.failed:
            table.mark_rolled_back(conn, record.id)
    table.mark_applied(conn, name, migration.checksum)


def _resolve_rolled_back(conn: psycopg.Connection, name: str) -> None:
    records = [r for r in table.list_records(conn) if r.migration_name == name]
    failed = [r for r in records if r.failed]
    if not records:
        raise PrismaError(
            "P3011",
            f"Migration `{name}` cannot be rolled back because it was never applied to the database. "
            'Hint: did you pass in the whole migration name? (example: "20201207184859_initial_migration")',
        )
    if not failed:
        raise PrismaError(
            "P3012", f"Migration `{name}` cannot be rolled back because it is not in a failed state."
        )
    for record in failed:
        table.mark_rolled_back(conn, record.id)


# -- migrate reset -------------------------------------------------------------------------------


def migrate_reset(history: HistoryStore, url: str, force: bool = False) -> CommandResult:
    """Drop everything in the database's schemas, then apply every migration."""

    def body(result: CommandResult) -> None:
        if not force:
            result.needs_confirmation = True
            result.exit_code = 1
            result.say(RESET_PROMPT)
            return
        migrations = history.list()
        with _connect(url) as conn:
            table.lock(conn)
            reset_schemas(conn, keep=())
            _apply_pending(conn, migrations, result)
        result.say()
        result.say("Database reset successful")
        if result.applied:
            result.say("\nThe following migration(s) have been applied:\n")
            result.say(_files("migrations", result.applied))

    return _run(body)


# -- migrate dev ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownSchemas:
    """What a caller already knows, to spare `migrate dev` work it would repeat, each answering exactly as
    the work would: `replayed(migrations, schemas)`, the schema those migrations replay to on the shadow
    (a cache of earlier replays, replaying on a shadow of its own on a miss; ShadowReplayError when one
    fails); `in_sync(conn, migrations, schemas)`, True only when the database is known to hold exactly
    what they replay to (its catalog fingerprint unchanged since it was found without drift)."""

    replayed: Callable[[Sequence[Migration], Sequence[str]], SqlSchema]
    in_sync: Callable[[psycopg.Connection, Sequence[Migration], Sequence[str]], bool]


@contextmanager
def _known_or_shadow(
    known: KnownSchemas | None, shadow_url: str | psycopg.Connection | None
) -> Iterator[KnownSchemas]:
    """The caller's `known`, or the shadow database (under the migrate lock) replayed on each time, which
    knows no database to be in sync beforehand."""
    if known is not None:
        yield known
        return
    if shadow_url is None:
        raise ValueError("migrate dev needs a shadow database, or `known` to replay on one")
    with _connect(shadow_url) as shadow:
        table.lock(shadow)
        yield KnownSchemas(replayed=lambda ms, listed: replay(shadow, ms, listed), in_sync=lambda *_: False)


def migrate_dev(
    history: HistoryStore,
    url: str | psycopg.Connection,
    shadow_url: str | psycopg.Connection | None,
    schema: str,
    name: str | None = None,
    create_only: bool = False,
    accept_data_loss: bool = False,
    now: datetime | None = None,
    schema_path: str = "schema.prisma",
    known: KnownSchemas | None = None,
) -> CommandResult:
    """Replay on the shadow, check drift, apply pending, create the next migration and apply it.
    `schema_path` names the schema file in messages. With `known`, the shadow (`shadow_url`: None) and
    the drift check are the caller's (see KnownSchemas)."""

    def body(result: CommandResult) -> None:
        target = calculate(schema, schema_path)
        migrations = history.list()
        with _connect(url) as dev, _known_or_shadow(known, shadow_url) as schemas:
            table.lock(dev)
            diagnosis = _read_state(dev, migrations)
            result.failed, result.edited, result.pending = (
                diagnosis.failed,
                diagnosis.edited,
                diagnosis.pending,
            )
            applied = [m for m in migrations if m.name in diagnosis.applied]
            listed = target.listed
            expected = schemas.replayed(applied, listed)
            in_sync = schemas.in_sync(dev, applied, listed)
            drift = [] if in_sync else diff_schemas(expected, introspect(dev, listed))
            full = expected if len(applied) == len(migrations) else schemas.replayed(migrations, listed)
            if _needs_reset(result, diagnosis, drift, url, target.declared):
                return
            _apply_pending(dev, migrations, result)
            if result.applied:
                result.say("\nThe following migration(s) have been applied:\n")
                result.say(_files("migrations", result.applied) + "\n")
            result.pending = []
            steps = diff_schemas(full, target)
            checked = check_warnings(steps, dev)
            result.warnings, result.unexecutable = list(checked.warnings), list(checked.unexecutable)
            if not steps and not create_only:
                result.note(
                    "Your database is now in sync with your schema."
                    if result.applied
                    else "Already in sync, no schema change or pending migration was found."
                )
                return
            script = checked.file_header() + _render(steps)
            result.sql = script
            if checked.unexecutable or checked.warnings:
                result.say(checked.console_text().rstrip("\n") + "\n")
            if checked.unexecutable and not create_only:
                result.say(UNEXECUTABLE_HINT)
                result.exit_code = 1
                return
            if checked.warnings:
                if not accept_data_loss:
                    result.needs_confirmation = True
                    result.exit_code = 1
                    result.say(DEV_PROMPT_CREATE_ONLY if create_only else DEV_PROMPT)
                    return
            existing = [m.name for m in migrations]
            migration = Migration(new_migration_name(name or "", existing, now), script)
            history.add(migration)
            result.created_migration = migration
            if create_only:
                result.say(
                    f"Prisma Migrate created the following migration without applying it {migration.name}\n"
                )
                result.say("You can now edit it and apply it by running prisma migrate dev.")
                return
            result.say(f"Applying migration `{migration.name}`")
            table.apply_migration(dev, migration.name, migration.sql, migration.checksum)
            result.applied.append(migration.name)
            result.say(
                "\nThe following migration(s) have been created and applied from new schema changes:\n"
            )
            result.say(_files(FOLDER_LABEL, [migration.name]) + "\n")
            result.say("Your database is now in sync with your schema.")

    return _run(body)


def _render(steps: list[Step]) -> str:
    return render_script(steps) if steps else EMPTY_MIGRATION


def _summary(steps: list[Step]) -> list[str]:
    return list(summarize(steps))


def _needs_reset(
    result: CommandResult,
    diagnosis: _Diagnosis,
    drift: list[Step],
    url: str | psycopg.Connection,
    schemas: Sequence[str] = (),
) -> bool:
    """Prisma's reset conditions for dev: failed or edited migrations, drift, a diverging history."""
    reasons = [f"The migration `{name}` failed." for name in diagnosis.failed]
    reasons += [f"The migration `{name}` was modified after it was applied." for name in diagnosis.edited]
    if drift:
        result.drift = _summary(drift)
        reasons.append(
            DRIFT_DETECTED
            + ("" if diagnosis.has_table else FIRST_TIME)
            + "\n"
            + "\n".join(result.drift)
            + "\n"
        )
    missing = diagnosis.missing_locally
    if missing and diagnosis.pending:
        reasons.append("The migrations recorded in the database diverge from the local migrations directory.")
    elif missing:
        reasons.append(
            "The following migration(s) are applied to the database but missing from the local "
            f"migrations directory: {', '.join(missing)}"
        )
    if not reasons:
        return False
    result.needs_reset = True
    result.exit_code = 130
    text = reasons[0] if len(reasons) == 1 else "".join(f"- {reason}\n" for reason in reasons)
    result.say(text)  # Prisma prints the reason and a newline: a blank line after a summary or a list
    # With a datasource's `schemas`, Prisma names them all, as listed.
    what = f'following schemas: "{", ".join(schemas)}"' if schemas else '"public" schema'
    result.say(f'We need to reset the {what} at "{location(url)}"\n')
    result.say("You may use prisma migrate reset to drop the development database.")
    result.say("All data will be lost.")
    return True


# -- migrate diff --------------------------------------------------------------------------------


def diff(
    from_schema: str | None,
    to_schema: str | None,
    exit_code: bool = False,
    from_path: str = "schema.prisma",
    to_path: str = "schema.prisma",
) -> CommandResult:
    """`prisma migrate diff --from-(empty|schema) --to-(schema|empty) --script`; None means empty.
    The paths name the files in messages."""

    def body(result: CommandResult) -> None:
        result.sql, changed = diff_script(from_schema, to_schema, from_path, to_path)
        result.output = result.sql if result.sql.endswith("\n") else result.sql + "\n"
        if exit_code and changed:
            result.exit_code = 2

    return _run(body)
