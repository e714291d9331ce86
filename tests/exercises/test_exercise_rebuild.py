"""A reaped or restarted exercise workspace comes back from the exercise's seeded start templates: each
environment's seed rows (production's thousands), the migrations recorded beyond the start state, and the
saved history, as they were."""

from __future__ import annotations

import psycopg
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.db.workspaces import SavedWorkspace
from app.identity import COOKIE_NAME
from sandbox.migrate import table
from tests.exercises.app_helpers import Learner, results

DEPLOY = "02-creating-migrations/03-deploy-in-order"
ADD_FIELD = "01-migration-concepts/01-add-a-field"
ENVS = ("dev", "staging", "prod")


def sandbox_id_of(client: TestClient, context: str) -> str:
    with client.app.state.services.state.session() as session:
        sandbox_id = session.query(SavedWorkspace).filter_by(context=context).one().sandbox_id
    assert sandbox_id
    return sandbox_id


def snapshot(sandboxes, sandbox_id: str) -> dict[str, dict]:
    """Per environment: the `_prisma_migrations` rows, the User table's columns, its rows' emails."""
    workspace = sandboxes.open_workspace(sandbox_id)
    assert workspace is not None, "the workspace's databases are missing"
    found = {}
    for env in ENVS:
        with psycopg.connect(workspace.conninfo(env), autocommit=True) as conn:
            columns = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'User' ORDER BY 1"
            ).fetchall()
            found[env] = {
                "history": [
                    (r.migration_name, r.checksum, r.started_at, r.finished_at, r.rolled_back_at,
                     r.applied_steps_count)
                    for r in table.list_records(conn)
                ],
                "columns": [c for (c,) in columns],
                "emails": [e for (e,) in conn.execute('SELECT email FROM "User" ORDER BY id')],
            }
    return found


def test_a_restart_rebuilds_each_environment_from_its_seeded_start_and_what_came_after(
    make_exercise_app, exercise_sandboxes
):
    with TestClient(make_exercise_app()) as client:
        learner = Learner(client, DEPLOY)
        learner.panel_post("/envs/staging/deploy")
        schema = learner.page.select_one("#schema-editor").get_text()
        edited = schema.replace("  bio       String?\n", "  bio       String?\n  nickname  String?\n")
        assert edited != schema
        learner.panel_post("/migrations", {"schema": edited, "name": "add nickname"})
        learner.panel_post("/sql", {"sql": """INSERT INTO "User" (email) VALUES ('mine@example.com')""",
                                    "env": "prod"})
        cookie = client.cookies.get(COOKIE_NAME)
        sandbox_id = sandbox_id_of(client, learner.context)
        before = snapshot(exercise_sandboxes, sandbox_id)
    assert [len(before[env]["emails"]) for env in ENVS] == [2, 100, 5001]
    assert "nickname" in before["dev"]["columns"] and "createdAt" in before["staging"]["columns"]
    exercise_sandboxes.drop_workspace(sandbox_id)  # a wiped cluster after a restart

    with TestClient(make_exercise_app()) as client:
        client.cookies.set(COOKIE_NAME, cookie)
        learner = Learner(client, DEPLOY)
        note = learner.page.select_one(".panel-note").get_text(" ", strip=True)
        assert note == (
            "Your databases were rebuilt from your saved workspace: schema, migrations, what is applied "
            "where and the example rows are back; rows you added yourself are not."
        )
        after = snapshot(exercise_sandboxes, sandbox_id)
        assert after["prod"]["emails"] == before["prod"]["emails"][:-1]  # 5000 seeded users, not mine
        for env in ("dev", "staging"):
            assert after[env] == before[env]
        assert after["prod"]["history"] == before["prod"]["history"]
        assert after["prod"]["columns"] == before["prod"]["columns"]

        learner.panel_post("/envs/prod/deploy")
        passed = results(learner.check())
        assert passed == {
            "deploys": True, "start-untouched": True, "envs-match-history": True,
            "schema-matches-history": True, "staging": True, "prod": True, "order": True,
            "prod-data": True, "nothing-new": False,
        }  # the extra migration, made to be replayed above


def test_check_my_work_after_the_reaper_grades_the_rebuilt_seeded_environments(
    client, exercise_sandboxes
):
    learner = Learner(client, ADD_FIELD)
    schema = learner.page.select_one("#schema-editor").get_text()
    edited = schema.replace("  name  String?\n", "  name  String?\n  bio   String?\n")
    learner.panel_post("/migrations", {"schema": edited, "name": "add bio"})
    for env in ("staging", "prod"):
        learner.panel_post(f"/envs/{env}/deploy")
    sandbox_id = sandbox_id_of(client, learner.context)
    before = snapshot(exercise_sandboxes, sandbox_id)
    assert sandbox_id in exercise_sandboxes.reap_idle(idle_seconds=0)

    grading = learner.check()  # straight after the reaper: no panel request rebuilt it first
    assert all(results(grading).values()), results(grading)
    after = snapshot(exercise_sandboxes, sandbox_id)
    assert after == before
    assert len(after["prod"]["emails"]) == 10000 and "bio" in after["prod"]["columns"]
    page = BeautifulSoup(client.get(learner.url).text, "html.parser")
    prod_counts = [td.get_text(strip=True) for td in page.select("#env-prod table.tables td")]
    assert prod_counts[prod_counts.index("User") + 1] == "10000"
