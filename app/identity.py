"""Anonymous learners: a random id in a signed cookie, so progress and workspaces survive without sign-up.

`IdentityMiddleware` gives every request `request.state.learner_id` and sets the cookie when it was
missing or forged; handlers take the id with the `LearnerId` dependency.
"""

from __future__ import annotations

import functools
import re
import secrets
from http.cookies import SimpleCookie
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "ml_learner"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep (RFC 6265bis caps at 400 days)
LEARNER_ID = re.compile(r"^[0-9a-f]{32}$")
SIGNED_CACHE = 8192  # signed values checked once per process: a class, a few tabs each


class Identity:
    """Signs learner ids and CSRF tokens with the app's secret key."""

    def __init__(self, secret_key: str) -> None:
        self._learner = URLSafeSerializer(secret_key, salt="learner")
        self._csrf = URLSafeSerializer(secret_key, salt="csrf")
        # Every request checks a signature or two (HMAC, base64, JSON: 2% of a worker's CPU under a
        # class's load): each is checked once per process, and remembered only when it was good (a
        # forged value raises BadSignature, which lru_cache does not keep).
        self._learner_of = functools.lru_cache(maxsize=SIGNED_CACHE)(self._learner.loads)
        self._csrf_of = functools.lru_cache(maxsize=SIGNED_CACHE)(self._csrf.loads)
        self._csrf_for = functools.lru_cache(maxsize=SIGNED_CACHE)(self._csrf.dumps)

    @staticmethod
    def new_learner_id() -> str:
        return secrets.token_hex(16)

    def cookie_value(self, learner_id: str) -> str:
        return str(self._learner.dumps(learner_id))

    def learner_from_cookie(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            learner_id = self._learner_of(value)
        except BadSignature:
            return None
        return learner_id if isinstance(learner_id, str) and LEARNER_ID.match(learner_id) else None

    def csrf_token(self, learner_id: str) -> str:
        return str(self._csrf_for(learner_id))

    def csrf_valid(self, learner_id: str, token: str | None) -> bool:
        if not token:
            return False
        try:
            return bool(self._csrf_of(token) == learner_id)
        except BadSignature:
            return False


class IdentityMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so streaming responses and background tasks are untouched."""

    def __init__(self, app, identity: Identity) -> None:
        self.app = app
        self.identity = identity

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                try:
                    cookies.load(value.decode("latin-1"))
                except Exception:  # a malformed Cookie header from the client is ignored, not fatal
                    pass
        morsel = cookies.get(COOKIE_NAME)
        learner_id = self.identity.learner_from_cookie(morsel.value if morsel else None)
        is_new = learner_id is None
        if learner_id is None:
            learner_id = self.identity.new_learner_id()
        scope.setdefault("state", {})["learner_id"] = learner_id
        scope["state"]["new_learner"] = is_new  # the rate limit on new identities reads it
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message) -> None:
            own = (COOKIE_NAME + "=").encode()
            if (
                is_new
                and message["type"] == "http.response.start"
                # the handler set the learner itself (a resume link): that one stands
                and not any(k == b"set-cookie" and v.startswith(own) for k, v in message.get("headers", []))
            ):
                cookie = (
                    f"{COOKIE_NAME}={self.identity.cookie_value(learner_id)}; Path=/; "
                    f"Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                )
                headers = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def learner_id(request: Request) -> str:
    return str(request.state.learner_id)


LearnerId = Annotated[str, Depends(learner_id)]
