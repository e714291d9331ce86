"""The course's fixed list of topics, which every lesson and exercise declares in `topics:`.

The list is closed on purpose: a topic is a promise that the course teaches it (a lesson) and grades it
(exercises), and `coverage` counts both so a test can hold the course to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# id -> what a learner can do once the topic is covered (one line each in lessons/README.md).
TOPICS: dict[str, str] = {
    "what-why": "what a migration is and why schema changes are versioned",
    "dev-workflow": "changing the schema and creating migrations with `migrate dev`",
    "prod-workflow": "applying migrations to staging and production with `migrate deploy`",
    "migration-files": "the migrations folder, `migration.sql` and the `_prisma_migrations` table",
    "review-sql": "reading and editing the generated SQL before it ships (`--create-only`)",
    "small-migrations": "one change per migration, named for what it does",
    "data-loss": "statements that throw data away (drops, renames generated as drop + add)",
    "locks-downtime": "the locks each statement takes, the lock queue, `lock_timeout`, online forms",
    "deploy-ordering": "which goes first, the migration or the code, and why",
    "expand-contract": "breaking changes in phases: expand, backfill, switch, contract",
    "breaking-change-plan": "planning a change that running app versions would not survive",
    "prod-vs-dev": "why production differs from dev: data volume, traffic, edge-case rows",
    "staging-ci": "rehearsing migrations on staging and in CI before production",
    "out-of-sync": "drift, hotfixes and histories that disagree (`migrate status`, baselining)",
    "recovery": "what to do when a deploy fails: `migrate resolve`, forward fixes, restores",
    "rollback": "undoing a change: why down migrations are rarely the answer, and what is",
}

# The course's promise per topic: taught by this many lessons, graded by this many exercises.
LESSONS_PER_TOPIC = 1
EXERCISES_PER_TOPIC = 2


def unknown_topics(topics: Iterable[str]) -> list[str]:
    return [topic for topic in topics if topic not in TOPICS]


def describe_unknown(unknown: list[str]) -> str:
    return f"unknown topic `{unknown[0]}` (known: {', '.join(TOPICS)})"


@dataclass(frozen=True)
class TopicCoverage:
    topic: str
    lessons: int
    exercises: int

    @property
    def covered(self) -> bool:
        return self.lessons >= LESSONS_PER_TOPIC and self.exercises >= EXERCISES_PER_TOPIC


def coverage(
    lesson_topics: Iterable[Iterable[str]], exercise_topics: Iterable[Iterable[str]]
) -> list[TopicCoverage]:
    """For every topic of the list, how many lessons and exercises declare it (each counted once)."""
    lessons = [set(topics) for topics in lesson_topics]
    exercises = [set(topics) for topics in exercise_topics]
    return [
        TopicCoverage(topic, sum(topic in t for t in lessons), sum(topic in t for t in exercises))
        for topic in TOPICS
    ]
