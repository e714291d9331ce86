"""`migration-lab risk` as a command: its JSON, its table, --fail-on, its one-line errors, its start time
(the process is run for real where the start matters; in-process elsewhere)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import COMMANDS, build_parser, main
from tests.risk.conftest import snapshot

INDEX = 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\n\nCREATE INDEX "User_email_idx" ON "User"("email");\n'


@pytest.fixture
def migration(tmp_path: Path) -> Path:
    path = tmp_path / "migration.sql"
    path.write_text(INDEX)
    return path


def test_json_is_exactly_the_documented_shape(source_db, migration, capsys) -> None:
    before = snapshot(source_db)
    assert main(["risk", str(migration), "--url", source_db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["statements"]
    column, index = report["statements"]
    keys = ["index", "line", "sql", "locks", "rewrites", "duration_ms", "blocks", "lint"]
    assert list(column) == keys and list(index) == keys
    assert (column["index"], column["line"], index["index"], index["line"]) == (1, 1, 2, 3)
    assert column["locks"] == [{"relation": "User", "mode": "AccessExclusiveLock"}]
    assert column["blocks"][:4] == ["SELECT", "INSERT", "UPDATE", "DELETE"]
    assert index["locks"] == [{"relation": "User", "mode": "ShareLock"}] and index["rewrites"] == []
    assert "SELECT" not in index["blocks"] and "INSERT" in index["blocks"]
    assert isinstance(index["duration_ms"], float)
    lint = {finding["rule"]: finding for finding in index["lint"]}
    assert set(lint["require-concurrent-index-creation"]) == {"rule", "message", "help"}
    assert snapshot(source_db) == before


def test_table_says_the_lock_in_plain_words(source_db, migration, capsys) -> None:
    assert main(["risk", str(migration), "--url", source_db]) == 0
    out = capsys.readouterr().out
    assert "AccessExclusiveLock on User: blocks reads and writes" in out
    assert "ShareLock on User: blocks writes (reads continue)" in out
    assert "require-concurrent-index-creation" in out


def test_fail_on_a_mode_or_a_rule_exits_3(source_db, migration, capsys) -> None:
    assert main(["risk", str(migration), "--url", source_db, "--fail-on", "AccessExclusiveLock"]) == 3
    assert "statement 1 (line 1) takes AccessExclusiveLock" in capsys.readouterr().err
    assert main(["risk", str(migration), "--url", source_db, "--fail-on", "ban-drop-column"]) == 0
    rule = "require-concurrent-index-creation"
    assert main(["risk", str(migration), "--url", source_db, "--fail-on", rule]) == 3
    capsys.readouterr()
    assert main(["risk", str(migration), "--url", source_db, "--fail-on", "Exclusivish"]) == 1
    assert "--fail-on Exclusivish: neither a lock mode (AccessShareLock" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "url", "expected"),
    [
        (None, None, "cannot read"),
        ("SELECT 1;\n\nALTER TABLE x ADD COLUMN;\n", None, 'line 3, column 25: syntax error at or near ";"'),
        (INDEX, "postgresql://nobody@127.0.0.1:1/none", "cannot connect to the database"),
        ('ALTER TABLE "No" ADD "x" INT;', None, 'statement 1 (line 1) fails on the copy: relation "No'),
    ],
)
def test_errors_are_one_line_and_exit_1(source_db, tmp_path, capsys, content, url, expected) -> None:
    path = tmp_path / "m.sql"
    if content is not None:
        path.write_text(content)
    assert main(["risk", str(path), "--url", url or source_db]) == 1
    err = capsys.readouterr().err
    assert expected in err and err.count("error:") == 1 and "Traceback" not in err


def test_every_command_of_the_table_is_registered_by_its_module() -> None:
    for name in COMMANDS:
        parser = build_parser(name)
        assert name in parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]


def test_risk_help_and_diff_import_neither_the_web_app_nor_the_database_driver(tmp_path: Path) -> None:
    a, b = tmp_path / "a.prisma", tmp_path / "b.prisma"
    a.write_text("model User {\n  id Int @id\n}\n")
    b.write_text("model User {\n  id Int @id\n  bio String?\n}\n")
    heavy = ["fastapi", "psycopg", "pglast", "starlette", "pydantic", "sqlalchemy", "jinja2"]
    probe = "\n".join([
        "import sys, contextlib, io",
        "from app.cli import main",
        f"for argv in (['diff', {str(a)!r}, {str(b)!r}], ['risk', '--help']):",
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit): main(argv)",
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))",
    ])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
