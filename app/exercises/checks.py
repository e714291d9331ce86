"""The check kinds an exercise may use, with their parameters (validated when the file loads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.exercises import checks_history as h
from app.exercises import checks_risk as r
from app.exercises import checks_schema as s
from app.exercises import sqltree
from app.exercises.context import GradingContext


@dataclass(frozen=True)
class Kind:
    run: Callable[[GradingContext, dict], None]  # raises CheckFailed to fail
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()


ON = ("target",)
KINDS: dict[str, Kind] = {
    "table": Kind(s.table, ("table",), ("exists", *ON)),
    "column": Kind(s.column, ("table", "column"), ("exists", "type", "nullable", "default", *ON)),
    "index": Kind(s.index, ("table", "columns"), ("exists", "unique", "name", *ON)),
    "unique": Kind(s.unique, ("table", "columns"), ("exists", "name", *ON)),
    "foreign_key": Kind(
        s.foreign_key, ("table", "references"),
        ("columns", "referenced_columns", "on_delete", "exists", *ON),
    ),
    "enum_values": Kind(s.enum_values, ("enum", "values"), ON),
    "sql": Kind(s.sql, ("query",), ON),
    "rows_preserved": Kind(s.rows_preserved, ("tables",), ("mode", *ON)),
    "no_data_loss": Kind(s.no_data_loss),
    "renamed": Kind(s.renamed, ("table", "from", "to"), ON),
    "migration_count": Kind(h.migration_count, (), ("count", "min", "max", "of")),
    "migration_names": Kind(h.migration_names, ("names",)),
    "migration_applied": Kind(h.migration_applied, ("envs",), ("migration", "applied")),
    "applied_in_order": Kind(h.applied_in_order, ("envs",), ("migration",)),
    "replays_from_empty": Kind(h.replays_from_empty),
    "statement": Kind(h.statement, ("node",), ("where", "present", "migration")),
    "quiz": Kind(h.quiz, ("question", "choices", "answer"), ("explain",)),
    "max_lock": Kind(r.max_lock, ("table", "mode"), ("migration", "env")),
    "no_rewrite": Kind(r.no_rewrite, (), ("tables", "migration", "env")),
    "lint_clean": Kind(r.lint_clean, ("rules",), ("migration",)),
    "app_queries": Kind(r.app_queries, ("version",), ("at", "target")),
    "max_stall_ms": Kind(r.max_stall_ms, ("ms",), ("env", "version", "long_transaction_ms")),
}


def param_problems(kind_name: str, params: dict) -> list[str]:
    """What is wrong with a check's parameters, in sentences for the author."""
    kind = KINDS.get(kind_name)
    if kind is None:
        return [f"unknown check kind `{kind_name}` (known: {', '.join(sorted(KINDS))})"]
    if any(not isinstance(name, str) for name in params):
        return ["a check parameter name is not a word (YAML reads `on:`, `yes:` or `no:` as true/false)"]
    problems = [f"check `{kind_name}` needs `{name}`" for name in kind.required if name not in params]
    allowed = set(kind.required) | set(kind.optional)
    problems += [f"check `{kind_name}` does not take `{name}`" for name in params if name not in allowed]
    targets = params.get("target")
    for target in [targets] if isinstance(targets, str) else list(targets or []):
        env = str(target).split(":", 1)[-1]
        if target != "grading" and env not in ("dev", "staging", "prod"):
            problems.append(f"`target: {target}` is not grading, grading:<env> or dev/staging/prod")
    problems += r.param_problems(kind_name, params)
    if kind_name == "quiz" and isinstance(params.get("choices"), dict):
        choices = {str(k) for k in params["choices"]}
        if str(params.get("answer")) not in choices:
            problems.append("the quiz answer is not one of its choices")
        explained = {str(k) for k in (params.get("explain") or {})}
        if missing := sorted(choices - {str(params.get("answer"))} - explained):
            problems.append(f"the quiz's `explain` says why each wrong choice is wrong (not {missing[0]})")
    if kind_name == "statement" and (problem := sqltree.node_problem(params.get("node"))):
        problems.append(problem)
    return problems
