"""Check kinds about the migration history, where it was applied, and quiz answers."""

from __future__ import annotations

import re

from app.exercises import history as hist
from app.exercises import sqltree
from app.exercises.context import CheckFailed, GradingContext
from app.exercises.model import Migration

TIMESTAMP_PREFIX = re.compile(r"^\d{14}_")


def short_name(migration_name: str) -> str:
    """`20240101120000_add_email` -> `add_email` (the part the learner typed)."""
    return TIMESTAMP_PREFIX.sub("", migration_name)


def _selected(ctx: GradingContext, which: str) -> list[Migration]:
    if which == "all":
        return ctx.history
    if which == "new":
        return ctx.new_migrations
    if which == "latest":
        return ctx.history[-1:]
    return [m for m in ctx.history if re.fullmatch(which, short_name(m.name))]


def migration_count(ctx: GradingContext, p: dict) -> None:
    selected = _selected(ctx, p.get("of", "new"))
    got = len(selected)
    low, high = p.get("min", p.get("count", 0)), p.get("max", p.get("count"))
    if got < low or (high is not None and got > high):
        expected = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
        names = ", ".join(f"`{short_name(m.name)}`" for m in selected) or "none"
        raise CheckFailed(f"expected {expected}, found {got}: {names}")


def migration_names(ctx: GradingContext, p: dict) -> None:
    names = [short_name(m.name) for m in ctx.new_migrations]
    patterns = list(p["names"])
    if len(names) != len(patterns) or not all(
        re.fullmatch(pat, name) for pat, name in zip(patterns, names, strict=False)
    ):
        shown = ", ".join(f"`{n}`" for n in names) or "none yet"
        wanted = ", ".join(f"`{pattern}`" for pattern in patterns)
        raise CheckFailed(f"your new migrations are named {shown}; expected names matching {wanted}")


def _applied(ctx: GradingContext, env: str) -> dict[str, dict]:
    rows = hist.applied_migrations(ctx.learner(env))
    return {r["migration_name"]: r for r in rows if r["finished_at"] and not r["rolled_back_at"]}


def migration_applied(ctx: GradingContext, p: dict) -> None:
    selected = _selected(ctx, p.get("migration", "new"))
    if not selected:
        raise CheckFailed("there is no migration to look for")
    want = p.get("applied", True)
    for env in p["envs"]:
        applied = _applied(ctx, env)
        for m in selected:
            if (m.name in applied) != want:
                state = "is not applied" if want else "is already applied"
                raise CheckFailed(f"{m.name} {state} in {env}")


def applied_in_order(ctx: GradingContext, p: dict) -> None:
    """Each selected migration finished in envs[i] before it started in envs[i+1]."""
    selected = _selected(ctx, p.get("migration", "new"))
    if not selected:
        raise CheckFailed("there is no migration to look for")
    per_env = {env: _applied(ctx, env) for env in p["envs"]}
    for m in selected:
        for first, then in zip(p["envs"], p["envs"][1:], strict=False):
            a, b = per_env[first].get(m.name), per_env[then].get(m.name)
            if a is None or b is None:
                missing = first if a is None else then
                raise CheckFailed(f"{m.name} is not applied in {missing}")
            if a["finished_at"] > b["started_at"]:
                raise CheckFailed(f"{m.name} reached {then} before {first}")


def replays_from_empty(ctx: GradingContext, p: dict) -> None:
    error = ctx.replay_from_empty()
    if error:
        raise CheckFailed(error)


def statement(ctx: GradingContext, p: dict) -> None:
    """A statement of the selected migrations whose parse tree (PostgreSQL's parser, through pglast) is a
    `node` with the `where` fields: e.g. `node: IndexStmt, where: {concurrent: true}`."""
    selected = _selected(ctx, p.get("migration", "new"))
    found = [m.name for m in selected if sqltree.find(m.sql, p["node"], p.get("where") or {})]
    if p.get("present", True) and not found:
        if not selected:
            raise CheckFailed("there is no migration to look in yet")
        names = ", ".join(f"`{short_name(m.name)}`" for m in selected)
        raise CheckFailed(f"none of your migrations ({names}) has such a statement")
    if not p.get("present", True) and found:
        raise CheckFailed(f"found in {', '.join(f'`{short_name(n)}`' for n in found)}")


def quiz(ctx: GradingContext, p: dict) -> None:
    if p["_id"] in ctx.locked:
        raise CheckFailed(ctx.locked[p["_id"]])
    answer = ctx.answers.get(p["_id"])
    if answer is None:
        raise CheckFailed("no answer chosen yet")
    if answer != str(p["answer"]):
        why = {str(k): str(v) for k, v in (p.get("explain") or {}).items()}.get(answer)
        chosen = {str(k): str(v) for k, v in p["choices"].items()}.get(answer, answer)
        raise CheckFailed(f"“{chosen}” is not it: {why}" if why else f"“{chosen}” is not it")
