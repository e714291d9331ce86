"""Stopping a `migration-lab serve` subprocess the way an operator does: Ctrl-C, then a kill if it hangs."""

from __future__ import annotations

import signal
import subprocess


def stop_served(process: subprocess.Popen[bytes], timeout: float = 30) -> bool:
    """SIGINT (uvicorn's graceful shutdown), then SIGKILL after `timeout` seconds; whether it stopped by
    itself."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False
