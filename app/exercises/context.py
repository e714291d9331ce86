"""What a check can look at: the learner's history and answers, the replayed grading databases, and
the learner's own environments (read-only)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg

from app.exercises.model import Exercise, Migration


class CheckFailed(Exception):
    """Raised inside a check to fail it with a detail the learner can act on."""


@dataclass
class GradingContext:
    exercise: Exercise
    history: list[Migration]
    answers: dict[str, str]
    grading: dict[str, psycopg.Connection]  # env -> replayed grading database
    replay_errors: dict[str, str]  # env -> "migration: PostgreSQL error" where the replay stopped
    baseline: dict[str, dict[str, str]]  # env -> table -> "count|checksum" before the replay
    data_loss: list[str]  # destructive statements that hit rows during the replay
    open_learner: Callable[[str], psycopg.Connection]  # env -> read-only connection
    replay_from_empty: Callable[[], str | None]
    # env -> n autocommit sessions on one new copy of that environment's start state, before any replay
    # (the risk checks trace, deploy and send traffic there); None where grading cannot make copies.
    fresh_sessions: Callable[[str, int], list[psycopg.Connection]] | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # what several checks of one grading share
    locked: dict[str, str] = field(default_factory=dict)  # quiz id -> why it can no longer pass
    submitted: list[Migration] = field(default_factory=list)  # the whole saved history (history: replayed)
    schema: str | None = None  # the workspace's schema.prisma
    learner_rows: dict[str, list[dict]] = field(default_factory=dict)  # env -> its _prisma_migrations rows
    # The run's scratch database: replays from nothing run on `scratch` (learner SQL), are read on
    # `scratch_reader` (read-only, fixed search path).
    scratch: psycopg.Connection | None = None
    scratch_reader: psycopg.Connection | None = None
    baseline_data: dict[str, Any] = field(default_factory=dict)  # env -> fingerprints before the replay
    workers: Executor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1))  # parallel reads
    _learner: dict[str, psycopg.Connection] = field(default_factory=dict)

    @property
    def new_migrations(self) -> list[Migration]:
        start = set(self.exercise.start_names)
        return [m for m in self.history if m.name not in start]

    def learner(self, env: str) -> psycopg.Connection:
        if env not in self._learner:
            self._learner[env] = self.open_learner(env)
        return self._learner[env]

    def targets(self, target: str | list[str] | None) -> list[tuple[str, psycopg.Connection]]:
        """Resolve a check's `target`: `grading` (every grading database, the default), `grading:<env>`,
        or a learner environment `dev` / `staging` / `prod`."""
        names = [target] if isinstance(target, str) else list(target or ["grading"])
        resolved: list[tuple[str, psycopg.Connection]] = []
        for name in names:
            if name == "grading":
                resolved += [(f"grading:{env}", conn) for env, conn in self.grading.items()]
            elif name.startswith("grading:"):
                resolved.append((name, self.grading[name.split(":", 1)[1]]))
            else:
                resolved.append((name, self.learner(name)))
        return resolved

    def close(self) -> None:
        for conn in self._learner.values():
            conn.close()
        self._learner.clear()
