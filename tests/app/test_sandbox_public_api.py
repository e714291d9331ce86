"""`app/` uses the sandbox library through its public API only: names listed in `__all__` of `sandbox`,
`sandbox.migrate`, `sandbox.prisma` or `sandbox.risk`, never a module below them (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
PUBLIC = ("sandbox", "sandbox.migrate", "sandbox.prisma", "sandbox.risk")


def _sandbox_imports() -> list[tuple[str, int, str, list[str]]]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(APP.parent)}:{node.lineno}" if hasattr(node, "lineno") else ""
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sandbox":
                found.append((where, node.lineno, node.module or "", [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "sandbox":
                        found.append((where, node.lineno, alias.name, []))
    return found


def test_app_imports_only_the_public_names_of_the_public_packages() -> None:
    imports = _sandbox_imports()
    assert len(imports) > 40  # the walk found the app's imports (a broken walk would pass vacuously)
    wrong = []
    for where, _, module, names in imports:
        if module not in PUBLIC:
            wrong.append(f"{where}: {module} is not a public package")
            continue
        exported = set(importlib.import_module(module).__all__)
        wrong += [f"{where}: {module}.{name} is not in its __all__" for name in names if name not in exported]
    assert wrong == []


def test_every_public_name_resolves() -> None:
    for module in PUBLIC:
        package = importlib.import_module(module)
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{module}.{name}"


def test_no_public_name_is_also_a_module_name() -> None:
    """Importing `sandbox.migrate.x` sets the package's attribute `x` to that module, so a public function
    named `x` would turn into a module as soon as anything imported the module."""
    for module in PUBLIC:
        package = importlib.import_module(module)
        submodules = {info.name for info in pkgutil.iter_modules(package.__path__)}
        assert submodules & set(package.__all__) == set(), module
