"""`lessons check` proves exercises: on the real content, and on deliberately broken fixtures."""

from __future__ import annotations

from app.exercises.loader import load_exercises
from app.exercises.prove import prove_exercises
from tests.exercises.conftest import FIXTURES


def test_real_content_has_exercises_for_every_lesson_that_each_prove(repo_root, pg_cluster):
    loaded = load_exercises(repo_root / "lessons")
    assert loaded.problems == []
    assert len(loaded.exercises) >= 12
    lessons = {e.lesson for e in loaded.exercises}
    assert {"01-migration-concepts", "02-creating-migrations", "03-deploying-and-failures",
            "04-locks-and-downtime", "05-indexes-and-constraints-online"} <= lessons
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


def test_topics_unknown_leaves_the_exercise_out_and_missing_is_a_warning(tmp_path):
    text = (FIXTURES / "01-broken" / "exercises" / "01-solution-fails.md").read_text()
    folder = tmp_path / "01-lesson" / "exercises"
    folder.mkdir(parents=True)
    (folder / "01-unknown.md").write_text(text.replace("topics: [what-why]", "topics: [what-why, locking]"))
    (folder / "02-none.md").write_text(text.replace("topics: [what-why]\n", ""))
    (folder / "03-known.md").write_text(text.replace("[what-why]", "[locks-downtime, rollback]"))
    loaded = load_exercises(tmp_path)
    topics = {e.slug: e.topics for e in loaded.exercises}
    assert topics == {"02-none": [], "03-known": ["locks-downtime", "rollback"]}
    problems = {p.path.name: p for p in loaded.problems}
    assert set(problems) == {"01-unknown.md", "02-none.md"}
    assert (problems["01-unknown.md"].line, problems["01-unknown.md"].severity) == (4, "error")
    assert problems["01-unknown.md"].message.startswith("unknown topic `locking` (known: what-why, ")
    assert (problems["02-none.md"].severity, problems["02-none.md"].message) == (
        "warning", "no `topics:` (see lessons/README.md)")
