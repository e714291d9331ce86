"""What the panel templates show: plain data built by the service, so templates hold no logic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sandbox.migrate import MigrationFailure

ENV_LABELS = {"dev": "Development", "staging": "Staging", "prod": "Production"}

MigrationState = Literal["applied", "pending", "failed", "rolled back", "edited", "missing"]


@dataclass
class SchemaProblem:
    line: int
    column: int
    message: str
    source_line: str = ""


@dataclass
class MigrationRow:
    name: str
    states: dict[str, MigrationState]


@dataclass(order=True)
class TableCount:
    name: str
    rows: int


@dataclass
class BackupView:
    id: int
    label: str
    taken_at: datetime
    rows_kept: bool = True  # False once its database is gone: a restore brings the schema back, not rows


@dataclass
class EnvCard:
    env: str
    url: str
    status: list[str]  # Prisma's words, one line each
    in_sync: bool
    tables: list[TableCount] = field(default_factory=list)
    backups: list[BackupView] = field(default_factory=list)
    notice: str = ""  # the result of the last action on this environment
    notice_ok: bool = True
    confirm_reset: bool = False  # show the reset confirmation naming the data to be lost
    failure: MigrationFailure | None = None  # the failed migration blocking this environment, readable
    drift: list[str] = field(default_factory=list)  # what the database has that its migrations do not
    drift_checked: bool = False  # False when drift could not be computed (failed migration, replay error)
    confirm_restore: int | None = None  # the backup whose restore awaits confirmation
    traffic: Any = None  # sandbox.risk.Timeline of the last deploy run under live traffic

    @property
    def label(self) -> str:
        return ENV_LABELS[self.env]


# Prisma's warnings that lose nothing: the migration may fail on existing rows, and then changes nothing.
CAN_FAIL_WARNINGS = (
    "A unique constraint covering",
    "Added the required column",
    "Made the column",
    "The primary key for the",
)


@dataclass
class MigrationOutcome:
    """The answer to Create migration / Apply / a confirmation."""

    kind: Literal["created", "draft", "confirm", "nothing", "schema_errors", "failed", "drift", "refused"]
    name: str = ""
    sql: str = ""
    warnings: list[str] = field(default_factory=list)
    unexecutable: list[str] = field(default_factory=list)
    message: str = ""
    output: str = ""  # the Prisma-shaped text, as the terminal would print it
    create_only: bool = False
    failure: MigrationFailure | None = None  # a failed Apply, readable
    editable: bool = False  # the failed draft can be edited and applied again, or discarded

    @property
    def loses_data(self) -> bool:
        """Whether a warning is about losing data, rather than a change that can fail (a new unique
        constraint, a required column without a default): Prisma asks to confirm both."""
        return any(not w.startswith(CAN_FAIL_WARNINGS) for w in self.warnings)


@dataclass
class SqlError:
    message: str
    sqlstate: str = ""
    line: int | None = None
    column: int | None = None
    source_line: str = ""
    detail: str = ""
    hint: str = ""


@dataclass
class SqlOutcome:
    env: str
    sql: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    truncated: bool = False
    cut_note: str = ""  # what was cut from the result (rows, bytes, long values), for the note
    status: list[str] = field(default_factory=list)  # command tags, e.g. "INSERT 0 3"
    error: SqlError | None = None
    limit: int = 200


@dataclass
class TerminalOutcome:
    command: str
    output: str
    exit_code: int = 0
    database_url: str = ""


@dataclass
class PanelView:
    context: str
    schema_text: str
    history: list[MigrationRow]
    envs: list[EnvCard]
    schema_problems: list[SchemaProblem] = field(default_factory=list)
    draft: MigrationOutcome | None = None  # a Create-only migration waiting for Apply
    rebuilt: bool = False  # the databases were rebuilt from the saved state on this request
    rebuild_note: str = ""  # what came back with them and what did not

    def env(self, name: str) -> EnvCard:
        return next(card for card in self.envs if card.env == name)

    @property
    def urls(self) -> dict[str, str]:
        return {card.env: card.url for card in self.envs}
