"""Running a terminal line against the workspace: the Prisma commands, with DATABASE_URL choosing the
environment and output shaped like the real CLI's."""

from __future__ import annotations

from collections.abc import Callable

from app.panel import command_line, environments
from app.panel.active import Active
from app.panel.diff import run_diff
from app.panel.seed import seed_database
from app.panel.sql_console import table_counts
from app.panel.views import TerminalOutcome
from sandbox import ENVIRONMENTS
from sandbox.migrate import (
    location,
    migrate_deploy,
    migrate_dev,
    migrate_reset,
    migrate_resolve,
    migrate_status,
)

NOT_INTERACTIVE = "(This terminal cannot answer prompts: use the panel's buttons, or the --force flag.)"


BackupBeforeDeploy = Callable[[Active], None]


def run_command(
    active: Active,
    line: str,
    database_url: str,
    schema: str | None,
    max_schema_bytes: int,
    backup_before_deploy: BackupBeforeDeploy,
) -> TerminalOutcome:
    urls = {env: active.sandbox.url(env) for env in ENVIRONMENTS}
    session_url = database_url or urls["dev"]
    outcome = TerminalOutcome(command=line[:2000], output="", database_url=database_url)
    try:
        command = command_line.parse(line)
    except command_line.CommandError as exc:
        outcome.output, outcome.exit_code = f"{exc}\n\n{command_line.HELP}", 1
        return outcome
    if command.kind == "empty":
        return outcome
    if command.kind == "help":
        outcome.output = command_line.HELP
        return outcome
    if command.kind == "export":
        outcome.database_url = command.database_url or ""
        if command_line.env_of(outcome.database_url, urls) is None:
            outcome.output = "(This URL is none of your environments: prisma commands will not reach it.)"
        return outcome
    url = command.database_url or session_url
    env = command_line.env_of(url, urls)
    if env is None:
        outcome.output = (
            f"Error: P1001\n\nCan't reach database server at `{_host_of(url)}`\n\n"
            "Use one of the DATABASE_URLs shown on the environment cards."
        )
        outcome.exit_code = 1
        return outcome
    if schema is not None and schema != active.row.schema_text:
        if len(schema.encode()) > max_schema_bytes:
            outcome.output, outcome.exit_code = "schema.prisma is too large: it was not saved.", 1
            return outcome
        active.row.schema_text = schema  # the editor is the file on disk
    text, code = _prisma(active, command, env, backup_before_deploy)
    conninfo = active.sandbox.conninfo(env)
    outcome.output = text.replace(location(conninfo), location_of(urls[env])).rstrip("\n")
    outcome.exit_code = code
    return outcome


def _prisma(
    active: Active, command: command_line.Command, env: str, backup_before_deploy: BackupBeforeDeploy
) -> tuple[str, int]:
    args = command.args
    sandbox, history = active.sandbox, active.history
    conninfo = sandbox.conninfo(env)
    header = _header(sandbox.dbname(env), sandbox.url(env))
    verb = " ".join(args[:2])
    if verb == "migrate dev":
        result = migrate_dev(
            history,
            conninfo,
            None,
            active.row.schema_text,
            name=command.option("--name"),
            create_only=command.flag("--create-only"),
            known=environments.known_schemas(sandbox, env, active.row),
        )
        extra = f"\n{NOT_INTERACTIVE}" if result.needs_confirmation or result.needs_reset else ""
        return header + result.output + extra, result.exit_code
    if verb == "migrate deploy":
        if env == "prod":
            backup_before_deploy(active)
        result = migrate_deploy(history, conninfo)
        return header + result.output, result.exit_code
    if verb == "migrate status":
        result = migrate_status(history, conninfo)
        return header + result.output, result.exit_code
    if verb == "migrate reset":
        result = migrate_reset(history, conninfo, force=command.flag("--force"))
        if result.needs_confirmation:
            lost = [f"  - {t.rows} rows in {t.name}" for t in table_counts(conninfo) if t.rows]
            loss = ("\nThis would delete:\n" + "\n".join(lost) + "\n") if lost else ""
            return header + result.output + loss + "\nRun it again with --force to confirm.", 1
        return header + result.output, result.exit_code
    if verb == "migrate resolve":
        result = migrate_resolve(
            history,
            conninfo,
            applied=command.option("--applied"),
            rolled_back=command.option("--rolled-back"),
        )
        return header + result.output, result.exit_code
    if verb == "migrate diff":
        return run_diff(active, command)
    if verb == "db seed":
        return seed_database(conninfo), 0
    return f"Unknown command: prisma {' '.join(args)}\n\n{command_line.HELP}", 1


def _header(dbname: str, url: str) -> str:
    return (
        "Prisma schema loaded from prisma/schema.prisma\n"
        f'Datasource "db": PostgreSQL database "{dbname}", schema "public" at "{location_of(url)}"\n\n'
    )


def location_of(url: str) -> str:
    return url.rsplit("@", 1)[-1].split("/", 1)[0]


def _host_of(url: str) -> str:
    return location_of(url) if "@" in url else url[:100]
