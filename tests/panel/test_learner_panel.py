"""The panel where lessons matter most (issue 14), through HTTP: a failed Apply keeps the draft editable
beside PostgreSQL's error, deploy failures are readable with their ways out, each card shows its drift,
confirmations say exactly what will happen."""

from __future__ import annotations

from panel_helpers import SCHEMA_WITH_BIO, Panel, soup, states, text

SCHEMA_WITH_AGE = SCHEMA_WITH_BIO.replace("bio   String?", "age   Int")
SCHEMA_UNIQUE_NAME = SCHEMA_WITH_BIO.replace("  bio   String?\n", "").replace(
    "name  String?", "name  String? @unique"
)


def draft_of(panel: Panel, schema: str, name: str):
    page = panel.create(schema, name, create_only="1")
    return page.select_one('#panel-migration input[name="name"]')["value"], page


def test_a_failed_apply_keeps_the_draft_editable_beside_the_error(panel: Panel) -> None:
    name, _ = draft_of(panel, SCHEMA_WITH_BIO, "add bio")
    bad = 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\nSELEC 1;\n'
    failed = soup(panel.post("/migrations/apply", {"name": name, "sql": bad}).text)
    box = failed.select_one("#panel-migration")
    assert text(box.select_one(".failure-message")).startswith('ERROR: syntax error at or near "SELEC"')
    assert "SQLSTATE 42601" in text(box.select_one(".failure-message"))
    assert "SELEC 1;" in text(box.select_one(".failure-position mark"))  # the failing line, marked
    assert box.select_one("#draft-sql").get_text() == bad  # still there, as the learner left it
    assert [text(b) for b in box.select(".draft-actions button")] == ["Apply", "Discard"]
    # A reload shows the same: the failure lives in dev's _prisma_migrations, not in this response.
    again = panel.page().select_one("#panel-migration")
    assert text(again.select_one(".failure-message")).startswith("ERROR: syntax error")
    assert again.select_one("#draft-sql") is not None


def test_discard_removes_the_failed_draft_so_create_migration_works_again(panel: Panel) -> None:
    name, _ = draft_of(panel, SCHEMA_WITH_BIO, "add bio")
    panel.post("/migrations/apply", {"name": name, "sql": "SELEC 1;"})
    discarded = soup(panel.post("/migrations/discard", {"name": name}).text)
    assert f"Discarded {name}" in text(discarded.select_one("#panel-migration"))
    assert all("_add_bio" not in text(th) for th in discarded.select("#panel-history tbody th"))
    created = panel.create(SCHEMA_WITH_BIO, "add bio")  # no P3006 from the failed file any more
    assert states(created, "_add_bio")["dev"] == "✓ applied"


def test_a_failed_deploy_reads_in_full_with_its_ways_out(panel: Panel) -> None:
    panel.sql('DELETE FROM "User"')
    panel.create(SCHEMA_WITH_AGE, "add age")
    failed = panel.deploy("prod")
    card = failed.select_one("#env-prod")
    assert "failed migration" in text(card.select_one("h4"))
    assert text(card.select_one(".failure-head")).startswith("P3018 A migration failed to apply.")
    assert 'column "age" of relation "User" contains null values' in text(card.select_one(".failure-message"))
    assert 'table "User", column "age"' in text(card)
    assert card.select_one(".raw-log")["class"] == ["raw-log"] and card.select_one(".raw-log[open]") is None
    ways = [text(b) for b in card.select(".ways-out button, .ways-out a.button")]
    assert ways == ["Mark as rolled back", "Mark as applied", "Restore backup"]
    name = card.select_one('.ways-out input[name="name"]')["value"]
    resolved = soup(panel.post("/envs/prod/resolve", {"name": name, "mark": "rolled_back"}).text)
    assert f"Migration {name} marked as rolled back." in text(resolved.select_one("#env-prod .notice"))
    assert resolved.select_one("#env-prod .failure") is None
    assert states(resolved, "_add_age")["prod"] == "↶ rolled back"


def test_a_new_workspace_is_in_sync_at_its_first_view_without_a_replay(client, monkeypatch) -> None:
    """The start builds each environment from empty with the starter migration, so the first view knows
    there is no drift without replaying the history on the shadow and introspecting three databases (a
    class arriving at once did that 200 times); a change after that is found as ever (next test)."""
    from app.panel import drift

    computed = []
    real = drift._compute
    monkeypatch.setattr(drift, "_compute", lambda *args: computed.append(args) or real(*args))
    first = Panel(client).first_page
    assert computed == []
    for env in ("dev", "staging", "prod"):
        assert "in sync" in text(first.select_one(f"#env-{env} h4")), env
    page = Panel(client).sql('ALTER TABLE "User" ADD COLUMN hotfix TEXT', env="dev")
    assert [text(li) for li in page.select("#env-dev .drift li")] == ["+ column hotfix on User"]
    assert len(computed) == 1  # dev's, whose fingerprint changed


def test_a_hotfix_in_prod_shows_as_drift_on_prods_card_only(panel: Panel) -> None:
    page = panel.sql('ALTER TABLE "User" ADD COLUMN hotfix TEXT', env="prod")
    assert [text(li) for li in page.select("#env-prod .drift li")] == ["+ column hotfix on User"]
    assert "drift" in text(page.select_one("#env-prod h4"))
    assert page.select_one("#env-dev .drift") is None and page.select_one("#env-staging .drift") is None
    assert "in sync" in text(page.select_one("#env-staging h4"))
    undone = panel.sql('ALTER TABLE "User" DROP COLUMN hotfix', env="prod")  # the answer follows the schema
    assert undone.select_one("#env-prod .drift") is None
    assert "in sync" in text(undone.select_one("#env-prod h4"))


def test_confirmations_say_what_will_happen(panel: Panel) -> None:
    create_only = panel.create(SCHEMA_WITH_BIO.replace("  name  String?\n", ""), "drop name", create_only="1")
    box = create_only.select_one("#panel-migration")
    assert "This migration loses data" in text(box.select_one("h3"))
    assert "nothing is applied" in text(box.select_one(".confirm-what"))
    assert text(box.select_one("button[type=submit]")) == "Write migration.sql (not applied)"
    unique = panel.create(SCHEMA_UNIQUE_NAME, "unique name").select_one("#panel-migration")
    assert "This migration can fail" in text(unique.select_one("h3"))
    assert "loses no data" in text(unique.select_one(".confirm-what"))
    assert text(unique.select_one("button[type=submit]")) == "Create and apply to dev"
    dropping = panel.create(SCHEMA_WITH_BIO.replace("  name  String?\n", ""), "drop name")
    button = dropping.select_one("#panel-migration button[type=submit]")
    assert text(button) == "Create, apply to dev and lose this data"

