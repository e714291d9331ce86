"""A learner's schema with several database schemas (`schemas = [...]`, `@@schema`): the workspace role
owns its databases, so its migrations create the schema on dev, staging and prod and its SQL reaches it."""

from __future__ import annotations

import re

from panel_helpers import Panel, states, text

MULTI_SCHEMA = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
  schemas  = ["public", "auth"]
}

model User {
  id       Int       @id @default(autoincrement())
  email    String    @unique
  name     String?
  sessions Session[]
  @@schema("public")
}

model Session {
  id     Int  @id @default(autoincrement())
  userId Int
  user   User @relation(fields: [userId], references: [id])
  @@schema("auth")
}
"""


def test_a_second_schema_is_created_and_deployed_by_the_workspace_role(panel: Panel) -> None:
    created = panel.create(MULTI_SCHEMA, "auth sessions")
    sql = re.sub(r"\s+", " ", created.select_one("#panel-migration .sql-block").get_text())
    assert 'CREATE SCHEMA IF NOT EXISTS "auth";' in sql
    assert 'CREATE TABLE "auth"."Session" (' in sql
    assert 'REFERENCES "User"("id")' in sql
    assert "Created and applied" in text(created.select_one("#panel-migration"))
    panel.deploy("staging")
    released = panel.deploy("prod")
    assert states(released, "_auth_sessions") == {
        "dev": "✓ applied",
        "staging": "✓ applied",
        "prod": "✓ applied",
    }
    for env in ("dev", "prod"):
        panel.sql('INSERT INTO auth."Session" ("userId") SELECT min("id") FROM "User"', env=env)
        rows = panel.sql('SELECT count(*) AS n FROM auth."Session"', env=env)
        assert [text(td) for td in rows.select(".result-table td")] == ["1"]
    again = panel.create(MULTI_SCHEMA, "nothing")
    assert "already in sync" in text(again.select_one("#panel-migration")).lower()


def test_drift_in_another_schema_shows_on_its_card(panel: Panel) -> None:
    created = panel.create(MULTI_SCHEMA, "auth sessions")
    assert "Created and applied" in text(created.select_one("#panel-migration"))
    assert created.select_one("#env-dev .drift") is None
    page = panel.sql('ALTER TABLE auth."Session" ADD COLUMN hotfix TEXT', env="dev")
    assert [text(li) for li in page.select("#env-dev .drift li")] == ["+ column hotfix on Session"]
    undone = panel.sql('ALTER TABLE auth."Session" DROP COLUMN hotfix', env="dev")
    assert undone.select_one("#env-dev .drift") is None
