"""Course pages: the home page with every lesson in order, and one page per lesson."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.course.loader import Course
from app.errors import AppError, NotFound
from app.web import render

router = APIRouter()


def course_of(request: Request) -> Course:
    return request.app.state.course


@router.get("/", name="home")
def home(request: Request) -> Response:
    lessons = course_of(request).lessons()
    first = next((lesson for lesson in lessons if lesson.available), None)
    context: dict[str, Any] = {
        "lessons": lessons,
        "continue_url": first.url if first else None,
        "progress": {},
        "page_title": None,
    }
    for extra in request.app.state.home_context:
        context.update(extra(request))
    return render(request, "course/home.html", context, block="content")


@router.get("/lessons/{slug}", name="lesson")
def lesson_page(request: Request, slug: str) -> Response:
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
    previous, following = course.neighbours(slug)
    context = {"lesson": lesson, "previous": previous, "next": following, "page_title": lesson.title}
    return render(request, "course/lesson.html", context, block="content")


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
