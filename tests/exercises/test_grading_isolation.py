"""The exploit chains of issue 9, played through HTTP against a real cluster: a learner's migrations and
SQL console try to break, hijack or escape grading; each time the learner gains nothing and other learners
are graded as usual.

A learner recognises grading by its role name (`mlg_r_…`, visible to anyone in pg_stat_activity), so each
malicious migration is a no-op in the learner's own databases and acts only while being graded.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy import select

from app.db.exercises import ContentProblemLog
from tests.exercises.app_helpers import Learner, results

EXERCISE = "01-migration-concepts/01-add-a-field"
IN_GRADING = "current_user LIKE 'mlg\\_r\\_%'"


def create_and_apply(learner: Learner, sql: str, schema: str) -> str:
    """Create only (an empty migration), then edit it to `sql` and apply it to dev, as the panel lets one."""
    draft = BeautifulSoup(
        learner.panel_post("/migrations", {"schema": schema, "name": "tweak", "create_only": "1"}).text,
        "html.parser",
    )
    name = draft.select_one('#panel-migration input[name="name"]')["value"]
    learner.panel_post("/migrations/apply", {"name": name, "sql": sql})
    return name


def only_in_grading(statement: str) -> str:
    return f"DO $$ BEGIN IF {IN_GRADING} THEN {statement} END IF; END $$;"


def grading_result(learner: Learner) -> tuple[BeautifulSoup, dict[str, bool]]:
    page = learner.check()
    return page, results(page)


def content_problems(client: TestClient) -> list[str]:
    with client.app.state.services.state.session() as session:
        return [row.message for row in session.scalars(select(ContentProblemLog))]


@pytest.fixture
def schema(exercises) -> str:
    return exercises[EXERCISE].start.schema


def assert_graded_normally(learner: Learner, schema: str) -> None:
    """Another learner, with a migration of their own, gets an ordinary answer: checks listed, no problem."""
    create_and_apply(learner, "SELECT 1;", schema)
    page, found = grading_result(learner)
    assert found and found["deploys"] is True, page.text
    assert "problem" not in page.select_one("#grading").get_text().lower()


def test_read_only_default_on_the_grading_role_breaks_nobody(client, schema):
    attacker = Learner(client, EXERCISE)
    create_and_apply(attacker, only_in_grading(
        "EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', current_user);"
    ), schema)
    grading_result(attacker)
    grading_result(attacker)
    other = Learner(TestClient(client.app), EXERCISE)
    assert_graded_normally(other, schema)
    assert content_problems(client) == []


def test_terminating_other_gradings_is_refused_and_is_the_attackers_own_failure(client, schema):
    victim = Learner(TestClient(client.app), EXERCISE)
    create_and_apply(victim, only_in_grading("PERFORM pg_sleep(1.5);"), schema)
    attacker = Learner(client, EXERCISE)
    create_and_apply(attacker, only_in_grading(
        "PERFORM pg_sleep(0.5); PERFORM pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE usename LIKE 'mlg\\_r\\_%' AND usename <> current_user;"
    ), schema)
    victim_result: dict = {}
    thread = threading.Thread(target=lambda: victim_result.update(grading_result(victim)[1]))
    thread.start()
    time.sleep(0.3)
    page, found = grading_result(attacker)
    thread.join()
    assert found["deploys"] is False
    assert "42501" in page.select_one("li[data-check=deploys]").get_text()  # permission denied
    assert victim_result["deploys"] is True
    assert content_problems(client) == []


def test_ending_the_own_runs_check_sessions_is_the_learners_failure(client, schema):
    attacker = Learner(client, EXERCISE)
    create_and_apply(attacker, only_in_grading(
        "PERFORM pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE usename = current_user AND pid <> pg_backend_pid();"
    ), schema)
    page, found = grading_result(attacker)
    assert found == {"deploys": False}
    assert "ended the grading sessions" in page.select_one("li[data-check=deploys]").get_text()
    assert page.select_one("[data-attempts]").text == "1"  # counted as an attempt
    assert content_problems(client) == []


def test_dropping_a_template_from_a_faked_history_row_fails_and_it_stays(client, schema, pg_cluster):
    attacker = Learner(client, EXERCISE)
    with psycopg.connect(pg_cluster.admin_conninfo()) as admin:
        templates = [r[0] for r in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'mlg\\_t%' ORDER BY datname"
        )]
    assert templates
    # Applying fails in dev (not the owner); a row faked from the SQL console claims it applied.
    name = create_and_apply(attacker, f'DROP DATABASE "{templates[0]}";', schema)
    attacker.panel_post("/sql", {"env": "dev", "sql": (
        'UPDATE "_prisma_migrations" SET finished_at = now(), logs = NULL, rolled_back_at = NULL'
        f" WHERE migration_name = '{name}'"
    )})
    page, found = grading_result(attacker)
    assert found["deploys"] is False
    assert "must be owner" in page.select_one("li[data-check=deploys]").get_text()
    with psycopg.connect(pg_cluster.admin_conninfo()) as admin:
        still = [r[0] for r in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'mlg\\_t%' ORDER BY datname"
        )]
    assert templates[0] in still
    assert_graded_normally(Learner(TestClient(client.app), EXERCISE), schema)


def test_a_changed_password_gives_no_login_as_the_grading_role(client, schema, pg_cluster):
    attacker = Learner(client, EXERCISE)
    create_and_apply(attacker, only_in_grading(
        "EXECUTE format('ALTER ROLE %I PASSWORD %L', current_user, 'pwned'); PERFORM pg_sleep(2);"
    ), schema)
    seen: list[str] = []
    logins: list[str] = []

    def try_logins() -> None:
        params = conninfo_to_dict(pg_cluster.admin_conninfo())
        deadline = time.monotonic() + 6
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as admin:
            while time.monotonic() < deadline and not seen:
                seen.extend(r[0] for r in admin.execute(
                    "SELECT DISTINCT usename FROM pg_stat_activity WHERE usename LIKE 'mlg\\_r\\_%'"
                    " AND state = 'active' AND query LIKE '%pwned%'"
                ))
                time.sleep(0.05)
        for role in seen:
            params.update(user=role, password="pwned", host="127.0.0.1", dbname="postgres")
            try:
                psycopg.connect(make_conninfo("", **params)).close()
                logins.append(role)
            except psycopg.OperationalError as error:
                assert "not permitted to log in" in str(error) or "authentication failed" in str(error)

    thread = threading.Thread(target=try_logins)
    thread.start()
    grading_result(attacker)
    thread.join()
    assert seen, "the grading role was never seen running the migration"
    assert logins == []
    client.app.state.services.exercises.dbs.settle()  # runs are dropped in the background
    with psycopg.connect(pg_cluster.admin_conninfo()) as admin:  # and the role is gone afterwards
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (seen[0],)).fetchone() is None


def test_start_templates_take_no_connection_even_with_the_learners_credentials(client, pg_cluster):
    learner = Learner(client, EXERCISE)
    service = client.app.state.services.exercises
    exercise = service.catalog.get(*EXERCISE.split("/"))
    templates = service.dbs.ensure_templates(exercise, with_grading_data=False)
    with client.app.state.services.state.session() as session:
        from app.panel import store

        row = store.find_workspace(session, _learner_id(client), learner.context)
        sandbox = service.panel.sandboxes.open_workspace(row.sandbox_id)
    params = conninfo_to_dict(sandbox.conninfo("dev"))
    for template in templates.values():
        params["dbname"] = template
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(make_conninfo("", **params)).close()
        assert "not currently accepting connections" in str(refused.value) or "permission denied" in str(
            refused.value
        )


PLANT = """
CREATE TABLE public.pwned (who text);
GRANT ALL ON public.pwned TO PUBLIC;
CREATE FUNCTION public.starts_with(name, text) RETURNS boolean LANGUAGE plpgsql AS
  $f$ BEGIN INSERT INTO public.pwned VALUES (current_user); RETURN false; END $f$;
CREATE FUNCTION public.format(text, name, text) RETURNS text LANGUAGE plpgsql AS
  $f$ BEGIN INSERT INTO public.pwned VALUES (current_user); RETURN 'SELECT 1'; END $f$;
CREATE FUNCTION public.to_regrole(text) RETURNS regrole LANGUAGE plpgsql AS
  $f$ BEGIN INSERT INTO public.pwned VALUES (current_user); RETURN NULL; END $f$;
CREATE FUNCTION public.format(text, name, regrole) RETURNS text LANGUAGE plpgsql AS
  $f$ BEGIN INSERT INTO public.pwned VALUES (current_user); RETURN 'SELECT 1'; END $f$;
CREATE FUNCTION public.neq2(oid, regrole) RETURNS boolean LANGUAGE plpgsql AS
  $f$ BEGIN INSERT INTO public.pwned VALUES (current_user); RETURN true; END $f$;
CREATE OPERATOR public.<> (LEFTARG = oid, RIGHTARG = regrole, FUNCTION = public.neq2);
CREATE FUNCTION public.neq(oid, oid) RETURNS boolean LANGUAGE plpgsql AS
  $f$ BEGIN INSERT INTO public.pwned VALUES (current_user); RETURN true; END $f$;
CREATE OPERATOR public.<> (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.neq);
CREATE FUNCTION public.eq(name, name) RETURNS boolean LANGUAGE plpgsql AS
  $f$ BEGIN INSERT INTO public.pwned VALUES (current_user); RETURN true; END $f$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = name, FUNCTION = public.eq);
"""


def test_objects_planted_in_a_template_never_run_when_it_is_copied(client, pg_cluster):
    """Defence in depth: even with an object planted in a start template (no learner can reach one any
    more), the admin statements that copy it into a workspace or a grading run never resolve it."""
    service = client.app.state.services.exercises
    exercise = service.catalog.get(*EXERCISE.split("/"))
    planted = [
        *service.dbs.ensure_templates(exercise, with_grading_data=False).values(),
        *service.dbs.ensure_templates(exercise).values(),
    ]
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as admin:
        for name in planted:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            with psycopg.connect(pg_cluster.admin_conninfo(name), autocommit=True) as conn:
                conn.execute(PLANT)
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        learner = Learner(client, EXERCISE)  # the workspace is copied from the planted start templates
        # Something done (the planted objects read as drift to migrate dev): a failed history row.
        learner.panel_post("/sql", {"env": "dev", "sql": (
            "INSERT INTO _prisma_migrations (id, checksum, migration_name)"
            " VALUES ('x', 'x', '20990101000000_x')"
        )})
        found = learner.check()  # grading clones the planted grading templates
        assert results(found)
        with client.app.state.services.state.session() as session:
            from app.panel import store

            row = store.find_workspace(session, _learner_id(client), learner.context)
            sandbox = service.panel.sandboxes.open_workspace(row.sandbox_id)
        for env in ("dev", "staging", "prod"):
            with psycopg.connect(sandbox.admin_conninfo(env)) as conn:
                assert conn.execute("SELECT count(*) FROM public.pwned").fetchone() == (0,)
        with psycopg.connect(pg_cluster.admin_conninfo()) as admin:
            superusers = admin.execute(
                "SELECT rolname FROM pg_roles WHERE rolsuper AND rolname <> current_user"
            ).fetchall()
        assert superusers == []
    finally:
        service.dbs.settle()  # no spare run copied from a planted template outlives the test
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as admin:
            for name in planted:
                admin.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        service.dbs._templates.clear()


def _learner_id(client: TestClient) -> str:
    from app.identity import COOKIE_NAME, Identity

    identity = Identity(client.app.state.site.settings.secret_key)
    learner = identity.learner_from_cookie(client.cookies.get(COOKIE_NAME))
    assert learner is not None
    return learner


def test_grading_sessions_never_prepare_statements_a_learner_function_could_replace(fresh_db: str) -> None:
    """psycopg prepares a statement on the server after five runs; a learner's function that a check
    calls could then DEALLOCATE it and PREPARE its own under the same name, answering the next check."""
    from app.exercises.grading import _open_learner

    with _open_learner({"dev": fresh_db}, "dev") as conn:
        for _ in range(10):
            conn.execute("SELECT count(*) FROM pg_class WHERE relname = %s", ("x",)).fetchone()
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
