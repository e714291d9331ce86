"""`migration-lab serve` (the web app) and `migration-lab lessons check` (validate the course content)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the command that runs: `migration-lab diff` must not load the web app
    from app.course.problems import Problem

SHUTDOWN_GRACE_S = 3
# Idle keep-alive connections stay open this long (uvicorn's default is 5 s). A client or proxy reusing a
# connection the server closes at that moment gets no answer ("Server disconnected"): browsers pausing
# between clicks on a busy server, and nginx's upstream pool (kept 60 s; it retries no POST). So the app
# outlasts them both.
KEEP_ALIVE_S = 75

def content_checks() -> list[Callable[[Path], list[Problem]]]:
    """Content checks beyond the lessons' own (the exercises' proofs): each takes the lessons folder."""
    from app.exercises.prove import prove_exercises

    return [prove_exercises]


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="serve the course (http://127.0.0.1:8000 by default)")
    serve.add_argument("--host", help="interface to listen on (MIGRATION_LAB_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (MIGRATION_LAB_PORT)")
    serve.add_argument("--data-dir", help="folder for everything the app writes (MIGRATION_LAB_DATA_DIR)")
    serve.add_argument("--lessons", metavar="DIR", help="course content folder (MIGRATION_LAB_LESSONS_DIR)")
    serve.add_argument("--reload", action="store_true", help="restart when code changes (development)")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes sharing one sandbox and state (default: one per core, half as many when "
        "the sandboxes run on this machine; 1 with --reload)",
    )
    serve.set_defaults(func=run_serve)

    lessons = subparsers.add_parser("lessons", help="course content tools")
    actions = lessons.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="report every content problem with file and line")
    check.add_argument("--lessons", metavar="DIR", help="course content folder (MIGRATION_LAB_LESSONS_DIR)")
    check.set_defaults(func=run_check)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.settings import Settings

    # Options travel as environment variables, so that the reloader's fresh process sees them too.
    overrides = {"HOST": args.host, "PORT": args.port, "DATA_DIR": args.data_dir, "LESSONS_DIR": args.lessons}
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"MIGRATION_LAB_{name}"] = str(value)
    settings = Settings()
    from app.serve_workers import default_workers, shared_by_workers
    from sandbox import SandboxSettings

    sandboxes_here = SandboxSettings().sandbox in ("embedded", "docker")
    workers = args.workers or (1 if args.reload else default_workers(sandboxes_here))
    if workers < 1:
        print("migration-lab serve: --workers needs a positive number", file=sys.stderr)
        return 2
    if workers > 1 and args.reload:
        print("migration-lab serve: --reload runs one process; drop --workers or --reload", file=sys.stderr)
        return 2
    if workers == 1:
        uvicorn.run(
            "app.main:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            reload=args.reload,
            reload_dirs=["app", "sandbox", "templates"] if args.reload else None,
            # Ctrl+C with requests in flight: they get this long, then the app stops (sandbox included).
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        return 0
    with shared_by_workers(settings.data_dir, settings.database_url):
        uvicorn.run(
            "app.main:app_from_env", factory=True, host=settings.host, port=settings.port, workers=workers,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S, timeout_keep_alive=KEEP_ALIVE_S,
        )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from app.course.loader import Course
    from app.settings import Settings

    lessons_dir = Path(args.lessons) if args.lessons else Settings().lessons_dir
    course = Course(lessons_dir)
    problems = course.problems()
    for check in content_checks():
        problems += check(lessons_dir)
    for problem in problems:
        print(problem)
    lessons = course.lessons()
    available = sum(lesson.available for lesson in lessons)
    summary = f"{len(lessons)} lessons, {available} available, {len(problems)} problems in {lessons_dir}"
    print(summary, file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0
