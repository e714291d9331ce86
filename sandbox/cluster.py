"""A private, throwaway PostgreSQL cluster that this process starts and owns.

The cluster is cattle: fsync is off, data lives on tmpfs when there is room, and a cluster
left behind by a crashed run is stopped and wiped on the next start.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# PostgreSQL refuses to run as root. A dedicated system user keeps the cluster's files apart from
# anything else `nobody` may own; machines without `useradd` fall back to `nobody`.
SYSTEM_USER = "migration-lab"
FALLBACK_USER = "nobody"
TMPFS = Path("/dev/shm")
TMPFS_MIN_FREE = 512 * 1024 * 1024
# Fits the default connection budget (10 per workspace role x 100 workspaces + 20 for the app, plus
# PostgreSQL's 3 superuser slots); EmbeddedProvider sizes its cluster from the settings.
DEFAULT_MAX_CONNECTIONS = 1100
# Every panel view reads the catalogs of a learner's three environments. With 64 MB of shared buffers and
# a class of 40 (160 databases), PostgreSQL read 74 blocks per drift fingerprint from the page cache and
# spent 15% more CPU per action than with 512 MB (`migration-lab bench --only workers`). Shared memory is
# only touched as it is used, so sizing it for the whole class costs nothing before the class comes.
BUFFERS_PER_WORKSPACE_MB = 4
MIN_SHARED_BUFFERS_MB = 128
MAX_SHARED_BUFFERS_MB = 1024

SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # On tmpfs WAL is memory: log little (nothing is replicated or archived) and recycle it early.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "256MB",
    "min_wal_size": "32MB",
    "listen_addresses": "127.0.0.1",
    "unix_socket_permissions": "0700",
    "log_min_messages": "warning",
    "logging_collector": "off",
    "dynamic_shared_memory_type": "posix",
}


class ClusterError(RuntimeError):
    """The cluster could not be found or started; the message says what to do."""


def find_pg_bin(explicit: str | None = None) -> Path:
    """Where initdb/pg_ctl live: an explicit folder, the machine's, or the pgserver wheel's."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")), reverse=True)
    # The pgserver wheel ships server binaries for machines without PostgreSQL. Locate it without
    # importing it: its import touches platformdirs, which warns on every command where XDG is unset.
    wheel = importlib.util.find_spec("pgserver")
    if wheel and wheel.submodule_search_locations:
        candidates.append(Path(list(wheel.submodule_search_locations)[0]) / "pginstall" / "bin")
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise ClusterError(
        "No PostgreSQL server binaries found (looked for initdb and pg_ctl in "
        + ", ".join(str(c) for c in candidates)
        + "). Install the `postgresql` package, or `pip install pgserver`, "
        "or set MIGRATION_LAB_PG_BIN to the folder that holds initdb."
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shared_buffers_for(workspaces: int) -> int:
    """MB of shared buffers for a cluster holding `workspaces` workspaces."""
    return max(MIN_SHARED_BUFFERS_MB, min(MAX_SHARED_BUFFERS_MB, BUFFERS_PER_WORKSPACE_MB * workspaces))


@dataclass
class EmbeddedCluster:
    """One PostgreSQL cluster in `root`; `start()` makes it ready, `stop()` wipes nothing."""

    root: Path
    pg_bin: Path
    port: int = field(default_factory=free_port)
    superuser: str = "postgres"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    shared_buffers_mb: int = MIN_SHARED_BUFFERS_MB
    _run_as: pwd.struct_passwd | None = None
    _lock_fd: int | None = None

    @classmethod
    def create(cls, data_dir: Path, name: str = "cluster", pg_bin: str | None = None) -> EmbeddedCluster:
        """Pick tmpfs when it has room, else `data_dir`; the folder name is stable so a crash is found."""
        base = data_dir
        if TMPFS.is_dir() and shutil.disk_usage(TMPFS).free > TMPFS_MIN_FREE:
            digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:10]
            base = TMPFS / f"migration-lab-{os.getuid()}-{digest}"
        return cls(root=base / name, pg_bin=find_pg_bin(pg_bin))

    @property
    def pgdata(self) -> Path:
        return self.root / "data"

    @property
    def _lock_path(self) -> Path:
        return self.root.parent / f".{self.root.name}.lock"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        return make_conninfo(
            host=str(self.socket_dir), port=self.port, user=self.superuser, dbname=dbname
        )

    def tcp_url(self, user: str, password: str, dbname: str) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._take_lock()
        try:
            self._start_locked()
        except BaseException:
            self._release_lock()
            raise

    def _start_locked(self) -> None:
        self._run_as = unprivileged_user() if os.geteuid() == 0 else None
        self._clean_leftover()
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self._chown(self.root, self.socket_dir)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._chown(pwfile)
        self._run(
            [
                str(self.pg_bin / "initdb"), "-D", str(self.pgdata), "-U", self.superuser,
                "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                "-E", "UTF8", "--locale=C", "--no-sync",
            ],
            "initdb",
        )
        pwfile.unlink()
        server_settings = {
            **SERVER_SETTINGS,
            "max_connections": str(self.max_connections),
            "shared_buffers": f"{self.shared_buffers_mb}MB",
        }
        opts = " ".join(f"-c {k}={v}" for k, v in server_settings.items())
        opts += f" -p {self.port} -k {self.socket_dir}"
        self._run(
            [
                str(self.pg_bin / "pg_ctl"), "-D", str(self.pgdata), "-o", opts,
                "-l", str(self.root / "server.log"), "-w", "-t", "30", "start",
            ],
            "start the server",
        )

    def postmaster_alive(self) -> bool:
        """Whether the postmaster of this cluster still runs (a kill -9 leaves its pid file behind)."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return False
        return _is_postmaster_of(pid, self.pgdata)

    def restart(self) -> None:
        """Start afresh in the same folder, on the same port when it is still free: after a crash the
        data is gone anyway (fsync off, tmpfs), and workspaces are rebuilt from the app's state."""
        self.stop(wipe=True)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", self.port))
        except OSError:
            self.port = free_port()
        self.start()

    def stop(self, wipe: bool = True) -> None:
        if self.pgdata.exists():
            self._run(
                [str(self.pg_bin / "pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "-w", "stop"],
                "stop the server",
                check=False,
            )
        if wipe:
            shutil.rmtree(self.root, ignore_errors=True)
        self._release_lock()
        if wipe and self.root.parent.parent == TMPFS:
            # Our own folder on tmpfs: leave nothing behind (rmdir keeps it if another cluster lives there).
            self._lock_path.unlink(missing_ok=True)
            try:
                self.root.parent.rmdir()
            except OSError:
                pass

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _take_lock(self) -> None:
        """One live process per cluster folder: a leftover is only cleaned when its owner is gone. The
        kernel drops a flock when its process dies, however it dies."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ClusterError(
                f"Another process (pid {owner}) runs the embedded PostgreSQL cluster in {self.root}. "
                "Stop it, or give this one another data dir (MIGRATION_LAB_DATA_DIR)."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def _clean_leftover(self) -> None:
        """A previous run that crashed leaves its postmaster running or its folder behind."""
        pidfile = self.pgdata / "postmaster.pid"
        if pidfile.exists():
            try:
                pid = int(pidfile.read_text().splitlines()[0])
                if not _is_postmaster_of(pid, self.pgdata):
                    raise ProcessLookupError(pid)  # a stale file: the pid now names another process
                os.kill(pid, signal.SIGQUIT)
                for _ in range(50):
                    os.kill(pid, 0)
                    time.sleep(0.1)
            except (ProcessLookupError, ValueError, IndexError, PermissionError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def _chown(self, *paths: Path) -> None:
        if self._run_as is None:
            return
        for path in paths:
            os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)
        # The parent folders must be traversable by the unprivileged user.
        for parent in paths[0].parents:
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)

    def _run(self, argv: list[str], what: str, check: bool = True) -> None:
        kwargs: dict[str, Any] = {}
        if self._run_as is not None:
            kwargs = {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"}
        proc = subprocess.run(argv, capture_output=True, text=True, cwd="/", env=env, **kwargs)
        if check and proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ClusterError(
                f"PostgreSQL failed to {what} (exit {proc.returncode}) in {self.root}:\n"
                f"{proc.stderr.strip()}\n{tail}".rstrip()
                + "\nFix the cause above (free space, a port or permission problem), or use an existing "
                "server with MIGRATION_LAB_SANDBOX=server and MIGRATION_LAB_SANDBOX_URL."
            )


def unprivileged_user() -> pwd.struct_passwd:
    """The system user the cluster runs as when we are root, created on first use when possible."""
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd:
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            capture_output=True,
        )
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            pass
    return pwd.getpwnam(FALLBACK_USER)


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return not Path("/proc").is_dir()  # no /proc to check against: trust the pid file
    return any(arg == str(pgdata).encode() for arg in cmdline)
