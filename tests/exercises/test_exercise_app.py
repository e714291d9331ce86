"""Exercise pages through the ASGI client, against real sandboxes: check, hints, solution, reset."""

from __future__ import annotations

from bs4 import BeautifulSoup

from tests.exercises.app_helpers import Learner, results

DEPLOY = "02-creating-migrations/03-deploy-in-order"
QUIZ = "01-migration-concepts/02-spot-the-data-loss"


def test_the_page_shows_instructions_and_the_sandbox_prepared_from_the_start_state(client):
    page = Learner(client, DEPLOY).page
    assert page.h1.text == "Deploy to staging, then production, in order"
    assert page.select_one("button[type=submit]").text == "Check my work"
    sandbox = page.select_one("#sandbox")
    assert sandbox["data-context"] == "exercise-02-creating-migrations-03-deploy-in-order"
    # The start history: three migrations, the last two pending in staging and prod.
    assert "20240211000000_add_user_created_at" in sandbox.text
    assert page.select_one("[data-attempts]").text == "0"


def test_check_my_work_fails_then_passes_after_deploying_in_order(client):
    learner = Learner(client, DEPLOY)
    first = learner.check()  # nothing done yet: no credit, not an attempt, what to do first
    assert results(first) == {} and first.select_one("#grading-title").text == "Score: 0%"
    assert "Start with step 1 of the instructions" in first.select_one(".grading-not-started").text
    assert first.select_one("[data-attempts]").text == "0"
    learner.panel_post("/envs/staging/deploy")
    second = learner.check()
    assert results(second) == {"deploys": True, "start-untouched": True, "envs-match-history": True,
                               "schema-matches-history": True, "staging": True, "prod": False,
                               "order": False, "prod-data": True, "nothing-new": True}
    failed = second.select_one("li[data-check=prod]")
    assert "Both pending migrations are deployed to production." in failed.text
    assert "20240210000000_add_user_bio is not applied in prod" in failed.text
    learner.panel_post("/envs/prod/deploy")
    third = learner.check()
    assert all(results(third).values()), results(third)
    assert third.select_one("#grading-title").text == "All checks pass"
    assert third.select_one("[data-attempts]").text == "2"


def test_a_quiz_answer_is_graded_and_kept(client):
    learner = Learner(client, QUIZ)
    assert results(learner.check(**{"which-statement": "a"}))["which-statement"] is False
    assert results(learner.check(**{"which-statement": "b"}))["which-statement"] is True
    page = learner.open()
    assert page.select_one("input[name=answer-which-statement][value=b]").has_attr("checked")


def test_hints_open_one_by_one(client):
    learner = Learner(client, DEPLOY)
    assert learner.page.select("#hints li") == []
    one = BeautifulSoup(learner.post("hints").text, "html.parser")
    assert len(one.select("#hints li")) == 1 and "Show hint 2 of 2" in one.text
    two = BeautifulSoup(learner.post("hints").text, "html.parser")
    assert len(two.select("#hints li")) == 2 and "No more hints." in two.text


def test_the_solution_opens_after_the_configured_attempts(client):
    learner = Learner(client, DEPLOY)  # attempts_before_solution: 2
    refused = client.get(f"{learner.url}/solution", headers={"HX-Request": "true"})
    assert refused.status_code == 403 and "2 to go" in refused.text
    learner.check()
    learner.check()  # pressing without doing anything opens nothing
    assert client.get(f"{learner.url}/solution", headers={"HX-Request": "true"}).status_code == 403
    learner.panel_post("/envs/prod/deploy")  # a wrong order: two graded attempts
    learner.check()
    learner.check()
    shown = client.get(f"{learner.url}/solution", headers={"HX-Request": "true"})
    assert shown.status_code == 200
    assert "Then deploy to staging, then prod." in " ".join(shown.text.split())


def test_reset_exercise_restores_the_start_state(client):
    learner = Learner(client, DEPLOY)
    learner.panel_post("/envs/staging/deploy")
    response = learner.post("reset", htmx=False)
    assert response.status_code == 303
    learner.open()
    assert results(learner.check()) == {}  # back to the start: nothing to grade yet


def test_plain_form_post_without_javascript_gets_the_whole_page(client):
    learner = Learner(client, DEPLOY)
    learner.panel_post("/envs/staging/deploy")
    response = learner.post("check", htmx=False)
    page = BeautifulSoup(response.text, "html.parser")
    assert page.select_one("#sandbox") is not None and page.select_one("#grading li.check-result")


def test_without_a_csrf_token_nothing_is_graded(client):
    learner = Learner(client, DEPLOY)
    response = client.post(f"{learner.url}/check", data={})
    assert response.status_code == 403
    assert learner.open().select_one("[data-attempts]").text == "0"


def test_an_unknown_exercise_is_a_404_page(client):
    response = client.get("/lessons/01-migration-concepts/exercises/99-nope")
    assert response.status_code == 404 and "There is no exercise" in response.text


def test_each_lesson_links_to_each_of_its_exercises(client, exercises):
    for exercise in exercises.values():
        page = BeautifulSoup(client.get(f"/lessons/{exercise.lesson}").text, "html.parser")
        href = f"/lessons/{exercise.lesson}/exercises/{exercise.slug}"
        assert page.select_one(f"#exercises ~ ol a[href='{href}']"), href
        listing = BeautifulSoup(client.get(f"/lessons/{exercise.lesson}/exercises").text, "html.parser")
        assert listing.select_one(f"a[href='{href}']").text == exercise.title


def test_a_wrong_quiz_answer_says_why_and_trying_every_choice_locks_the_quiz(client):
    learner = Learner(client, QUIZ)  # four choices: two answers may be tried
    first = learner.check(**{"which-statement": "a"})
    detail = first.select_one("li[data-check=which-statement] .check-detail").text
    assert "is not it: a new NOT NULL column with a default is filled with the default" in detail
    learner.check(**{"which-statement": "d"})
    third = learner.check(**{"which-statement": "b"})  # right, but only after two wrong ones
    locked = third.select_one("li[data-check=which-statement]")
    assert "is-failed" in locked["class"] and "this question is locked" in locked.text
    learner.post("reset", htmx=False)
    learner.open()
    assert results(learner.check(**{"which-statement": "b"}))["which-statement"] is True
