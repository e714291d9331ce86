"""The app's own state (learners, workspaces, their migrations, backups) in SQLAlchemy.

One declarative `Base`; models are split by feature into modules listed in `MODEL_MODULES`, so a feature
adds its tables in its own module and its own Alembic revision without touching the others.
"""

from app.db.base import Base
from app.db.engine import StateDB, default_database_url, open_state

# Imported for their side effect of registering tables on Base.metadata (Alembic autogenerate uses it).
MODEL_MODULES: list[str] = [
    "app.db.workspaces",
    "app.db.exercises",
    "app.db.ratelimits",
]

__all__ = ["Base", "MODEL_MODULES", "StateDB", "default_database_url", "open_state"]
