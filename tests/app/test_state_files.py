"""What the app writes for itself is private to its user: no other local user reads the learners' state
or the key that signs their cookies."""

from __future__ import annotations

import stat
from pathlib import Path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_state_database_and_secret_key_are_created_mode_600(make_client, tmp_path: Path) -> None:
    client = make_client()
    assert client.get("/progress").status_code == 200  # the state database is written
    data = tmp_path / "data"
    assert mode(data / "secret_key") == 0o600
    for name in ("migration-lab.sqlite3", "migration-lab.sqlite3-wal", "migration-lab.sqlite3-shm"):
        if (data / name).exists():
            assert mode(data / name) == 0o600, name
    assert (data / "migration-lab.sqlite3").exists()


def test_healthz_says_ok_before_the_sandbox_starts(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
