"""`migration-lab serve` as a subprocess, as an operator runs it: started on a free port of 127.0.0.1,
waited for on `/healthz`, stopped with Ctrl-C and then a kill if it hangs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sandbox.cluster import free_port


def start_served(
    data_dir: Path, repo_root: Path, env: dict[str, str], workers: int, log_path: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """The app with its own data folder, the repository's lessons and local assets (`env` adds or
    overrides settings), its output in `log_path`; returns the process and its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "MIGRATION_LAB_DATA_DIR": str(data_dir),
        "MIGRATION_LAB_LESSONS_DIR": str(repo_root / "lessons"),
        "MIGRATION_LAB_ASSETS": "local",
        **env,
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    with open(log_path, "wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=repo_root
        )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, seconds: float = 60) -> None:
    """Until `/healthz` answers 200; fails with the end of the server's log when it exits or is late."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        exited = process.poll()
        assert exited is None, f"the server exited with {exited}:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not start:\n{log.read_text()[-3000:]}")


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
