"""The sandbox server's health for `/healthz`, probed by a thread of its own.

`/healthz` answers on the event loop from the last probe. It used to probe per request on a worker
thread: when a class arrives at once every worker thread is busy for seconds, and the probe queued behind
them made `/healthz` as late as the slowest first visit (3 s measured with 40 at once). Probing on its own
thread also keeps load balancers, which ask every few seconds from each replica, from opening a
connection each time.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sandbox import SandboxManager

log = logging.getLogger(__name__)

PROBE_EVERY_S = 1.0
# No probe finished for this long: the server hangs (a probe's connect gives up after 2 s, so a server
# that answers, however slowly, is probed again well within it).
STALE_AFTER_S = 5.0


@dataclass(frozen=True)
class Probe:
    finished_at: float  # time.monotonic()
    up: bool


@dataclass(frozen=True)
class Health:
    up: bool
    sandbox: str  # up, down, not answering
    probed_s_ago: float | None


class SandboxHealth:
    def __init__(self, sandboxes: SandboxManager, every_s: float = PROBE_EVERY_S) -> None:
        self.sandboxes = sandboxes
        self._every_s = every_s
        self._last: Probe | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-health", daemon=True)

    def start(self) -> None:
        self._probe()  # the first answer already knows
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def now(self) -> Health:
        """The postmaster is checked now, without a connection (a crash shows at once); the connection
        probe is the last one, at most `PROBE_EVERY_S` plus one probe old."""
        last = self._last
        age = None if last is None else time.monotonic() - last.finished_at
        if not self.sandboxes.alive():
            return Health(False, "down", age)
        if last is None or age is None or age > STALE_AFTER_S:
            return Health(False, "not answering", age)
        return Health(last.up, "up" if last.up else "down", age)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            self._probe()

    def _probe(self) -> None:
        try:
            up = self.sandboxes.healthy()
        except Exception:  # a probe that cannot tell says down; the thread must keep probing
            log.exception("the sandbox health probe failed")
            up = False
        self._last = Probe(time.monotonic(), up)
