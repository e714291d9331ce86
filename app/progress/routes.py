"""`/progress` (what you did, your resume link) and `/resume/<token>` (continue on another device)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import AppError
from app.identity import COOKIE_MAX_AGE, COOKIE_NAME, LEARNER_ID, LearnerId
from app.progress.service import ProgressService
from app.web import render

router = APIRouter()


def progress_service(request: Request) -> ProgressService:
    return request.app.state.progress


def home_context(request: Request) -> dict:
    """Merged into the course home: progress per lesson and the Continue target."""
    service = progress_service(request)
    lessons = service.lessons(request.state.learner_id)
    context: dict = {"progress": {p.slug: p.label for p in lessons}}
    if (url := service.continue_url(lessons)) is not None:
        context["continue_url"] = url
    return context


@router.get("/progress", name="progress")
def progress_page(request: Request, learner: LearnerId) -> Response:
    service = progress_service(request)
    lessons = service.lessons(learner)
    resume_url = str(request.base_url).rstrip("/") + f"/resume/{service.resume_token(learner)}"
    context = {
        "lessons": lessons,
        "continue_url": service.continue_url(lessons),
        "resume_url": resume_url,
        "page_title": "Your progress",
    }
    return render(request, "progress/progress.html", context)


@router.get("/resume/{token}", name="resume")
def resume(request: Request, token: str, attempt: int = 0) -> Response:
    service = progress_service(request)
    learner = service.learner_of(token)
    if learner is None or not LEARNER_ID.match(learner):
        raise AppError(404, "Resume link not valid", "This resume link is not valid: copy it again from "
                       "the Your progress page on the device where you started.")
    if request.state.learner_id == learner:
        lessons = service.lessons(learner)
        return RedirectResponse(service.continue_url(lessons) or "/", status_code=303)
    if attempt >= 2:
        raise AppError(400, "Cookies are needed", "Your browser did not keep the learner cookie, so the "
                       "course cannot remember you. Allow cookies for this site and open the link again.")
    # A new browser also gets a fresh id from the identity middleware in this same response; the
    # redirect makes a second request in which our cookie is the only one set.
    response = RedirectResponse(f"/resume/{token}?attempt={attempt + 1}", status_code=303)
    response.set_cookie(
        COOKIE_NAME, request.app.state.identity.cookie_value(learner), max_age=COOKIE_MAX_AGE,
        path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )
    return response
