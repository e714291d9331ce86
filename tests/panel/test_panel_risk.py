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


def deploy_with_traffic(panel: Panel):
    response = panel.post("/envs/prod/deploy", {"traffic": "1", "long_transaction": "1"})
    assert response.status_code == 200, response.text
    return soup(response.text).select_one("#env-prod .traffic")


def longest_ms(traffic) -> float:
    summary = text(traffic.select_one("p"))
    return float(summary.split("longest: ", 1)[1].split(" ms", 1)[0])


def test_access_exclusive_behind_a_long_transaction_visibly_stalls_the_traffic(panel: Panel) -> None:
    panel.create(SCHEMA_WITH_BIO, "add bio")
    traffic = deploy_with_traffic(panel)
    assert text(traffic.select_one(".risk-badge")) == "Stalled"
    assert longest_ms(traffic) > 1000  # queued behind the ALTER, itself behind the 2 s report
    rows = traffic.select(".traffic-timeline tbody tr")
    assert rows and all("waited" in text(r) or "failed" in text(r) for r in rows)
    assert "done" in text(traffic.select(".result")[-1])


def test_lock_timeout_makes_the_same_deploy_fail_fast_instead(panel: Panel) -> None:
    page = panel.create(SCHEMA_WITH_BIO, "add bio", create_only="1")
    name = migration_named(page, "_add_bio")
    sql = "SET lock_timeout = '200ms';\nALTER TABLE \"User\" ADD COLUMN \"bio\" TEXT;\n"
    assert panel.post("/migrations/apply", {"name": name, "sql": sql}).status_code == 200
    traffic = deploy_with_traffic(panel)
    attempt = text(traffic.select(".result")[-1])
    assert "failed: Deploy failed (P3018)" in attempt
    assert int(attempt.split("ran ", 1)[1].split(" ms", 1)[0]) < 1000
    assert "canceling statement due to lock timeout" in text(traffic.find_parent(id="env-prod"))
    assert longest_ms(traffic) < 1000  # the queries queued at most as long as lock_timeout, not 2 s
