"""The warm pool: a background thread keeps `size` ready workspaces, so handing one out is one UPDATE."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sandbox.providers.base import SandboxFull

log = logging.getLogger(__name__)

# Re-count now and then even when nobody signals: other processes may share the pool on a server.
RECHECK_S = 5.0


class WarmPool:
    def __init__(
        self,
        size: int,
        count: Callable[[], int],
        build_one: Callable[[], None],
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        self.size = size
        self._count = count
        self._build_one = build_one
        self._active = active  # processes sharing a server: only the leader refills (the others would race)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.size <= 0 or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="sandbox-warm-pool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def taken(self) -> None:
        """A workspace left the pool: refill soon."""
        self._wake.set()

    def fill(self) -> int:
        """Build workspaces until the pool is full or stopping; returns how many were built."""
        built = 0
        while not self._stopping.is_set() and self._count() < self.size:
            self._build_one()
            built += 1
        return built

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                if self._active():
                    self.fill()
                failures = 0
            except SandboxFull as exc:  # expected while a class fills the sandbox: no traceback
                failures += 1
                log.warning("warm pool not refilled: %s", exc)
            except Exception:  # keep refilling after a transient failure (server restarting, disk full)
                failures += 1
                log.exception("warm pool refill failed (%d in a row)", failures)
            self._wake.wait(timeout=RECHECK_S * min(failures + 1, 12))
            self._wake.clear()
