"""Exercise pages: instructions beside the prepared sandbox, Check my work, hints, solution, reset.

Every action works as a plain form post (the whole page comes back) and as htmx (the changed block)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from app.course.markdown import build_markdown
from app.csrf import verify_csrf
from app.errors import AppError, NotFound
from app.exercises.databases import ContentError
from app.exercises.grading import GradeResult
from app.exercises.model import Exercise
from app.exercises.service import ExerciseService, context_of
from app.identity import LearnerId
from app.web import render, services_of, site_of

router = APIRouter(dependencies=[Depends(verify_csrf)])
markdown = build_markdown()


def exercise_service(request: Request) -> ExerciseService:
    return services_of(request).exercises


Service = Annotated[ExerciseService, Depends(exercise_service)]


def _exercise(service: ExerciseService, lesson: str, slug: str) -> Exercise:
    exercise = service.catalog.get(lesson, slug)
    if exercise is None:
        raise NotFound(f"There is no exercise “{slug}” in lesson “{lesson}”. The lesson lists its exercises.")
    return exercise


def _page(
    request: Request, service: Service, learner: str, exercise: Exercise, *, block: str | None = None,
    result: GradeResult | None = None, show_solution: bool = False, status_code: int = 200,
) -> Response:
    state = service.state_of(learner, exercise)
    panel = None
    if block is None or not request.headers.get("hx-request"):
        try:
            service.prepare(learner, exercise)
        except ContentError as error:
            message = f"This exercise's start state does not run: {error}"
            raise AppError(503, "Exercise unavailable", message) from error
        panel = service.panel.panel(learner, context_of(exercise))
    context = {
        "exercise": exercise,
        "instructions": Markup(markdown.render(exercise.body)),
        "state": state,
        "result": result,
        "panel": panel,
        "answers": state.answers,
        "solution_available": service.solution_available(state, exercise),
        "show_solution": show_solution and service.solution_available(state, exercise),
        "page_title": exercise.title,
        "base_url": f"/lessons/{exercise.lesson}/exercises/{exercise.slug}",
        "next_step": _next_step(request, service, exercise),
    }
    return render(request, "exercises/exercise.html", context, block=block, status_code=status_code)


def _next_step(request: Request, service: Service, exercise: Exercise) -> tuple[str, str, str]:
    """Where to go after passing: (label, title, url) of the lesson's next exercise, else the next lesson."""
    siblings = service.catalog.of_lesson(exercise.lesson)
    index = next((i for i, e in enumerate(siblings) if e.id == exercise.id), len(siblings))
    if index + 1 < len(siblings):
        following = siblings[index + 1]
        return "Next exercise", following.title, f"/lessons/{following.lesson}/exercises/{following.slug}"
    _, next_lesson = site_of(request).course.neighbours(exercise.lesson)
    if next_lesson is not None:
        return "Next lesson", next_lesson.title, next_lesson.url
    return "Your progress", "the whole course", "/progress"


@router.get("/lessons/{lesson}/exercises", name="lesson_exercises")
def lesson_exercises(request: Request, lesson: str, learner: LearnerId, service: Service) -> Response:
    exercises = service.catalog.of_lesson(lesson)
    course_lesson = site_of(request).course.lesson(lesson)
    if course_lesson is None:
        raise NotFound(f"There is no lesson “{lesson}”.")
    states = service.states_of(learner, exercises)
    context = {"lesson": course_lesson, "exercises": exercises, "states": states,
               "page_title": f"Exercises · {course_lesson.title}"}
    return render(request, "exercises/list.html", context)


@router.get("/lessons/{lesson}/exercises/{slug}", name="exercise")
def exercise_page(request: Request, lesson: str, slug: str, learner: LearnerId, service: Service) -> Response:
    return _page(request, service, learner, _exercise(service, lesson, slug))


@router.post("/lessons/{lesson}/exercises/{slug}/check")
async def check(request: Request, lesson: str, slug: str, learner: LearnerId, service: Service) -> Response:
    exercise = _exercise(service, lesson, slug)
    form = await request.form()
    answers = {
        check_id: str(form[f"answer-{check_id}"])
        for check_id in exercise.quizzes
        if isinstance(form.get(f"answer-{check_id}"), str)
    }
    result = await run_in_threadpool(service.check, learner, exercise, answers)
    return await run_in_threadpool(_page, request, service, learner, exercise, block="grading", result=result)


@router.post("/lessons/{lesson}/exercises/{slug}/hints")
def open_hint(request: Request, lesson: str, slug: str, learner: LearnerId, service: Service) -> Response:
    exercise = _exercise(service, lesson, slug)
    service.open_hint(learner, exercise)
    return _page(request, service, learner, exercise, block="hints")


@router.get("/lessons/{lesson}/exercises/{slug}/solution")
def solution(request: Request, lesson: str, slug: str, learner: LearnerId, service: Service) -> Response:
    exercise = _exercise(service, lesson, slug)
    state = service.state_of(learner, exercise)
    if not service.solution_available(state, exercise):
        left = exercise.attempts_before_solution - len(state.attempts)
        raise AppError(
            403, "Solution not available yet",
            f"The solution opens after {exercise.attempts_before_solution} graded attempts; "
            f"{left} to go. Hints may help meanwhile.",
        )
    return _page(request, service, learner, exercise, block="solution", show_solution=True)


@router.post("/lessons/{lesson}/exercises/{slug}/reset")
def reset(request: Request, lesson: str, slug: str, learner: LearnerId, service: Service) -> Response:
    exercise = _exercise(service, lesson, slug)
    service.reset(learner, exercise)
    url = f"/lessons/{lesson}/exercises/{slug}?reset=1"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
