"""Load `lessons/<NN-slug>/exercises/<NN-slug>.md`: YAML front matter plus Markdown instructions.

Loading is tolerant: every problem is collected with its file and line, a broken exercise is left out
(and shown to the instructor), the others load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.course.topics import describe_unknown, unknown_topics
from app.exercises.app_queries import parse_app_queries
from app.exercises.checks import param_problems
from app.exercises.model import ENVIRONMENTS, Check, Exercise, Migration, Problem, Solution, StartState

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n?", re.DOTALL)
CHECK_META = ("id", "kind", "message", "hint")
TOP_KEYS = {
    "title", "summary", "attempts_before_solution", "start", "seed", "app_queries", "grading_data",
    "checks", "hints", "solution", "topics",
}


@dataclass
class LoadResult:
    exercises: list[Exercise] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def by_id(self) -> dict[str, Exercise]:
        return {e.id: e for e in self.exercises}


class _Invalid(Exception):
    def __init__(self, path: tuple, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _node_lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """(key path) -> 1-based line inside the front matter, for every mapping key and list item."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines.update(_node_lines(value, (*path, key.value)))
            lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_node_lines(item, (*path, i)))
    return lines


def _text(data: dict, key: str, path: tuple, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _Invalid((*path, key), f"`{key}` must be a non-empty text")
    return value


def _per_env(value: Any, path: tuple) -> dict[str, str]:
    """SQL per environment; a plain text applies to every environment."""
    if value is None:
        return {}
    if isinstance(value, str):
        return dict.fromkeys(ENVIRONMENTS, value)
    if not isinstance(value, dict) or any(k not in ENVIRONMENTS for k in value):
        raise _Invalid(path, f"expected SQL text or a mapping of {', '.join(ENVIRONMENTS)} to SQL")
    return {k: str(v or "") for k, v in value.items()}


def _migrations(items: Any, path: tuple, sql_required: bool = True) -> list[Migration]:
    if not isinstance(items, list):
        raise _Invalid(path, "`migrations` must be a list of {name, sql}")
    result = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _Invalid((*path, i), "a migration needs a `name`")
        sql = item.get("sql")
        if sql_required and not isinstance(sql, str):
            raise _Invalid((*path, i), f"migration `{item['name']}` needs its `sql`")
        result.append(Migration(name=item["name"], sql=sql or ""))
    names = [m.name for m in result]
    if len(set(names)) != len(names):
        raise _Invalid(path, "two migrations have the same name")
    return result


def _start(data: dict) -> StartState:
    start = data.get("start")
    if not isinstance(start, dict):
        raise _Invalid(("start",), "`start` must declare `schema`, `migrations` and `applied`")
    migrations = _migrations(start.get("migrations", []), ("start", "migrations"))
    applied = start.get("applied") or {}
    if not isinstance(applied, dict):
        raise _Invalid(("start", "applied"), "`applied` maps dev/staging/prod to migration names")
    known = [m.name for m in migrations]
    for env in ENVIRONMENTS:
        names = applied.setdefault(env, [])
        if not isinstance(names, list) or names != known[: len(names)]:
            raise _Invalid(
                ("start", "applied", env),
                f"`applied.{env}` must list the first migrations of the history, in order",
            )
    extra = set(applied) - set(ENVIRONMENTS)
    if extra:
        raise _Invalid(("start", "applied"), f"unknown environment {sorted(extra)[0]}")
    return StartState(
        schema=_text(start, "schema", ("start",)),
        migrations=migrations,
        applied={env: list(applied[env]) for env in ENVIRONMENTS},
        seed=_per_env(data.get("seed"), ("seed",)),
    )


def _checks(data: dict) -> list[Check]:
    items = data.get("checks")
    if not isinstance(items, list) or not items:
        raise _Invalid(("checks",), "`checks` must be a non-empty list")
    checks: list[Check] = []
    for i, item in enumerate(items):
        path = ("checks", i)
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            raise _Invalid(path, "a check needs a `kind`")
        if not isinstance(item.get("message"), str) or not item["message"].strip():
            raise _Invalid(path, f"check `{item['kind']}` needs the `message` a learner sees when it fails")
        params = {k: v for k, v in item.items() if k not in CHECK_META}
        for problem in param_problems(item["kind"], params):
            raise _Invalid(path, problem)
        check_id = str(item.get("id") or f"{i + 1}-{item['kind']}")
        hint = str(item.get("hint", ""))
        checks.append(Check(check_id, item["kind"], params, item["message"].strip(), hint))
    ids = [c.id for c in checks]
    if len(set(ids)) != len(ids):
        raise _Invalid(("checks",), "two checks have the same id")
    return checks


def _solution(data: dict, checks: list[Check]) -> Solution:
    sol = data.get("solution")
    if not isinstance(sol, dict):
        raise _Invalid(("solution",), "`solution` must declare the reference schema, migrations, deployments")
    deployments = sol.get("deployments", [])
    if not isinstance(deployments, list) or any(e not in ("staging", "prod") for e in deployments):
        raise _Invalid(("solution", "deployments"), "`deployments` lists staging/prod in the order deployed")
    answers = {str(k): str(v) for k, v in (sol.get("answers") or {}).items()}
    quiz_ids = {c.id for c in checks if c.kind == "quiz"}
    if set(answers) - quiz_ids:
        unknown = sorted(set(answers) - quiz_ids)[0]
        raise _Invalid(("solution", "answers"), f"answer to unknown quiz `{unknown}`")
    return Solution(
        schema=_text(sol, "schema", ("solution",)),
        migrations=_migrations(sol.get("migrations", []), ("solution", "migrations"), sql_required=False),
        deployments=list(deployments),
        answers=answers,
    )


def _build(path: Path, lesson: str, data: dict, body: str, body_line: int) -> Exercise:
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise _Invalid((unknown[0],), f"unknown key `{unknown[0]}` (known: {', '.join(sorted(TOP_KEYS))})")
    checks = _checks(data)
    hints = data.get("hints") or []
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        raise _Invalid(("hints",), "`hints` must be a list of texts")
    attempts = data.get("attempts_before_solution", 3)
    if not isinstance(attempts, int) or attempts < 0:
        raise _Invalid(("attempts_before_solution",), "`attempts_before_solution` must be a whole number ≥ 0")
    try:
        queries = parse_app_queries(data.get("app_queries"))
    except ValueError as error:
        raise _Invalid(("app_queries",), str(error)) from None
    topics = data.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise _Invalid(("topics",), "`topics` must be a list of topic ids")
    if unknown := unknown_topics(topics):
        raise _Invalid(("topics",), describe_unknown(unknown))
    return Exercise(
        id=f"{lesson}/{path.stem}",
        lesson=lesson,
        slug=path.stem,
        path=path,
        title=_text(data, "title", ()),
        summary=_text(data, "summary", (), required=False),
        body=body,
        body_line=body_line,
        start=_start(data),
        app_queries=queries,
        grading_data=_per_env(data.get("grading_data"), ("grading_data",)),
        checks=checks,
        hints=list(hints),
        solution=_solution(data, checks),
        attempts_before_solution=attempts,
        quizzes={c.id: c.params for c in checks if c.kind == "quiz"},
        topics=list(topics),
    )


def load_exercise(path: Path, lesson: str) -> Exercise | Problem:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return Problem(path, 1, f"cannot read the file: {error}")
    match = FRONT_MATTER.match(text)
    if not match:
        return Problem(path, 1, "the file must start with YAML front matter between `---` lines")
    front = match.group(1)
    try:
        node = yaml.compose(front)
        data = yaml.safe_load(front)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        return Problem(path, line, f"front matter is not valid YAML: {getattr(error, 'problem', error)}")
    if not isinstance(data, dict) or node is None:
        return Problem(path, 2, "front matter must be a mapping")
    body_line = front.count("\n") + 3
    try:
        return _build(path, lesson, data, text[match.end():], body_line)
    except _Invalid as invalid:
        lines = _node_lines(node)
        key = invalid.path
        while key and key not in lines:
            key = key[:-1]
        # +1: the front matter starts on the line after the opening `---`.
        return Problem(path, lines.get(key, 0) + 1, invalid.message)


def load_exercises(lessons_dir: Path) -> LoadResult:
    result = LoadResult()
    for path in sorted(Path(lessons_dir).glob("*/exercises/*.md")):
        loaded = load_exercise(path, path.parent.parent.name)
        if isinstance(loaded, Problem):
            result.problems.append(loaded)
        else:
            result.exercises.append(loaded)
            if not loaded.topics:
                result.problems.append(Problem(path, 1, "no `topics:` (see lessons/README.md)", "warning"))
    return result
