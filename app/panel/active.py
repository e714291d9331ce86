"""One action's hold on a workspace, shared by the service and the modules that act for it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.workspaces import SavedWorkspace
from sandbox import Workspace
from sandbox.migrate import MemoryHistory


@dataclass
class Active:
    """One action's hold on a workspace: its saved row, its databases and its history."""

    session: Session
    row: SavedWorkspace
    sandbox: Workspace
    history: MemoryHistory
    rebuilt: bool = False
    rebuild_note: str = ""
