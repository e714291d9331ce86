"""Reading a Prisma project folder from an uploaded zip, defensively: the archive is hostile until proven
otherwise (a zip bomb, `../` paths, links, thousands of entries, text that is not UTF-8)."""

from __future__ import annotations

import io
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sandbox.migrate import LOCK_FILE, MIGRATION_FILE, Migration

# Prisma's folder names: `<timestamp>_<name>`; kept to what a folder of ours or Prisma's can hold.
MIGRATION_NAME = re.compile(r"^[0-9]{1,20}_[A-Za-z0-9_\-]{1,200}$")
IGNORED_PARTS = {"__MACOSX", "node_modules", ".git"}


@dataclass(frozen=True)
class ImportLimits:
    max_zip_bytes: int = 1024 * 1024
    max_entries: int = 500
    max_total_bytes: int = 4 * 1024 * 1024  # uncompressed, counted while reading (never trusted from headers)
    max_file_bytes: int = 64 * 1024
    max_migrations: int = 200


class ImportProblem(ValueError):
    """What is wrong with the upload, in words a learner can act on."""


@dataclass
class ImportedProject:
    schema: str
    migrations: list[Migration] = field(default_factory=list)


def read_project(data: bytes, limits: ImportLimits | None = None) -> ImportedProject:
    limits = limits or ImportLimits()
    if not data:
        raise ImportProblem(
            "The upload is empty: choose a .zip of your project (the folder holding prisma/)."
        )
    if len(data) > limits.max_zip_bytes:
        raise ImportProblem(
            f"The zip is {len(data) // 1024} KiB; imports take at most {limits.max_zip_bytes // 1024} KiB."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportProblem("This is not a zip file (or a damaged one): export the folder as .zip.") from exc
    if len(entries) > limits.max_entries:
        raise ImportProblem(
            f"The zip holds {len(entries)} entries; imports take at most {limits.max_entries}."
        )
    files = _files(archive, entries, limits)
    return _project(files, limits)


def _files(
    archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], limits: ImportLimits
) -> dict[str, bytes]:
    """The archive's regular files by safe relative path, read within the limits."""
    files: dict[str, bytes] = {}
    total = 0
    for entry in entries:
        path = _safe_path(entry.filename)
        mode = entry.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ImportProblem(f"{path} is a symbolic link: the zip may hold only plain files.")
        if entry.is_dir() or IGNORED_PARTS & set(PurePosixPath(path).parts):
            continue
        wanted = _wanted(path)
        if not wanted:
            continue  # package.json, README, ...: not read at all
        if entry.flag_bits & 0x1:
            raise ImportProblem(f"{path} is encrypted: export the folder without a password.")
        content = _read_limited(archive, entry, path, limits.max_file_bytes)
        total += len(content)
        if total > limits.max_total_bytes:
            raise ImportProblem(
                f"The files of the project add up to more than {limits.max_total_bytes // 1024} KiB."
            )
        if path in files:
            raise ImportProblem(f"{path} is in the zip twice.")
        files[path] = content
    return files


def _safe_path(name: str) -> str:
    if "\\" in name or "\x00" in name:
        raise ImportProblem(f"{name!r}: paths in the zip must use / and no special characters.")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ImportProblem(f"{name!r} points outside the project folder: the zip is refused.")
    return str(path)


def _wanted(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return parts[-1] in ("schema.prisma", MIGRATION_FILE, LOCK_FILE)


def _read_limited(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, path: str, limit: int) -> bytes:
    """At most `limit` bytes, however small the header claims the file is (a zip bomb lies there)."""
    too_big = ImportProblem(f"{path} is larger than {limit // 1024} KiB, the most one file may be.")
    if entry.file_size > limit:
        raise too_big
    try:
        with archive.open(entry) as stream:
            content = stream.read(limit + 1)
    except (zipfile.BadZipFile, NotImplementedError, OSError, RuntimeError) as exc:
        raise ImportProblem(f"{path} cannot be read from the zip ({exc}).") from exc
    if len(content) > limit:
        raise too_big
    return content


def _project(files: dict[str, bytes], limits: ImportLimits) -> ImportedProject:
    schemas = sorted(p for p in files if PurePosixPath(p).name == "schema.prisma")
    preferred = [p for p in schemas if PurePosixPath(p).parent.name == "prisma"]
    if not schemas:
        raise ImportProblem("No prisma/schema.prisma in the zip: zip the project folder that holds prisma/.")
    if len(preferred) > 1 or (not preferred and len(schemas) > 1):
        raise ImportProblem(
            f"The zip holds several schemas ({', '.join(schemas)}): keep one project per zip."
        )
    schema_path = (preferred or schemas)[0]
    root = PurePosixPath(schema_path).parent  # the prisma/ folder
    migrations_dir = root / "migrations"
    lock = files.get(str(migrations_dir / LOCK_FILE))
    if lock is not None and b"postgresql" not in lock:
        raise ImportProblem(f"{migrations_dir / LOCK_FILE} names another provider: the lab runs PostgreSQL.")
    migrations = []
    for path, content in sorted(files.items()):
        parent = PurePosixPath(path).parent
        if PurePosixPath(path).name != MIGRATION_FILE:
            continue
        if parent.parent != migrations_dir:
            raise ImportProblem(
                f"{path}: migrations belong in {migrations_dir}/<timestamp>_<name>/migration.sql."
            )
        if not MIGRATION_NAME.match(parent.name):
            raise ImportProblem(
                f"{parent.name}: a migration folder is named <timestamp>_<name> (letters, digits, _ and -)."
            )
        migrations.append(Migration(parent.name, _text(path, content)))
    if len(migrations) > limits.max_migrations:
        raise ImportProblem(
            f"The project has {len(migrations)} migrations; imports take at most {limits.max_migrations}."
        )
    return ImportedProject(_text(schema_path, files[schema_path]), migrations)


def _text(path: str, content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"{path} is not UTF-8 text (byte {exc.start}).") from exc
