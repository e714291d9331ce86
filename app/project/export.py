"""The workspace as a zip of Prisma's folder layout, which `prisma migrate deploy` (and `migration-lab
migrate deploy`) accept as it is: every `migration.sql` byte for byte, so the SHA-256 checksums Prisma
records in `_prisma_migrations` are the ones the workspace's databases hold."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from sandbox.migrate import LOCK_FILE, LOCK_FILE_TEXT, MIGRATION_FILE, Migration

# A fixed date: the same workspace always gives the same bytes (zip needs a date from 1980 on).
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

PRISMA_CONFIG = """\
// Prisma 7's configuration (as in the course): where the schema and migrations live, and the database.
import { defineConfig, env } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: env("DATABASE_URL") },
});
"""

def project_files(schema: str, migrations: Sequence[Migration], title: str) -> dict[str, bytes]:
    """Path (relative to the project folder) -> content."""
    files = {
        "prisma/schema.prisma": schema.encode("utf-8"),
        f"prisma/migrations/{LOCK_FILE}": LOCK_FILE_TEXT.encode("utf-8"),
        "prisma.config.ts": PRISMA_CONFIG.encode("utf-8"),
        "README.md": readme(migrations, title).encode("utf-8"),
    }
    for migration in migrations:
        files[f"prisma/migrations/{migration.name}/{MIGRATION_FILE}"] = migration.sql.encode("utf-8")
    return files


def project_zip(schema: str, migrations: Sequence[Migration], folder: str, title: str) -> bytes:
    """The project as a zip holding one folder `folder/`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(project_files(schema, migrations, title).items()):
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def readme(migrations: Sequence[Migration], title: str) -> str:
    rows = "\n".join(f"| `{m.name}` | `{m.checksum}` |" for m in migrations) or "| (none) | |"
    return f"""\
# {title}

Exported from Migration Lab: a Prisma project folder with the schema and the migration history.

```
prisma/schema.prisma                        the data model
prisma/migrations/<timestamp>_<name>/       one folder per migration, applied in name order
prisma/migrations/migration_lock.toml       the provider (postgresql)
prisma.config.ts                            where Prisma finds them
```

## Apply it to a database

```bash
npm install --save-dev prisma
export DATABASE_URL="postgresql://user:password@localhost:5432/mydb"
npx prisma migrate deploy     # applies every pending migration
npx prisma migrate status     # "Database schema is up to date!"
```

Prisma 7 reads the database URL from `prisma.config.ts`; Prisma 6 reads it from the `datasource` block of
`schema.prisma`. If Prisma 7 says the `url` property is no longer supported in schema files, delete that
line from the `datasource` block: the migrations do not change.

Do not edit a `migration.sql` that was applied somewhere: Prisma records each file's SHA-256 checksum in
`_prisma_migrations` and reports a changed file. These are the checksums of this export:

| migration | SHA-256 of migration.sql |
|---|---|
{rows}
"""
