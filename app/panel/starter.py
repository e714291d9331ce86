"""What a new workspace starts with: a small schema already migrated everywhere, and a few rows, so that
the first change a learner makes is an ALTER TABLE on a table that holds data (as in real projects)."""

from __future__ import annotations

STARTER_SCHEMA = """\
// schema.prisma: edit the models, then press Create migration.
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

generator client {
  provider = "prisma-client-js"
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
}
"""

STARTER_MIGRATION = "init"

STARTER_ROWS = """\
INSERT INTO "User" ("email", "name") VALUES
  ('ada@example.com', 'Ada Lovelace'),
  ('grace@example.com', 'Grace Hopper'),
  ('edsger@example.com', 'Edsger Dijkstra');
"""
