"""Alembic configured in code: no alembic.ini to find, the scripts live beside the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

SCRIPT_LOCATION = Path(__file__).parent / "alembic"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if engine is not None:
        # configparser interpolates `%`, which URL-encoded passwords contain.
        url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_to_head(engine: Engine) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together on one state database: one migrates, the others wait here and
            # then find the schema at head (PostgreSQL's DDL is transactional, the lock ends with it).
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('migration_lab_state_schema'))"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
