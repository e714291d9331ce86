"""`migration-lab bench [--json] [--only SUITE] [-n N]`."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.bench.core import Measurement

# Each suite module exposes `run(n: int) -> list[Measurement]`.
SUITES: dict[str, str] = {
    "lesson_page": "app.bench.lesson_page",
    "create_migration": "app.bench.migrations",
    "workspace": "app.bench.workspace",
    "grading": "app.bench.grading",
    "panel": "app.bench.panel",
    "rebuild": "app.bench.rebuild",
    "load": "app.bench.load",
    "risk": "app.bench.risk",
    "workers": "app.bench.workers",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measure the performance targets (median, p95)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--only", action="append", choices=sorted(SUITES), help="run only this suite")
    parser.add_argument("-n", type=int, default=50, help="samples per measurement (default 50)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.core import render_json, render_table

    measurements: list[Measurement] = []
    for name in args.only or list(SUITES):
        print(f"running {name} …", file=sys.stderr)
        measurements += importlib.import_module(SUITES[name]).run(args.n)
    print(render_json(measurements) if args.json else render_table(measurements))
    return 0
