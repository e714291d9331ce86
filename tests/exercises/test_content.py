"""`lessons check` proves exercises: on the real content, and on deliberately broken fixtures."""

from __future__ import annotations

from app.exercises.loader import load_exercises
from app.exercises.prove import prove_exercises
from tests.exercises.conftest import FIXTURES


def test_real_content_has_five_exercises_that_each_prove(repo_root, pg_cluster):
    loaded = load_exercises(repo_root / "lessons")
    assert loaded.problems == []
    assert len(loaded.exercises) >= 5
    assert {e.lesson for e in loaded.exercises} == {"01-migration-concepts", "02-creating-migrations"}
    assert prove_exercises(repo_root / "lessons", pg_cluster.admin_conninfo()) == []


def test_loader_reports_each_broken_file_with_its_line_and_keeps_the_others():
    loaded = load_exercises(FIXTURES)
    assert sorted(e.slug for e in loaded.exercises) == ["01-solution-fails", "02-never-fails"]
    problems = {p.path.name: p for p in loaded.problems}
    assert problems["03-bad-front-matter.md"].line == 8  # the `- kind:` line of the check
    assert "unknown check kind `column_exists_maybe`" in problems["03-bad-front-matter.md"].message
    assert problems["04-not-yaml.md"].line == 3
    assert "not valid YAML" in problems["04-not-yaml.md"].message


def test_prove_names_a_failing_solution_and_a_check_that_can_never_fail(pg_cluster):
    problems = {p.path.name: p.message for p in prove_exercises(FIXTURES, pg_cluster.admin_conninfo())}
    assert problems["01-solution-fails.md"].startswith("the reference solution fails: email")
    assert "can never fail" in problems["02-never-fails.md"]
    assert set(problems) == {"01-solution-fails.md", "02-never-fails.md", "03-bad-front-matter.md",
                             "04-not-yaml.md"}
