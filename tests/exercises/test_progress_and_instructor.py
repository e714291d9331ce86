"""Progress, Continue, the resume link, content problems in the app, and the instructor view."""

from __future__ import annotations

import base64
import shutil

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.instructor.settings import InstructorPasswordError
from tests.exercises.app_helpers import Learner, results

DEPLOY = "02-creating-migrations/03-deploy-in-order"
FIRST_EXERCISE = "/lessons/01-migration-concepts/exercises/01-add-a-field"
PASSWORD = "correct horse battery staple"


def basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"teacher:{password}".encode()).decode()}


def home(client: TestClient) -> BeautifulSoup:
    return BeautifulSoup(client.get("/").text, "html.parser")


def test_home_shows_progress_per_lesson_and_continue_goes_to_the_next_unfinished_item(client):
    page = home(client)
    assert page.select_one("[data-lesson='01-migration-concepts'] [data-progress]").text == "Not started"
    assert page.select_one(".hero-actions a")["href"] == "/lessons/01-migration-concepts"
    client.get("/lessons/01-migration-concepts")
    page = home(client)
    assert page.select_one("[data-lesson='01-migration-concepts'] [data-progress]").text == (
        "0 of 3 exercises passed"
    )
    assert page.select_one(".hero-actions a")["href"] == FIRST_EXERCISE


def test_passing_an_exercise_counts_on_the_home_page(client):
    client.get("/lessons/02-creating-migrations")
    learner = Learner(client, DEPLOY)
    learner.panel_post("/envs/staging/deploy")
    learner.panel_post("/envs/prod/deploy")
    assert all(results(learner.check()).values())
    label = home(client).select_one("[data-lesson='02-creating-migrations'] [data-progress]").text
    assert label == "1 of 3 exercises passed"


def test_the_resume_link_continues_as_the_same_learner_on_another_device(client, make_exercise_app):
    client.get("/lessons/01-migration-concepts")
    link = BeautifulSoup(client.get("/progress").text, "html.parser").select_one("#resume-url")["value"]
    path = link.removeprefix("http://testserver")
    with TestClient(make_exercise_app()) as other_device:
        response = other_device.get(path)
        assert response.status_code == 200 and response.url.path == FIRST_EXERCISE
        label = home(other_device).select_one("[data-lesson='01-migration-concepts'] [data-progress]").text
        assert label == "0 of 3 exercises passed"
        assert other_device.get("/resume/forged-token").status_code == 404


def test_a_content_problem_is_shown_as_such_logged_and_not_counted(tmp_path, repo_root, make_exercise_app):
    lessons = tmp_path / "lessons"
    shutil.copytree(repo_root / "lessons", lessons)
    exercise = lessons / "02-creating-migrations" / "exercises" / "03-deploy-in-order.md"
    text = exercise.read_text()
    query = "SELECT count(*) = 5000 AND bool_and(\"email\" = 'user' || \"id\" || '@example.com')"
    assert query in text
    exercise.write_text(text.replace(query, "SELEC 1"))
    with TestClient(make_exercise_app(lessons, instructor_access="true", instructor_password=PASSWORD)) as c:
        learner = Learner(c, DEPLOY)
        learner.panel_post("/envs/staging/deploy")
        grading = learner.check()
        assert grading.select_one("#grading-title").text == "Something is wrong on our side"
        assert "check `prod-data` (sql) crashed" in grading.select_one(".grading-problem").text
        assert grading.select_one("[data-attempts]").text == "0"
        dashboard = BeautifulSoup(c.get("/instructor", headers=basic(PASSWORD)).text, "html.parser")
        problem = dashboard.select_one("[data-problem=grading]")
        assert DEPLOY in problem.text and "42601" in problem.text


def test_instructor_access_refuses_to_start_with_a_default_password(make_exercise_app):
    for password in ("", "changeme", "short"):
        with pytest.raises(InstructorPasswordError):
            make_exercise_app(instructor_access="true", instructor_password=password)


def test_instructor_pages_need_the_password_and_are_off_by_default(client, make_exercise_app):
    assert client.get("/instructor").status_code == 404
    with TestClient(make_exercise_app(instructor_access="true", instructor_password=PASSWORD)) as c:
        refused = c.get("/instructor")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert c.get("/instructor", headers=basic("wrong password!!")).status_code == 401
        assert c.get("/instructor/export.csv").status_code == 401


def test_instructor_sees_attempts_pass_rate_failing_checks_learners_and_csv(make_exercise_app):
    app = make_exercise_app(instructor_access="true", instructor_password=PASSWORD)
    with TestClient(app) as alice, TestClient(app) as bob:
        a = Learner(alice, DEPLOY)
        a.check()  # nothing done: not an attempt
        a.panel_post("/envs/staging/deploy")
        a.check()
        a.panel_post("/envs/prod/deploy")
        a.check()
        b = Learner(bob, DEPLOY)
        b.panel_post("/envs/prod/deploy")
        b.check()
        page = BeautifulSoup(alice.get("/instructor", headers=basic(PASSWORD)).text, "html.parser")
        row = page.select_one(f"#exercise-stats tr[data-exercise='{DEPLOY}']")
        assert row.select_one("[data-attempts]").text == "3"
        assert row.select_one("[data-pass-rate]").text == "50%"
        assert "order ×2, prod ×1, staging ×1" in " ".join(row.text.split())
        assert len(page.select("#learner-stats tr[data-learner]")) == 2
        csv = alice.get("/instructor/export.csv", headers=basic(PASSWORD))
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.strip().splitlines()
        assert lines[0].split(",")[:5] == ["learner_id", "exercise_id", "attempts", "passed", "best_score"]
        assert sorted(line.split(",")[2:5] for line in lines[1:]) == [["1", "no", "78"], ["2", "yes", "100"]]


def test_weak_instructor_passwords_are_refused_at_start_up(make_exercise_app):
    for password in ("password1234", "Password2025!", "aaaaaaaaaaaaaaaa", "abcabcabcabcabc", "123456789012",
                     "qwertyuiop123"):
        with pytest.raises(InstructorPasswordError):
            make_exercise_app(instructor_access="true", instructor_password=password)


def test_instructor_sign_in_is_rate_limited_per_address(make_exercise_app, monkeypatch):
    monkeypatch.setenv("MIGRATION_LAB_INSTRUCTOR_LOGINS_PER_CLIENT", "5/minute")
    with TestClient(make_exercise_app(instructor_access="true", instructor_password=PASSWORD)) as c:
        assert c.get("/instructor").status_code == 401  # the browser's first try, no password: not counted
        for attempt in range(5):
            assert c.get("/instructor", headers=basic(f"guess number {attempt}")).status_code == 401
        refused = c.get("/instructor", headers=basic(PASSWORD))  # even the right one waits now
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "Too many failed instructor sign-ins" in refused.text


def test_a_resume_link_asks_before_replacing_an_identity(client, make_exercise_app):
    client.get("/lessons/01-migration-concepts")
    link = BeautifulSoup(client.get("/progress").text, "html.parser").select_one("#resume-url")["value"]
    path = link.removeprefix("http://testserver")
    with TestClient(make_exercise_app()) as victim:
        victim.get("/lessons/02-creating-migrations")  # has an identity of its own
        own = victim.cookies["ml_learner"]
        asked = victim.get(path)  # e.g. a link on the attacker's page
        assert asked.status_code == 200 and "Continue as someone else?" in asked.text
        assert victim.cookies["ml_learner"] == own  # nothing replaced by the GET
        assert victim.post(path).status_code == 403  # no CSRF token: a cross-site form cannot confirm
        assert victim.cookies["ml_learner"] == own
        form = BeautifulSoup(asked.text, "html.parser").select_one("form[action^='/resume/']")
        token = form.select_one("input[name=csrf_token]")["value"]
        confirmed = victim.post(path, data={"csrf_token": token})
        assert confirmed.status_code == 200 and confirmed.url.path == FIRST_EXERCISE
        assert victim.cookies["ml_learner"] != own
