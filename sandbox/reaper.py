"""The reaper: drops the databases of idle workspaces, and a watchdog over runaway learner sessions.

Role defaults (statement_timeout, idle_in_transaction_session_timeout) can be changed by the learner with
SET; the watchdog does not depend on them: it cancels queries running over twice the configured timeout
and ends sessions idle in a transaction over twice theirs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

WATCHDOG_INTERVAL_S = 1.0


class Reaper:
    def __init__(
        self, sweep: Callable[[], object], watchdog: Callable[[], object], interval_s: float
    ) -> None:
        self._sweep = sweep
        self._watchdog = watchdog
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="sandbox-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        next_sweep = time.monotonic() + self.interval_s
        while not self._stopping.wait(WATCHDOG_INTERVAL_S):
            self._guarded(self._watchdog, "watchdog")
            if time.monotonic() >= next_sweep:
                self._guarded(self._sweep, "sweep")
                next_sweep = time.monotonic() + self.interval_s

    @staticmethod
    def _guarded(fn: Callable[[], object], what: str) -> None:
        try:
            fn()
        except Exception:  # the next round retries; one bad round must not end the thread
            log.exception("sandbox reaper %s failed", what)
