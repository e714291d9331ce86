"""The terminal panel: Prisma's commands against the environment DATABASE_URL names."""

from __future__ import annotations

from panel_helpers import SCHEMA_WITH_BIO, Panel, states, text


def output(page) -> str:
    return page.select_one(".terminal-entry").get_text()


def urls(panel: Panel) -> dict[str, str]:
    page = panel.page()
    return {env: text(page.select_one(f"#env-{env} .env-url code")) for env in ("dev", "staging", "prod")}


def test_status_prints_the_pending_migration_of_the_exported_environment(panel: Panel) -> None:
    panel.create(SCHEMA_WITH_BIO, "add bio")
    staging = urls(panel)["staging"]
    exported = panel.terminal(f"export DATABASE_URL={staging}")
    kept = exported.select_one("#terminal-database-url")
    assert kept["value"] == staging and kept["hx-swap-oob"] == "outerHTML"
    status = panel.terminal("npx prisma migrate status", database_url=staging)
    shown = output(status)
    assert "2 migrations found in prisma/migrations" in shown
    assert "Following migration have not yet been applied:" in shown
    assert "_add_bio" in shown
    assert 'schema "public" at "127.0.0.1:' in shown  # the URL learners see, not the app's socket
    assert "terminal-entry failed" in str(status)  # exit code 1, as Prisma's


def test_migrate_dev_and_deploy_from_the_terminal(panel: Panel) -> None:
    page = panel.client.post(
        "/panel/playground/terminal",
        data={"command": "npx prisma migrate dev --name add_bio", "schema": SCHEMA_WITH_BIO},
        headers={"HX-Request": "true", "X-CSRF-Token": panel.token},
    )
    from panel_helpers import soup

    created = soup(page.text)
    assert "have been created and applied" in output(created)
    assert states(created, "_add_bio")["dev"] == "✓ applied"
    prod = urls(panel)["prod"]
    deployed = panel.terminal(f"DATABASE_URL={prod} npx prisma migrate deploy")
    assert "All migrations have been successfully applied." in output(deployed)
    assert states(deployed, "_add_bio")["prod"] == "✓ applied"
    assert len(deployed.select("#env-prod .backups li")) == 1  # a backup before the prod deploy


def test_reset_without_force_names_the_data_and_does_nothing(panel: Panel) -> None:
    asked = panel.terminal("npx prisma migrate reset")
    shown = output(asked)
    assert "Are you sure you want to reset your database? All data will be lost." in shown
    assert "3 rows in User" in shown and "--force" in shown
    assert [text(td) for td in asked.select("#env-dev .tables td")] == ["User", "3"]
    forced = panel.terminal("npx prisma migrate reset --force")
    assert "Database reset successful" in output(forced)
    assert [text(td) for td in forced.select("#env-dev .tables td")] == ["User", "0"]


def test_seed_fills_empty_tables(panel: Panel) -> None:
    panel.sql('DELETE FROM "User"')
    seeded = panel.terminal("npx prisma db seed")
    assert "User: inserted 3 rows" in output(seeded)
    assert "The seed command has been executed." in output(seeded)
    assert [text(td) for td in seeded.select("#env-dev .tables td")] == ["User", "3"]


def test_diff_from_empty_to_the_schema(panel: Panel) -> None:
    diff = panel.terminal(
        "npx prisma migrate diff --from-empty --to-schema-datamodel prisma/schema.prisma --script"
    )
    assert 'CREATE TABLE "User"' in output(diff)
    summary = panel.terminal(
        f"npx prisma migrate diff --from-migrations prisma/migrations --to-url {urls(panel)['dev']}"
    )
    assert "No difference detected." in output(summary)


def test_help_and_unknown_commands_answer_with_help(panel: Panel) -> None:
    assert "npx prisma migrate deploy" in output(panel.terminal("help"))
    unknown = panel.terminal("rm -rf /")
    assert "Unknown command" in output(unknown) and "npx prisma migrate status" in output(unknown)
    assert "Unknown command" in output(panel.terminal("npx prisma migrate explode"))


def test_a_url_of_no_environment_cannot_be_reached(panel: Panel) -> None:
    result = panel.terminal("DATABASE_URL=postgresql://x:y@10.0.0.1:5432/other npx prisma migrate status")
    assert "P1001" in output(result)
