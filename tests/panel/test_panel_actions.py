"""Every panel action through the ASGI client, against real databases: success and failure."""

from __future__ import annotations

import re

from panel_helpers import SCHEMA_WITH_BIO, SCHEMA_WITHOUT_NAME, Panel, soup, states, text

from app.panel.starter import STARTER_SCHEMA

SCHEMA_WITH_AGE = SCHEMA_WITH_BIO.replace("bio   String?", "age   Int")


def migration_name(page, part: str) -> str:
    for code in page.select("#panel-history tbody th code"):
        if part in code.get_text():
            return code.get_text()
    raise AssertionError(f"no migration {part!r}")


def url_of(page, env: str) -> str:
    return text(page.select_one(f"#env-{env} .env-url code"))


def test_the_playground_shows_every_control_with_its_label(panel: Panel) -> None:
    page = panel.page()
    buttons = {text(b) for b in page.find_all("button")}
    assert {"Create migration", "Deploy to staging", "Deploy to production", "Reset dev", "Run"} <= buttons
    labels = {text(label) for label in page.find_all("label")}
    assert {"Migration name", "Create only", "schema.prisma", "Environment"} <= labels
    assert states(page, "_init") == {"dev": "✓ applied", "staging": "✓ applied", "prod": "✓ applied"}
    for env in ("dev", "staging", "prod"):
        assert url_of(page, env).startswith("postgresql://")
        assert [text(td) for td in page.select(f"#env-{env} .tables td")] == ["User", "3"]
    assert "Database schema is up to date!" in text(page.select_one("#env-prod .env-status"))


def test_create_migration_shows_the_sql_and_applies_it_to_dev(panel: Panel) -> None:
    result = panel.create(SCHEMA_WITH_BIO, "add bio")
    sql = result.select_one("#panel-migration .sql-block").get_text()
    assert 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;' in re.sub(r"\s+", " ", sql)
    assert "Created and applied" in text(result.select_one("#panel-migration"))
    assert states(result, "_add_bio") == {"dev": "✓ applied", "staging": "… pending", "prod": "… pending"}
    assert result.select_one("#panel-history")["hx-swap-oob"] == "outerHTML"
    rows = panel.sql('SELECT bio FROM "User" LIMIT 1')
    assert text(rows.select_one(".result-table th")) == "bio"


def test_a_bad_schema_is_shown_at_its_line_and_nothing_is_created(panel: Panel) -> None:
    broken = SCHEMA_WITH_BIO.replace("bio   String?", "bio   Strnig?")
    result = panel.create(broken, "typo")
    problems = result.select_one("#schema-problems")
    assert problems is not None
    line = broken.splitlines().index("  bio   Strnig?") + 1
    assert f"line {line}, column" in text(problems)
    assert "Strnig" in text(problems)
    assert result.select_one("#schema-editor")["aria-invalid"] == "true"
    assert "nothing was created" in text(result.select_one("#panel-migration"))
    assert len(result.select("#panel-history tbody tr")) == 1
    assert "Strnig" in panel.page().select_one("#schema-editor").get_text()  # the text is kept


def test_no_change_is_already_in_sync(panel: Panel) -> None:
    result = panel.create(STARTER_SCHEMA, "nothing")
    assert "Already in sync" in text(result.select_one("#panel-migration"))
    assert len(result.select("#panel-history tbody tr")) == 1


def test_a_migration_name_is_required(panel: Panel) -> None:
    result = panel.create(SCHEMA_WITH_BIO, "  ")
    assert "Give the migration a name" in text(result.select_one("#panel-migration"))
    assert len(result.select("#panel-history tbody tr")) == 1


def test_dropping_a_column_with_data_asks_for_confirmation_first(panel: Panel) -> None:
    asked = panel.create(SCHEMA_WITHOUT_NAME, "drop name")
    warning = text(asked.select_one("#panel-migration .warnings"))
    assert (
        "You are about to drop the column `name` on the `User` table, which still contains 3 non-null values."
        in warning
    )
    confirm = asked.select_one('#panel-migration form input[name="accept_data_loss"]')
    assert confirm is not None
    assert asked.select_one('#panel-migration form input[name="name"]')["value"] == "drop name"
    assert len(asked.select("#panel-history tbody tr")) == 1  # nothing written yet
    assert panel.sql('SELECT count(name) FROM "User"').select_one(".result-table td").get_text() == "3"
    done = panel.create(SCHEMA_WITHOUT_NAME, "drop name", accept_data_loss="1")
    assert states(done, "_drop_name")["dev"] == "✓ applied"
    missing = panel.sql('SELECT name FROM "User"')
    assert 'column "name" does not exist' in text(missing.select_one(".sql-error"))


def test_create_only_lets_the_sql_be_edited_then_applied(panel: Panel) -> None:
    draft = panel.create(SCHEMA_WITH_BIO, "add bio", create_only="1")
    textarea = draft.select_one("#draft-sql")
    assert textarea is not None and "ADD COLUMN" in textarea.get_text()
    name = draft.select_one('#panel-migration input[name="name"]')["value"]
    assert states(draft, "_add_bio")["dev"] == "… pending"
    edited = textarea.get_text() + '\nUPDATE "User" SET "bio" = \'hello\';\n'
    applied = soup(panel.post("/migrations/apply", {"name": name, "sql": edited}).text)
    assert f"Applied {name} to dev" in text(applied.select_one("#panel-migration"))
    assert states(applied, "_add_bio")["dev"] == "✓ applied"
    assert text(panel.sql('SELECT DISTINCT bio FROM "User"').select_one(".result-table td")) == "hello"
    stored = panel.get(f"/migrations/{name}")
    assert "SET &#34;bio&#34; = &#39;hello&#39;" in stored.text or "hello" in soup(stored.text).get_text()


def test_a_failing_edited_migration_shows_the_database_error_and_can_be_fixed(panel: Panel) -> None:
    draft = panel.create(SCHEMA_WITH_BIO, "add bio", create_only="1")
    name = draft.select_one('#panel-migration input[name="name"]')["value"]
    good_sql = draft.select_one("#draft-sql").get_text()
    failed = soup(
        panel.post("/migrations/apply", {"name": name, "sql": 'ALTER TABLE "Nope" ADD COLUMN x TEXT;'}).text
    )
    box = text(failed.select_one("#panel-migration"))
    assert "failed in dev" in box and 'relation "Nope" does not exist' in box
    assert states(failed, "_add_bio")["dev"] == "✗ failed"
    fixed = soup(panel.post("/migrations/apply", {"name": name, "sql": good_sql}).text)
    assert states(fixed, "_add_bio")["dev"] == "✓ applied"


def test_deploys_take_a_prod_backup_that_restores_after_a_confirmation(panel: Panel) -> None:
    panel.create(SCHEMA_WITH_BIO, "add bio")
    staged = panel.deploy("staging")
    assert states(staged, "_add_bio") == {"dev": "✓ applied", "staging": "✓ applied", "prod": "… pending"}
    assert "successfully applied" in text(staged.select_one("#env-staging .notice"))
    assert "have not yet been applied" in text(staged.select_one("#env-prod .env-status"))
    released = panel.deploy("prod")
    assert states(released, "_add_bio")["prod"] == "✓ applied"
    backups = released.select("#env-prod .backups li")
    assert len(backups) == 1 and "Before deploying" in text(backups[0])
    panel.sql('DELETE FROM "User"', env="prod")
    backup_id = backups[0].select_one('input[name="backup_id"]')["value"]
    asked = soup(panel.post("/envs/prod/restore", {"backup_id": backup_id}).text)
    assert "Replace prod with this backup?" in text(asked.select_one("#env-prod .backups form.confirm"))
    assert [text(td) for td in asked.select("#env-prod .tables td")] == ["User", "0"]  # nothing done yet
    restored = soup(panel.post("/envs/prod/restore", {"backup_id": backup_id, "confirm": "1"}).text)
    assert "restored from the backup" in text(restored.select_one("#env-prod .notice"))
    assert [text(td) for td in restored.select("#env-prod .tables td")] == ["User", "3"]
    # The backup was taken before the deploy: prod is back to the init migration only.
    assert states(restored, "_add_bio")["prod"] == "… pending"
    again = panel.deploy("prod")
    assert "No pending" not in text(again.select_one("#env-prod .notice"))


def test_restoring_an_unknown_backup_says_so(panel: Panel) -> None:
    result = soup(panel.post("/envs/prod/restore", {"backup_id": "99999"}).text)
    assert "no such backup" in text(result.select_one("#env-prod .notice"))


def test_a_failed_deploy_blocks_later_deploys_until_resolved(panel: Panel) -> None:
    panel.sql('DELETE FROM "User"')  # dev is empty: the required column applies there, not in staging
    created = panel.create(SCHEMA_WITH_AGE, "add age")
    assert states(created, "_add_age")["dev"] == "✓ applied"
    failed = panel.deploy("staging")
    notice = text(failed.select_one("#env-staging .notice"))
    assert "P3018" in notice
    reason = text(failed.select_one("#env-staging .failure-message"))
    assert reason.startswith('ERROR: column "age" of relation "User" contains null values')
    assert states(failed, "_add_age")["staging"] == "✗ failed"
    assert "have failed" in text(failed.select_one("#env-staging .env-status"))
    refused = panel.deploy("staging")
    assert "P3009" in text(refused.select_one("#env-staging .notice"))
    name = migration_name(refused, "_add_age")
    staging_url = url_of(refused, "staging")
    resolved = panel.terminal(f"DATABASE_URL={staging_url} npx prisma migrate resolve --rolled-back {name}")
    assert f"Migration {name} marked as rolled back." in resolved.select_one(".terminal-entry").get_text()
    assert states(resolved, "_add_age")["staging"] == "↶ rolled back"


def test_reset_dev_asks_naming_the_data_then_resets(panel: Panel) -> None:
    asked = soup(panel.post("/envs/dev/reset").text)
    confirm = asked.select_one("#env-dev form.confirm")
    assert confirm is not None
    assert "All data will be lost" in text(confirm) and "3 rows of User" in text(confirm)
    assert [text(td) for td in asked.select("#env-dev .tables td")] == ["User", "3"]
    done = soup(panel.post("/envs/dev/reset", {"confirm": "1"}).text)
    assert "Database reset successful" in text(done.select_one("#env-dev .notice"))
    assert "seed" in text(done.select_one("#env-dev .notice"))  # as prisma migrate reset, the seed ran
    assert [text(td) for td in done.select("#env-dev .tables td")] == ["User", "3"]
    assert states(done, "_init")["dev"] == "✓ applied"


def test_the_sql_console_runs_as_the_workspace_role_with_bounded_rows(panel: Panel) -> None:
    who = panel.sql("SELECT current_user, current_setting('is_superuser')")
    user, superuser = [text(td) for td in who.select(".result-table td")]
    assert user.startswith("tpanel_") and superuser == "off"
    many = panel.sql("SELECT generate_series(1, 500) AS n")
    assert len(many.select(".result-table tbody tr")) == 200
    assert "only the first 200 rows are shown" in text(many.select_one(".note"))
    error = panel.sql("SELECT 1;\nSELEC 2")
    assert "syntax error at or near" in text(error.select_one(".sql-error"))
    assert "at line 2, column 1" in text(error.select_one(".sql-error"))
    refused = panel.sql("CREATE ROLE intruder")
    assert "permission denied" in text(refused.select_one(".sql-error"))


def test_sql_rows_changed_in_the_console_show_on_the_env_card(panel: Panel) -> None:
    result = panel.sql("INSERT INTO \"User\" (email) VALUES ('x@example.com')", env="staging")
    assert "INSERT 0 1" in text(result.select_one(".command-tag"))
    assert [text(td) for td in result.select("#env-staging .tables td")] == ["User", "4"]


def test_size_limits_are_refused_with_a_message(make_client) -> None:
    panel = Panel(make_client(max_schema_bytes=1024, max_sql_bytes=1024))
    big_schema = SCHEMA_WITH_BIO + "// " + "x" * 2000 + "\n"
    result = panel.create(big_schema, "big")
    assert "at most 1 KiB" in text(result.select_one("#panel-migration"))
    big_sql = panel.sql("SELECT 1 -- " + "x" * 2000)
    assert "at most 1 KiB" in text(big_sql.select_one(".sql-error"))


def test_learner_text_is_escaped_everywhere(panel: Panel) -> None:
    evil = "<script>alert(1)</script>"
    result = panel.create(SCHEMA_WITH_BIO + f"// {evil}\n", evil)
    assert "<script>alert(1)</script>" not in panel.get(htmx=False).text.replace('<script src="/static', "")
    console = panel.post("/sql", {"sql": f"SELECT '{evil}' AS x", "env": "dev"})
    assert evil not in console.text and "&lt;script&gt;" in console.text
    assert result is not None


def test_a_plain_form_post_answers_with_the_whole_page(panel: Panel) -> None:
    response = panel.post("/sql", {"sql": "SELECT 42 AS answer", "env": "dev"}, htmx=False)
    page = soup(response.text)
    assert page.select_one("main#main") is not None  # the site's layout: a full page
    assert text(page.select_one(".result-table td")) == "42"


def test_the_migration_sql_is_shown_on_demand(panel: Panel) -> None:
    page = panel.page()
    name = migration_name(page, "_init")
    fragment = panel.get(f"/migrations/{name}")
    assert "CREATE TABLE" in soup(fragment.text).get_text()
    missing = panel.get("/migrations/20000101000000_nope")
    assert missing.status_code == 404 and "no migration named" in missing.text


def test_the_number_of_workspaces_per_learner_is_limited(make_client) -> None:
    client = make_client(workspaces_per_learner=1)
    Panel(client)  # the playground
    response = client.get("/panel/lesson-01-migration-concepts")
    assert response.status_code == 429
    assert "most one learner may keep" in response.text


def test_unknown_contexts_are_not_found(client) -> None:
    assert client.get("/panel/../../etc").status_code == 404
    assert client.get("/panel/Robert'); DROP TABLE").status_code in (404, 422)


def test_the_lesson_page_carries_the_panel(client) -> None:
    page = soup(client.get("/lessons/01-migration-concepts").text)
    loader = page.select_one("#sandbox-panel [hx-get]")
    assert loader is not None and loader["hx-get"] == "/panel/lesson-01-migration-concepts"
    assert page.select_one('#sandbox-panel a[href="/panel/lesson-01-migration-concepts"]') is not None
