"""The app's one error type and the one place that renders it: as a page, an htmx fragment or JSON."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.web import render

log = logging.getLogger(__name__)


class AppError(Exception):
    """A failure of the app shown to the learner: `title` is short, `message` says what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(f"{status} {title}: {message}")
        self.status = status
        self.title = title
        self.message = message
        self.headers: dict[str, str] = {}  # e.g. Retry-After on a 429


class NotFound(AppError):
    def __init__(self, message: str = "There is no page at this address.") -> None:
        super().__init__(404, "Page not found", message)


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, error: AppError) -> Response:
    if wants_json(request):
        body = {"error": {"status": error.status, "title": error.title, "message": error.message}}
        return JSONResponse(body, status_code=error.status, headers=error.headers)
    context = {"error": error, "page_title": error.title}
    # An htmx request gets only the message block, swapped where the learner is looking.
    return render(
        request, "error.html", context, block="error", status_code=error.status, headers=error.headers
    )


Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


def exception_handlers() -> dict[int | type[Exception], Handler]:
    """What `create_app` hands FastAPI: every error becomes a page, an htmx fragment or JSON, here."""

    async def on_app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return error_response(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return error_response(request, NotFound())
        title = HTTPStatus(exc.status_code).phrase if exc.status_code in set(HTTPStatus) else "Error"
        message = exc.detail if isinstance(exc.detail, str) else title
        response = error_response(request, AppError(exc.status_code, title, message))
        response.headers.update(exc.headers or {})
        return response

    async def on_invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return error_response(request, AppError(422, "Invalid request", problems))

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            AppError(500, "Something went wrong", "The server hit an unexpected error. It has been logged."),
        )

    return {
        AppError: on_app_error,
        StarletteHTTPException: on_http_error,
        RequestValidationError: on_invalid_request,
        Exception: on_crash,
    }
