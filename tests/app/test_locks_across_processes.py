"""Workers of `serve --workers N` share a SQLite state file: a workspace locked by one process waits in
another (a flock beside the file), so two tabs served by two workers never interleave their actions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import create_engine

from app.panel.locks import WorkspaceLocks

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sqlalchemy import create_engine
    from app.panel.locks import WorkspaceLocks

    db, marks = sys.argv[1], Path(sys.argv[2])
    with WorkspaceLocks(create_engine(f"sqlite:///{db}")).hold("learner-1", "playground"):
        (marks / "in").touch()
        time.sleep(1.0)
        (marks / "out").touch()
    """
)


def test_a_workspace_held_by_another_process_waits(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(tmp_path)])
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "in").exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.02)
        locks = WorkspaceLocks(create_engine(f"sqlite:///{db}"))
        with locks.hold("learner-1", "playground"):
            assert (tmp_path / "out").exists(), "got the lock while the other process still held it"
        with locks.hold("learner-2", "playground"):  # another workspace is not blocked by leftovers
            pass
    finally:
        holder.wait(timeout=30)
    assert holder.returncode == 0
