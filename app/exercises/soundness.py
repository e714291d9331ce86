"""Built-in soundness checks, run for every exercise (unless it opts out with a reason):

- `start-untouched`: the start migrations are byte-identical to the exercise's (same names, checksums);
- `schema-matches-history`: the workspace's schema.prisma is what its migrations build (the engine's diff
  between the two is empty): no schema change left without its migration;
- `envs-match-history`: each environment's real schema is what a replay of the migrations it records
  builds, and each record's checksum is its file's: no hand-made change (SQL console hotfix), no
  `_prisma_migrations` row faked or `migrate resolve --applied` in place of a deploy, no applied
  migration edited afterwards.

Replays run on the run's scratch database (learner SQL, in its own session); everything compared is read
on read-only sessions with a fixed search path, through the engine's introspection and differ.
"""

from __future__ import annotations

import psycopg

from app.exercises.context import CheckFailed, GradingContext
from app.exercises.history import apply_migration, pg_error_text
from app.exercises.model import Migration
from sandbox.migrate import SqlSchema, diff_schemas, introspect, reset_schemas, summarize
from sandbox.prisma import SchemaError, to_sql_schema

MESSAGES = {
    "start-untouched": "The exercise's starting migrations are left exactly as they were.",
    "schema-matches-history": "Your schema.prisma is exactly what your migrations build.",
    "envs-match-history": (
        "Each environment's schema is exactly what the migrations it records build (changes reach "
        "environments through migrations, not by hand)."
    ),
}
HINTS = {
    "start-untouched": "Applied migrations are history: put every change in a new migration.",
    "schema-matches-history": "Create a migration for the change (or undo it in schema.prisma).",
    "envs-match-history": (
        "Deploy with **Deploy** (`migrate deploy`); undo changes made by hand in the SQL console, and use "
        "`migrate resolve` only for a migration whose changes really are there."
    ),
}


def _summary(steps: list) -> str:
    return " ".join(line.strip() for line in summarize(steps) if line.strip())


def start_untouched(ctx: GradingContext) -> None:
    mine = {m.name: m for m in ctx.submitted}
    for original in ctx.exercise.start.migrations:
        found = mine.get(original.name)
        if found is None:
            raise CheckFailed(f"the starting migration `{original.name}` is missing from your history")
        if found.checksum != original.checksum:
            raise CheckFailed(f"the starting migration `{original.name}` was edited (its checksum changed)")


def replay_schema(ctx: GradingContext, migrations: list[Migration]) -> SqlSchema:
    """The schema `migrations` build from nothing, on the run's scratch database (cached; incremental
    when this list extends the one replayed last). Raises CheckFailed when one does not apply."""
    key = "replay:" + "|".join(m.checksum for m in migrations)
    if key in ctx.cache:
        return ctx.cache[key]
    done: list[Migration] = ctx.cache.setdefault("replayed", [])
    conn, reader = ctx.scratch, ctx.scratch_reader
    if conn is None or reader is None:
        raise RuntimeError("grading made no scratch database")
    if done != migrations[: len(done)]:
        reset_schemas(conn, keep=())
        done.clear()
    for migration in migrations[len(done):]:
        try:
            error = apply_migration(conn, migration)
        except psycopg.Error as failure:
            error = pg_error_text(failure)
        if error:
            done.clear()
            reset_schemas(conn, keep=())
            raise CheckFailed(f"`{migration.name}` does not apply to an empty database: {error}")
        done.append(migration)
    ctx.cache[key] = introspect(reader)
    return ctx.cache[key]


def schema_matches_history(ctx: GradingContext) -> None:
    if ctx.schema is None:
        return
    try:
        wanted = to_sql_schema(ctx.schema)
    except SchemaError as error:
        raise CheckFailed(f"schema.prisma has errors: {error}") from error
    steps = diff_schemas(replay_schema(ctx, ctx.history), wanted)
    if steps:
        raise CheckFailed(
            f"schema.prisma asks for changes no applied migration makes: {_summary(steps)}"
        )


def envs_match_history(ctx: GradingContext) -> None:
    files = {m.name: m for m in ctx.submitted}
    def applied(env: str) -> list[dict]:
        return [r for r in ctx.learner_rows.get(env, []) if r["finished_at"] and not r["rolled_back_at"]]

    envs = sorted(ctx.learner_rows, key=lambda e: len(applied(e)))  # replays extend one another
    # The learners' schemas, read concurrently (one session each) while the scratch replays run.
    real = {env: ctx.workers.submit(introspect, ctx.learner(env)) for env in envs}
    for env in envs:
        rows = applied(env)
        recorded: list[Migration] = []
        for row in rows:
            file = files.get(row["migration_name"])
            if file is None:
                raise CheckFailed(
                    f"{env} records `{row['migration_name']}` as applied, but no such migration is in your "
                    "history"
                )
            if row["checksum"] != file.checksum:
                raise CheckFailed(f"`{file.name}` was edited after it was applied to {env}")
            recorded.append(file)
        recorded.sort(key=lambda m: m.name)
        expected = replay_schema(ctx, recorded)
        steps = diff_schemas(expected, real[env].result())
        if steps:
            raise CheckFailed(
                f"{env}'s schema differs from what its recorded migrations build: {_summary(steps)}"
            )


BUILTINS = {
    "start-untouched": start_untouched,
    "schema-matches-history": schema_matches_history,
    "envs-match-history": envs_match_history,
}
