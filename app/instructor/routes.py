"""`/instructor` behind HTTP Basic with the instructor password; `/instructor/export.csv`."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.exceptions import HTTPException

from app.errors import NotFound
from app.guard.ratelimit import TooManyRequests, client_address
from app.instructor import stats
from app.web import render, services_of, site_of

router = APIRouter()
_basic = HTTPBasic(auto_error=False, realm="Migration Lab instructors")


def require_instructor(
    request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
) -> None:
    settings = site_of(request).settings.instructor
    if not settings.instructor_access:
        raise NotFound("Instructor access is off on this instance (MIGRATION_LAB_INSTRUCTOR_ACCESS).")
    limiter = request.app.state.rate_limiter
    rule = request.app.state.guard_settings.instructor_logins_per_client
    client = client_address(request)
    if credentials and (retry_after := limiter.check(rule, "instructor-login", client)) is not None:
        raise TooManyRequests("failed instructor sign-ins", retry_after)
    given = credentials.password.encode() if credentials else b""
    if not credentials or not secrets.compare_digest(given, settings.instructor_password.encode()):
        if credentials:  # a wrong password, not the browser's first unauthenticated try
            limiter.hit(rule, "instructor-login", client)
        raise HTTPException(
            401, "Sign in with the instructor password to see this page.",
            headers={"WWW-Authenticate": 'Basic realm="Migration Lab instructors"'},
        )


Instructor = Depends(require_instructor)


@router.get("/instructor", name="instructor", dependencies=[Instructor])
def dashboard(request: Request) -> Response:
    site = site_of(request)
    catalog = site.catalog
    loaded = catalog.load()
    with services_of(request).state.session() as session:
        context = {
            "file_problems": [*site.course.problems(), *loaded.problems],
            "grading_problems": stats.recent_problems(session),
            "exercises": stats.exercise_stats(session, loaded.exercises),
            "learners": stats.learner_stats(session),
            "exercise_count": len(loaded.exercises),
            "page_title": "Instructor",
        }
    return render(request, "instructor/dashboard.html", context)


@router.get("/instructor/export.csv", dependencies=[Instructor])
def export_csv(request: Request) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(stats.CSV_HEADER)
    with services_of(request).state.session() as session:
        writer.writerows(stats.csv_rows(session))
    return Response(
        out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="migration-lab-attempts.csv"'},
    )
