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
from app.exercises.model import (
    BUILTIN_CHECKS,
    ENVIRONMENTS,
    STEP_ACTIONS,
    Check,
    Exercise,
    Migration,
    Problem,
    Solution,
    StartState,
    Step,
)

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n?", re.DOTALL)
CHECK_META = ("id", "kind", "message", "hint")
TOP_KEYS = {
    "title", "summary", "attempts_before_solution", "start", "seed", "app_queries", "grading_data",
    "checks", "hints", "solution", "topics", "mutants", "alternatives", "opt_out",
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
    return _play(sol, ("solution",), checks, None)


PLAY_KEYS = {"schema", "migrations", "deployments", "answers", "steps"}


def _play(raw: dict, path: tuple, checks: list[Check], base: Solution | None) -> Solution:
    """The solution (base None) or a mutant/alternative: fields left out come from the solution, except
    `steps`, which is never inherited."""
    allowed = set(PLAY_KEYS)
    if base is not None:
        allowed |= {"name", "why", "fails"} if path[0] == "mutants" else {"name", "why"}
    if unknown := sorted(set(raw) - allowed):
        known = ", ".join(sorted(allowed))
        raise _Invalid((*path, unknown[0]), f"unknown key `{unknown[0]}` (known: {known})")
    deployments = raw["deployments"] if "deployments" in raw else (base.deployments if base else [])
    if not isinstance(deployments, list) or any(e not in ("staging", "prod") for e in deployments):
        raise _Invalid((*path, "deployments"), "`deployments` lists staging/prod in the order deployed")
    raw_answers = raw.get("answers")
    if raw_answers is not None and not isinstance(raw_answers, dict):
        raise _Invalid((*path, "answers"), "`answers` maps quiz check ids to a choice")
    answers = (
        {str(k): str(v) for k, v in raw_answers.items()} if raw_answers is not None
        else dict(base.answers) if base else {}
    )
    quiz_ids = {c.id for c in checks if c.kind == "quiz"}
    if strays := sorted(set(answers) - quiz_ids):
        raise _Invalid((*path, "answers"), f"answer to unknown quiz `{strays[0]}`")
    if "migrations" in raw or base is None:
        migrations = _migrations(raw.get("migrations", []), (*path, "migrations"), base is not None)
    else:
        migrations = list(base.migrations)
    play = Solution(
        schema=_text(raw, "schema", path) if "schema" in raw or base is None else base.schema,
        migrations=migrations,
        deployments=list(deployments),
        answers=answers,
        steps=_steps(raw["steps"], (*path, "steps")) if "steps" in raw else None,
    )
    if base is not None:
        play.name = _text(raw, "name", path)
        play.why = _text(raw, "why", path)
        fails = raw.get("fails") or []
        check_ids = {c.id for c in checks} | set(BUILTIN_CHECKS)
        if not isinstance(fails, list) or any(str(f) not in check_ids for f in fails):
            ids = ", ".join(sorted(check_ids))
            raise _Invalid((*path, "fails"), f"`fails` lists check ids of this exercise ({ids})")
        play.fails = [str(f) for f in fails]
    return play


def _steps(items: Any, path: tuple) -> list[Step]:
    if not isinstance(items, list) or not items:
        raise _Invalid(path, "`steps` is a non-empty list of actions")
    steps = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in STEP_ACTIONS:
            raise _Invalid((*path, i), f"a step is one of {', '.join(STEP_ACTIONS)}, e.g. `- deploy: prod`")
        action, value = next(iter(item.items()))
        steps.append(Step(action, _step_args(action, value, (*path, i))))
    return steps


def _step_args(action: str, value: Any, path: tuple) -> dict[str, Any]:
    if action == "deploy":
        if value not in ENVIRONMENTS:
            raise _Invalid(path, "`deploy:` names dev, staging or prod")
        return {"env": value}
    needs = {
        "create": ("name", "sql"), "create_only": ("name", "sql"), "edit_migration": ("name", "sql"),
        "sql": ("env", "query"), "terminal": ("env", "command"),
    }[action]
    if not isinstance(value, dict) or any(not isinstance(value.get(k), str) for k in needs):
        raise _Invalid(path, f"`{action}:` takes {{{', '.join(needs)}}}")
    if "env" in needs and value["env"] not in ENVIRONMENTS:
        raise _Invalid(path, f"`{action}:` env is dev, staging or prod")
    return {k: value[k] for k in needs}


def _plays(data: dict, key: str, checks: list[Check], solution: Solution) -> list[Solution]:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _Invalid((key,), f"`{key}` is a list of plays (name, why, and what differs from the solution)")
    plays = [_play(item, (key, i), checks, solution) for i, item in enumerate(items)]
    names = [p.name for p in plays]
    if len(set(names)) != len(names):
        raise _Invalid((key,), f"two {key} have the same name")
    return plays


def _opt_out(data: dict) -> dict[str, str]:
    raw = data.get("opt_out") or {}
    soundness = BUILTIN_CHECKS[1:]
    if not isinstance(raw, dict) or any(k not in soundness or not isinstance(v, str) or not v.strip()
                                        for k, v in raw.items()):
        ids = ", ".join(soundness)
        raise _Invalid(("opt_out",), f"`opt_out` maps a built-in check ({ids}) to why it does not apply")
    return {str(k): str(v) for k, v in raw.items()}


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
    solution = _solution(data, checks)
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
        solution=solution,
        attempts_before_solution=attempts,
        quizzes={c.id: c.params for c in checks if c.kind == "quiz"},
        topics=list(topics),
        mutants=_plays(data, "mutants", checks, solution),
        alternatives=_plays(data, "alternatives", checks, solution),
        opt_out=_opt_out(data),
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
