"""What an exercise file declares, as plain data: start state, seed, checks, hints, reference solution."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.course.problems import Problem
from sandbox import ENVIRONMENTS
from sandbox.migrate import Migration  # one `<name>/migration.sql` of a history, as the engine has it
from sandbox.risk import AppQuery

__all__ = [
    "ENVIRONMENTS", "Check", "Exercise", "Migration", "Play", "Problem", "Solution", "StartState", "Step",
]


@dataclass
class StartState:
    schema: str
    migrations: list[Migration]
    applied: dict[str, list[str]]  # env -> migration names applied there, in order
    seed: dict[str, str]  # env -> SQL run after the applied migrations


@dataclass
class Check:
    id: str
    kind: str
    params: dict[str, Any]
    message: str
    hint: str = ""


# Checks every exercise gets, before its own (an exercise may opt out of the soundness ones, with a reason).
BUILTIN_CHECKS = ("deploys", "start-untouched", "envs-match-history", "schema-matches-history")
STEP_ACTIONS = ("create", "create_only", "deploy", "sql", "terminal", "edit_migration")


@dataclass(frozen=True)
class Step:
    """One learner action of a play: `action` is one of STEP_ACTIONS, `args` its parameters."""

    action: str
    args: dict[str, Any]


@dataclass
class Solution:
    """A play: what a learner does (the reference solution, a mutant or an alternative)."""

    schema: str
    migrations: list[Migration]
    # Environments deployed to, in order, after the migrations were created (dev always has them).
    deployments: list[str]
    answers: dict[str, str]
    steps: list[Step] | None = None  # when given, replaces migrations + deployments
    name: str = "solution"
    why: str = ""
    fails: list[str] = field(default_factory=list)  # mutants: check ids that must be among the failed


Play = Solution


@dataclass
class Exercise:
    id: str  # "<lesson folder>/<exercise file stem>"
    lesson: str
    slug: str
    path: Path
    title: str
    summary: str
    body: str  # Markdown instructions
    body_line: int  # line of the file where the body starts (for problems)
    start: StartState
    app_queries: dict[str, list[AppQuery]]  # version -> the queries it sends (app/exercises/app_queries.py)
    grading_data: dict[str, str]  # env -> extra SQL only the hidden grading databases get
    checks: list[Check]
    hints: list[str]
    solution: Solution
    attempts_before_solution: int = 3
    quizzes: dict[str, dict[str, Any]] = field(default_factory=dict)  # check id -> question/choices
    topics: list[str] = field(default_factory=list)  # ids from app.course.topics.TOPICS
    mutants: list[Solution] = field(default_factory=list)  # plausible wrong plays: each must fail
    alternatives: list[Solution] = field(default_factory=list)  # other right plays: each must pass
    opt_out: dict[str, str] = field(default_factory=dict)  # built-in check id -> why it does not apply

    @property
    def start_names(self) -> list[str]:
        return [m.name for m in self.start.migrations]
