"""One action's hold on a workspace, shared by the service and the modules that act for it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.workspaces import Workspace
from sandbox.migrate.history import MemoryHistory
from sandbox.workspace import Workspace as Sandbox


@dataclass
class Active:
    """One action's hold on a workspace: its saved row, its databases and its history."""

    session: Session
    row: Workspace
    sandbox: Sandbox
    history: MemoryHistory
    rebuilt: bool = False
    rebuild_note: str = ""
