"""CSRF protection for every state-changing request.

The token is the learner id signed with its own salt: a page from another origin cannot read it, and
it is checked against the learner cookie on each POST, sent either as the `csrf_token` form field (plain
HTML forms) or as the `X-CSRF-Token` header (htmx, through `hx-headers` on the panel). The learner cookie
is also SameSite=Lax, so a cross-site POST does not even carry it.
"""

from __future__ import annotations

from fastapi import Request

from app.errors import AppError
from app.identity import Identity
from app.web import site_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD_NAME = "csrf_token"
HEADER_NAME = "X-CSRF-Token"


class CsrfError(AppError):
    """The request carried no valid token; shown to the learner as a 403 with a way forward."""

    def __init__(self) -> None:
        super().__init__(
            403,
            "This form has expired",
            "The page was open for too long or came from elsewhere. Reload the page and try again.",
        )


def identity_of(request: Request) -> Identity:
    return site_of(request).identity


def csrf_token(request: Request) -> str:
    """For templates: `{{ csrf_token(request) }}`."""
    return identity_of(request).csrf_token(request.state.learner_id)


async def verify_csrf(request: Request) -> None:
    """A dependency: add it to a router (`dependencies=[Depends(verify_csrf)]`) or to the app."""
    if request.method in SAFE_METHODS:
        return
    token = request.headers.get(HEADER_NAME)
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # Starlette caches the parsed form on the request, so the handler's Form() fields still work.
        value = (await request.form()).get(FIELD_NAME)
        token = value if isinstance(value, str) else None
    if not identity_of(request).csrf_valid(request.state.learner_id, token):
        raise CsrfError()
