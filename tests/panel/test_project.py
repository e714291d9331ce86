"""Download project / Import project: the workspace as Prisma's folder, applied by the project's own CLI
to a fresh database with the same `_prisma_migrations` and schema; an import round-trips; hostile zips
are refused with a reason."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest
from panel_helpers import SCHEMA_WITH_BIO, Panel, text

from app.project.imports import ImportLimits, ImportProblem, read_project
from sandbox.migrate.introspection import introspect

SCHEMA_WITH_POST = (
    SCHEMA_WITH_BIO.replace("  bio   String?\n}", "  bio   String?\n  posts Post[]\n}")
    + """
model Post {
  id       Int    @id @default(autoincrement())
  title    String
  author   User   @relation(fields: [authorId], references: [id])
  authorId Int
}
"""
)
RECORD_QUERY = (
    "SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NULL, applied_steps_count"
    " FROM _prisma_migrations ORDER BY migration_name"
)


def three_migrations(panel: Panel) -> None:
    panel.create(SCHEMA_WITH_BIO, "add_bio")
    panel.create(SCHEMA_WITH_POST, "add_posts")
    page = panel.deploy("prod")
    assert "Applied" in text(page.select_one("#env-prod .notice"))


def download(panel: Panel) -> bytes:
    response = panel.get("/project.zip", htmx=False)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    return response.content


def prod_url(panel: Panel) -> str:
    return text(panel.page().select_one("#env-prod .env-url code"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, check=False
    )


def test_the_download_is_a_prisma_folder_the_cli_applies_like_prod(
    panel: Panel, fresh_db: str, tmp_path: Path
) -> None:
    three_migrations(panel)
    with zipfile.ZipFile(io.BytesIO(download(panel))) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    project = tmp_path / "playground"
    migrations = sorted(p.name for p in (project / "prisma" / "migrations").iterdir() if p.is_dir())
    assert (
        len(migrations) == 3 and migrations[1].endswith("_add_bio") and migrations[2].endswith("_add_posts")
    )
    assert {"playground/prisma.config.ts", "playground/README.md", "playground/prisma/schema.prisma"} <= set(
        names
    )
    assert 'provider = "postgresql"' in (project / "prisma/migrations/migration_lock.toml").read_text()
    assert (project / "prisma/schema.prisma").read_text() == SCHEMA_WITH_POST

    schema = str(project / "prisma" / "schema.prisma")
    deployed = cli("migrate", "deploy", "--schema", schema, "--url", fresh_db)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    status = cli("migrate", "status", "--schema", schema, "--url", fresh_db)
    assert status.returncode == 0 and "Database schema is up to date!" in status.stdout

    with psycopg.connect(prod_url(panel)) as prod, psycopg.connect(fresh_db) as fresh:
        assert fresh.execute(RECORD_QUERY).fetchall() == prod.execute(RECORD_QUERY).fetchall()
        assert introspect(fresh) == introspect(prod)
    readme = (project / "README.md").read_text()
    for folder in migrations:  # the README lists the checksums Prisma will record
        sql = (project / "prisma/migrations" / folder / "migration.sql").read_bytes()
        assert f"`{folder}` | `{hashlib.sha256(sql).hexdigest()}`" in readme


def test_an_import_round_trips(panel: Panel, make_client) -> None:
    three_migrations(panel)
    exported = download(panel)
    other = Panel(make_client())  # another learner, in a fresh playground
    page = other._ok(
        other.client.post(
            "/panel/playground/project",
            files={"project": ("project.zip", exported, "application/zip")},
            headers={"HX-Request": "true", "X-CSRF-Token": other.token},
        )
    )
    assert "Imported 3 migrations" in text(page.select_one("#env-dev .notice"))
    assert [text(c) for c in page.select("#panel-history tbody tr th code")] == [
        m.split("/")[3]
        for m in sorted(zipfile.ZipFile(io.BytesIO(exported)).namelist())
        if m.endswith(".sql")
    ]
    with zipfile.ZipFile(io.BytesIO(exported)) as a, zipfile.ZipFile(io.BytesIO(download(other))) as b:
        assert {n: a.read(n) for n in a.namelist()} == {n: b.read(n) for n in b.namelist()}


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


SCHEMA = SCHEMA_WITH_BIO.encode()


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"p/prisma/schema.prisma": SCHEMA, "p/prisma/migrations/1_x/migration.sql": b"\0" * 5_000_000},
         "larger than 64 KiB"),  # a zip bomb: tiny compressed, huge inflated
        ({"../../etc/prisma/schema.prisma": SCHEMA}, "points outside the project folder"),
        ({"/abs/prisma/schema.prisma": SCHEMA}, "points outside the project folder"),
        ({f"p/f{i}.txt": b"" for i in range(600)}, "at most 500"),
        ({"p/README.md": b"hello"}, "No prisma/schema.prisma"),
        ({"p/prisma/schema.prisma": SCHEMA, "p/prisma/migrations/not a name/migration.sql": b""},
         "<timestamp>_<name>"),
        ({"p/prisma/schema.prisma": b"\xff\xfe"}, "not UTF-8"),
        ({"p/prisma/schema.prisma": SCHEMA, "p/prisma/migrations/migration_lock.toml": b'provider = "mysql"'},
         "another provider"),
    ],
)  # fmt: skip
def test_hostile_or_wrong_zips_are_refused_with_a_reason(files: dict[str, bytes], says: str) -> None:
    with pytest.raises(ImportProblem) as refused:
        read_project(zip_of(files), ImportLimits())
    assert says in str(refused.value)


def test_a_symlink_and_a_non_zip_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("p/prisma/schema.prisma")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(ImportProblem, match="symbolic link"):
        read_project(buffer.getvalue())
    with pytest.raises(ImportProblem, match="not a zip"):
        read_project(b"PK\x03\x04 definitely not")
    with pytest.raises(ImportProblem, match="at most 1 KiB"):
        read_project(b"x" * 2048, ImportLimits(max_zip_bytes=1024))


def test_a_refused_import_says_why_in_the_panel_and_changes_nothing(panel: Panel) -> None:
    before = [text(c) for c in panel.page().select("#panel-history tbody tr th code")]
    bad = zip_of({"p/prisma/schema.prisma": b"model User {\n  id Int @id\n  name Strin\n}\n"})
    page = panel._ok(
        panel.client.post(
            "/panel/playground/project",
            files={"project": ("p.zip", bad, "application/zip")},
            headers={"HX-Request": "true", "X-CSRF-Token": panel.token},
        )
    )
    error = text(page.select_one("#import-error"))
    assert "line 3, column" in error and "Not imported" in error
    assert [text(c) for c in page.select("#panel-history tbody tr th code")] == before
