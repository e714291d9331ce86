"""Per-client rate limits on what costs the host (new identities, new sandboxes, instructor sign-ins),
counted by the `limits` library in a moving window; a refusal is a 429 with `Retry-After`. The counters
live in this process (`memory://`), in the app's state database (`StateStorage`) or in any `limits`
storage, as `MIGRATION_LAB_RATE_LIMIT_STORAGE` chooses (`app.guard.shared_guards`)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection

from app.errors import AppError

log = logging.getLogger(__name__)


class TooManyRequests(AppError):
    def __init__(self, what: str, retry_after: int, advice: str = "") -> None:
        super().__init__(
            429,
            "Too many requests",
            f"Too many {what} from your address. Try again in {retry_after} s. {advice}".strip(),
        )
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class RateLimiter:
    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage or MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)

    @property
    def shared(self) -> bool:
        """Counted outside this process (a database or service round trip: not on the event loop)."""
        return not isinstance(self.storage, MemoryStorage)

    def hit(self, rule: str, name: str, key: str) -> int | None:
        """Count one event of `name` for `key`; None when allowed, else seconds until it would be."""
        return self._ask(self._limiter.hit, rule, name, key)

    def check(self, rule: str, name: str, key: str) -> int | None:
        """Like `hit` without counting (is `key` already over?)."""
        return self._ask(self._limiter.test, rule, name, key)

    def _ask(self, allowed: Callable[..., bool], rule: str, name: str, key: str) -> int | None:
        try:
            for item in parse_many(rule):
                if not allowed(item, name, key):
                    return self._retry_after(item, name, key)
        except self.storage.base_exceptions:
            # The store is unreachable or busy past its timeout: the request goes on rather than get a
            # 500; the per-process fair share and the sandbox's own limits still hold.
            log.warning("rate limit %s not counted: its storage failed", name, exc_info=True)
        return None

    def _retry_after(self, item: RateLimitItem, name: str, key: str) -> int:
        reset = self._limiter.get_window_stats(item, name, key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def clear(self) -> None:
        self._limiter.storage.reset()


def client_address(connection: HTTPConnection) -> str:
    """The peer address (uvicorn's --proxy-headers puts the real one here behind a trusted proxy)."""
    return connection.client.host if connection.client else "unknown"
