"""The drift fingerprint names objects instead of giving their OIDs, so that two databases holding the same
schema have the same fingerprint: an environment whose fingerprint equals that of the shadow replay of its
applied migrations is shown without drift, without introspecting it. The direction that must never fail:
equal fingerprints mean equal introspections (else drift would be hidden); the other direction is what
makes the shortcut worth having (the same changes in two databases give one fingerprint)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_drift_fingerprint import SCHEMA_CHANGES, SETUP, fingerprint

from app.panel import drift
from sandbox import EmbeddedCluster
from sandbox.migrate import STATE_SCHEMA, Migration, create_table, introspect, reset_schemas

SCHEMAS = ("public", "auth")
CHANGES = [
    *SCHEMA_CHANGES,
    """ALTER TABLE "User" ALTER COLUMN role SET DEFAULT 'USER'""",  # a default of an enum type
    'ALTER TABLE "Post" ADD COLUMN "readerId" SERIAL',  # a sequence of its own in the default
]


@pytest.fixture
def two_databases(pg_cluster: EmbeddedCluster) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    first = psycopg.connect(pg_cluster.admin_conninfo(names[0]), autocommit=True)
    second = psycopg.connect(pg_cluster.admin_conninfo(names[1]), autocommit=True)
    try:
        yield first, second
    finally:
        first.close()
        second.close()
        with psycopg.connect(pg_cluster.admin_conninfo(), autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(conn: psycopg.Connection, changes: list[str]) -> None:
    reset_schemas(conn, keep=())
    conn.execute(SETUP)
    for change in changes:
        try:
            conn.execute(change)
        except psycopg.Error:
            pass  # a change that no longer applies (its column dropped by an earlier one): skipped in both


@pytest.mark.parametrize("change", CHANGES)
def test_the_same_change_in_two_databases_gives_one_fingerprint(two_databases, change: str) -> None:
    first, second = two_databases
    second.execute("CREATE TABLE shift (id SERIAL); DROP TABLE shift")  # other OIDs in the second
    build(first, [change])
    build(second, [change])

    assert fingerprint(first) == fingerprint(second), change
    assert introspect(first, SCHEMAS) == introspect(second, SCHEMAS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first_changes=st.lists(st.sampled_from(CHANGES), max_size=4),
    second_changes=st.one_of(st.none(), st.lists(st.sampled_from(CHANGES), max_size=4)),
)
def test_equal_fingerprints_mean_equal_schemas(two_databases, first_changes, second_changes) -> None:
    first, second = two_databases
    second_changes = first_changes if second_changes is None else second_changes
    build(first, first_changes)
    build(second, second_changes)

    if second_changes == first_changes:
        assert fingerprint(first) == fingerprint(second)
    if fingerprint(first) == fingerprint(second):
        assert introspect(first, SCHEMAS) == introspect(second, SCHEMAS), (first_changes, second_changes)


def test_the_migrations_table_and_the_shadows_bookkeeping_do_not_count(two_databases) -> None:
    first, second = two_databases
    build(first, [])
    build(second, [])
    before = fingerprint(first)
    create_table(first)  # public._prisma_migrations, as every environment has
    first.execute(f"CREATE SCHEMA {STATE_SCHEMA}; CREATE TABLE {STATE_SCHEMA}.replayed (position INT)")

    assert fingerprint(first) == before == fingerprint(second)
    first.execute("CREATE TABLE auth._prisma_migrations (id TEXT)")  # only the default schema's is left out
    assert fingerprint(first) != before


MIGRATIONS = [
    Migration("20260101000000_init", 'CREATE TABLE "User" (id SERIAL PRIMARY KEY, email TEXT NOT NULL);\n'),
    Migration("20260102000000_email", 'CREATE UNIQUE INDEX "User_email_key" ON "User"(email);\n'),
]


def test_an_environment_like_its_replay_shows_no_drift_without_being_introspected(
    two_databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, shadow = two_databases
    reset_schemas(env, keep=())
    create_table(env)
    for migration in MIGRATIONS:
        env.execute(migration.sql)

    def shadow_session():
        return psycopg.connect(shadow.info.dsn, autocommit=True)

    monkeypatch.setattr(drift, "introspect", lambda *a, **k: pytest.fail("introspected the environment"))
    _, lines = drift.drift_lines(env, shadow_session, MIGRATIONS)
    assert lines == []
    assert drift.in_sync(env, MIGRATIONS, ("public",))

    monkeypatch.undo()  # a drifted environment is introspected and its drift named
    env.execute('ALTER TABLE "User" ADD COLUMN hotfix TEXT')
    _, lines = drift.drift_lines(env, shadow_session, MIGRATIONS)
    assert lines == ["+ column hotfix on User"]
    assert not drift.in_sync(env, MIGRATIONS, ("public",))


def test_schemas_taking_in_the_shadows_bookkeeping_are_always_compared(two_databases) -> None:
    env, shadow = two_databases
    reset_schemas(env, keep=())
    for migration in MIGRATIONS:
        env.execute(migration.sql)
    schemas = ("public", STATE_SCHEMA)

    def shadow_session():
        return psycopg.connect(shadow.info.dsn, autocommit=True)

    drift.drift_lines(env, shadow_session, MIGRATIONS, schemas)  # the replay, cached

    assert not drift.in_sync(env, MIGRATIONS, schemas)  # no fingerprint taken as the answer
    env.execute(f"CREATE SCHEMA {STATE_SCHEMA}; CREATE TABLE {STATE_SCHEMA}.extra (id INT)")
    _, lines = drift.drift_lines(env, shadow_session, MIGRATIONS, schemas)
    assert lines  # the learner's own table in that schema is drift all the same
