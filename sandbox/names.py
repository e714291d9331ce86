"""Names of the roles and databases of workspaces; every name is validated before it reaches SQL.

Layout with prefix `mlab` and workspace `k3x9…`: role `mlab_k3x9…`, databases `mlab_k3x9…_dev` (and
`_staging`, `_prod`, `_shadow`), backups `mlab_k3x9…_bk_<name>`, templates `mlab__t_<name>`. Workspace ids
have no underscore, so `mlab_<id>_` names exactly one workspace's databases, and `mlab__` never clashes.
"""

from __future__ import annotations

import re
import secrets

# The learner's environments, in deployment order; every name of an environment comes from here.
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
ENVS: tuple[str, ...] = (*ENVIRONMENTS, "shadow")  # and the shadow database `migrate dev` replays on

WORKSPACE_ID = re.compile(r"^[a-z][a-z0-9]{3,31}$")
BACKUP_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,19}$")
TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class InvalidName(ValueError):
    """A workspace id, environment, backup or template name that is not allowed."""


def new_workspace_id() -> str:
    return "w" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(15))


def check_workspace_id(workspace_id: str) -> str:
    if not isinstance(workspace_id, str) or not WORKSPACE_ID.match(workspace_id):
        raise InvalidName(
            f"Invalid workspace id {workspace_id!r}: "
            "use 4-32 lowercase letters and digits, starting with a letter."
        )
    return workspace_id


def check_env(env: str) -> str:
    if env not in ENVS:
        raise InvalidName(f"Unknown environment {env!r}: expected one of {', '.join(ENVS)}.")
    return env


def check_backup_name(name: str) -> str:
    if not isinstance(name, str) or not BACKUP_NAME.match(name):
        raise InvalidName(
            f"Invalid backup name {name!r}: use 1-20 lowercase letters, digits and underscores."
        )
    return name


def check_template_name(name: str) -> str:
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        raise InvalidName(
            f"Invalid template name {name!r}: use 1-40 lowercase letters, digits and underscores."
        )
    return name


def role_name(prefix: str, workspace_id: str) -> str:
    return f"{prefix}_{check_workspace_id(workspace_id)}"


def db_name(prefix: str, workspace_id: str, env: str) -> str:
    return f"{role_name(prefix, workspace_id)}_{check_env(env)}"


def backup_db_name(prefix: str, workspace_id: str, backup: str) -> str:
    return f"{role_name(prefix, workspace_id)}_bk_{check_backup_name(backup)}"


def template_db_name(prefix: str, template: str) -> str:
    return f"{prefix}__t_{check_template_name(template)}"


def workspace_of(prefix: str, name: str) -> str | None:
    """The workspace id a role or database name belongs to, or None when it is not a workspace's."""
    if not name.startswith(prefix + "_"):
        return None
    candidate = name[len(prefix) + 1 :].split("_", 1)[0]
    return candidate if WORKSPACE_ID.match(candidate) else None
