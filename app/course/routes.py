"""Course pages: the home page with every lesson in order, and one page per lesson."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.course.loader import Course
from app.errors import AppError, NotFound
from app.identity import LearnerId
from app.progress.routes import home_progress
from app.web import render, services_of, site_of

router = APIRouter()


def course_of(request: Request) -> Course:
    return site_of(request).course


@router.get("/", name="home")
def home(request: Request, learner: LearnerId) -> Response:
    lessons = course_of(request).lessons()
    first = next((lesson for lesson in lessons if lesson.available), None)
    context: dict[str, Any] = {
        "lessons": lessons,
        "continue_url": first.url if first else None,
        "progress": {},
        "page_title": None,
    }
    context.update(home_progress(services_of(request).progress, learner))
    return render(request, "course/home.html", context, block="content")


@router.get("/lessons/{slug}", name="lesson")
def lesson_page(request: Request, slug: str, learner: LearnerId) -> Response:
    course = course_of(request)
    lesson = course.lesson(slug)
    if lesson is None:
        raise NotFound(f"There is no lesson “{slug}”. The course home lists every lesson.")
    if not lesson.available:
        raise AppError(
            503,
            "Lesson unavailable",
            f"“{lesson.title}” has problems in its content and cannot be shown right now. "
            "The rest of the course is available.",
        )
    services_of(request).progress.record_visit(learner, slug)
    previous, following = course.neighbours(slug)
    context = {"lesson": lesson, "previous": previous, "next": following, "page_title": lesson.title}
    return render(request, "course/lesson.html", context, block="content")


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> JSONResponse:
    """200 while the app and its sandbox answer; 503 while the sandbox server is down (the watchdog
    restarts an embedded cluster within seconds). Answered on the event loop from the health thread's
    last probe (app.health), never queued behind the worker threads."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "ok", "sandbox": "not started"})
    health = services.health.now()
    probed = None if health.probed_s_ago is None else round(health.probed_s_ago, 1)
    if health.up:
        restarts = services.sandboxes.restarts
        return JSONResponse({"status": "ok", "sandbox": "up", "restarts": restarts, "probed_s_ago": probed})
    body = {"status": "unavailable", "sandbox": health.sandbox, "probed_s_ago": probed}
    return JSONResponse(body, status_code=503)
