"""`/progress` (what you did, your resume link) and `/resume/<token>` (continue on another device)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.csrf import verify_csrf
from app.errors import AppError
from app.identity import COOKIE_MAX_AGE, COOKIE_NAME, LEARNER_ID, LearnerId
from app.progress.service import ProgressService
from app.web import render, services_of, site_of

router = APIRouter()


def progress_service(request: Request) -> ProgressService:
    return services_of(request).progress


def home_progress(service: ProgressService, learner: str) -> dict:
    """Merged into the course home's context: progress per lesson and the Continue target."""
    lessons = service.lessons(learner)
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
    """A visitor without an identity continues at once; one with an identity of their own is asked first
    (a page with a CSRF-protected POST), so a link on another site cannot swap a learner's identity for
    the attacker's and collect their work (login CSRF)."""
    service = progress_service(request)
    learner = _learner_of(service, token)
    if request.state.learner_id == learner:
        lessons = service.lessons(learner)
        return RedirectResponse(service.continue_url(lessons) or "/", status_code=303)
    if attempt >= 1:
        raise AppError(400, "Cookies are needed", "Your browser did not keep the learner cookie, so the "
                       "course cannot remember you. Allow cookies for this site and open the link again.")
    if not request.state.new_learner:
        lessons = service.lessons(request.state.learner_id)
        started = [lesson for lesson in lessons if lesson.label != "Not started"]
        summary = f"{len(started)} of {len(lessons)} lessons started"
        context = {"token": token, "summary": summary, "page_title": "Continue as someone else?"}
        return render(request, "progress/resume_confirm.html", context)
    return _switch_to(request, token, learner)


@router.post("/resume/{token}", dependencies=[Depends(verify_csrf)])
def resume_confirmed(request: Request, token: str) -> Response:
    return _switch_to(request, token, _learner_of(progress_service(request), token))


def _learner_of(service: ProgressService, token: str) -> str:
    learner = service.learner_of(token)
    if learner is None or not LEARNER_ID.match(learner):
        raise AppError(404, "Resume link not valid", "This resume link is not valid: copy it again from "
                       "the Your progress page on the device where you started.")
    return learner


def _switch_to(request: Request, token: str, learner: str) -> Response:
    # A new browser also gets a fresh id from the identity middleware in this same response; the
    # redirect makes a second request in which our cookie is the only one set.
    response = RedirectResponse(f"/resume/{token}?attempt=1", status_code=303)
    response.set_cookie(
        COOKIE_NAME, site_of(request).identity.cookie_value(learner), max_age=COOKIE_MAX_AGE,
        path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )
    return response
