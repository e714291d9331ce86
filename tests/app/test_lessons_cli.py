from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main


def test_lessons_check_passes_on_the_real_content(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lessons", "check", "--lessons", str(repo_root / "lessons")]) == 0
    assert "0 problems" in capsys.readouterr().out


def test_lessons_check_names_file_and_line_of_each_problem(
    broken_course: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lessons", "check", "--lessons", str(broken_course)]) == 1
    output = capsys.readouterr()
    broken = broken_course / "02-broken-lesson" / "lesson.md"
    lines = output.out.splitlines()
    assert lines[0].startswith(f"{broken}:4: error: front matter field `minutes`")
    assert lines[1].startswith(f"{broken}:9: warning: broken link")
    assert lines[2].startswith(f"{broken}:11: warning: unknown code block language `sqll`")
    assert "2 lessons, 1 available, 3 problems" in output.err


def test_lessons_check_on_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons", "check", "--lessons", str(tmp_path / "nope")]) == 1
    assert "the lessons folder does not exist" in capsys.readouterr().out


def test_serve_options_are_parsed() -> None:
    from app.cli import build_parser

    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "8123", "--lessons", "x", "--reload"]
    )
    assert (args.host, args.port, args.lessons, args.reload) == ("0.0.0.0", 8123, "x", True)
