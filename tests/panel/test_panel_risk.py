"""The Risk view through the ASGI client on real databases: locks in plain words, squawk's safer way,
the application versions that break; prod itself never changed by it."""

from __future__ import annotations

from panel_helpers import SCHEMA_WITH_BIO, SCHEMA_WITHOUT_NAME, Panel, soup, text

SCHEMA_WITH_INDEX = SCHEMA_WITH_BIO.replace("  bio   String?\n", "  bio   String?\n\n  @@index([name])\n")


def risk_of(panel: Panel, name: str, htmx: bool = True):
    response = panel.get(f"/migrations/{name}/risk", htmx=htmx)
    assert response.status_code == 200, response.text
    return soup(response.text)


def migration_named(page, part: str) -> str:
    return next(text(c) for c in page.select("#panel-history tbody th code") if part in text(c))


def test_create_migration_loads_the_risk_view_and_it_says_what_the_lock_blocks(panel: Panel) -> None:
    panel.sql("INSERT INTO \"User\" (\"email\") SELECT 'u' || i FROM generate_series(1, 500) i", "prod")
    page = panel.create(SCHEMA_WITH_INDEX, "index name")
    name = migration_named(page, "_index_name")
    slot = page.select_one("#panel-migration #panel-risk")
    assert slot["hx-get"] == f"/panel/playground/migrations/{name}/risk" and slot["hx-trigger"] == "load"
    risk = risk_of(panel, name)
    summaries = [text(s) for s in risk.select(".risk-summary")]
    assert summaries[0].startswith("High risk Blocks reads and writes on User for")  # ADD COLUMN
    assert summaries[1].startswith("Caution Blocks writes on User for") and "(reads go on)" in summaries[1]
    index = risk.select(".risk-statement")[1]
    assert "ShareLock on User" in text(index.select_one(".risk-facts"))
    lint = text(index.select_one(".risk-lint"))
    assert "require-concurrent-index-creation" in lint and "Safer: Use `concurrently`" in lint
    assert "on prod" in text(risk.select_one("h3"))
    apps = [text(li) for li in risk.select(".risk-app")]
    assert apps == ["OK app: 3/3 queries OK"]
    count = "SELECT count(*) FROM pg_indexes WHERE indexname = 'User_name_idx'"
    assert text(panel.sql(count, "dev").select_one(".result-table td")) == "1"
    assert text(panel.sql(count, "prod").select_one(".result-table td")) == "0"  # prod itself is unchanged


def test_dropping_a_column_the_app_reads_shows_the_version_that_breaks(panel: Panel) -> None:
    page = panel.create(SCHEMA_WITHOUT_NAME, "drop name", accept_data_loss="1")
    risk = risk_of(panel, migration_named(page, "_drop_name"))
    [app] = [text(li) for li in risk.select(".risk-app")]
    assert app.startswith('Breaks app: 0/3 queries OK — load a user: column "name" does not exist')
    assert "ban-drop-column" in text(risk)


def test_the_history_links_every_migration_not_in_prod_to_its_risk_and_works_without_js(panel: Panel) -> None:
    page = panel.create(SCHEMA_WITH_BIO, "add bio")
    name = migration_named(page, "_add_bio")
    links = [a["href"] for a in panel.page().select("#panel-history a.risk-link")]
    assert links == [f"/panel/playground/migrations/{name}/risk"]  # _init is applied in prod: no link
    full = risk_of(panel, name, htmx=False)
    assert full.select_one("html") is not None and "Blocks reads and writes on User" in text(full)
    panel.deploy("staging")
    panel.deploy("prod")
    after = risk_of(panel, name)
    assert "Already applied to staging and prod" in text(after)


def test_an_unknown_migration_is_a_404_not_a_crash(panel: Panel) -> None:
    assert panel.get("/migrations/20990101000000_nope/risk").status_code == 404
