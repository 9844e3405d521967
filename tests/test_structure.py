"""The shape of the code: module boundaries, module size, what an install needs.

The layer contracts (engine and data import no Excel library, commands on top...) are
import-linter's (``.importlinter`` at the repository root, run by ``lint-imports`` in CI);
what import-linter cannot see is checked here.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "python" / "aicapex"
SCANNED = [PACKAGE, REPO / "tests"]
MAX_LINES = 1_000


def _python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    """``python/aicapex/excel/web.py`` -> ``aicapex.excel.web``; a test file -> its stem."""
    if PACKAGE in path.parents:
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return path.stem


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _owner(module: str) -> str:
    """The package a module path's first private part belongs to: ``aicapex.commands._common``
    -> ``aicapex.commands`` (its siblings may use it); ``""`` when no part is private."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[:i])
    return ""


def private_uses(path: Path) -> list[str]:
    """Where a file uses a private name of another module of ours: ``from aicapex.x import
    _y``, ``x._y`` on a module or object imported from ``aicapex``, ``getattr``/``setattr``
    (and ``monkeypatch.setattr``) of ``"_y"`` on one, or a private module imported from outside
    its package."""
    here = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    ours: set[str] = set()  # local names bound to our modules or objects
    found: list[str] = []

    shown = path.relative_to(REPO) if REPO in path.parents else path

    def where(node: ast.AST) -> str:
        return f"{shown}:{node.lineno}"

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = here.rsplit(".", node.level)[0]
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module.split(".")[0] != "aicapex":
                continue
            owner = _owner(module)
            if owner and not here.startswith(owner + "."):
                found.append(f"{where(node)}: imports the private module {module}")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{where(node)}: from {module} import {alias.name}")
                ours.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "aicapex":
                    continue
                owner = _owner(alias.name)
                if owner and not here.startswith(owner + "."):
                    found.append(f"{where(node)}: imports the private module {alias.name}")
                ours.add(alias.asname or alias.name.split(".")[0])

    def rooted_in_ours(node: ast.AST) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id in ours

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and rooted_in_ours(node.value):
            found.append(f"{where(node)}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            func = ast.unparse(node.func)
            target, attr = node.args[0], node.args[1]
            if (func.endswith(("getattr", "setattr", "delattr", "hasattr"))
                    and rooted_in_ours(target) and isinstance(attr, ast.Constant)
                    and isinstance(attr.value, str) and _private(attr.value)):
                found.append(f"{where(node)}: {func}({ast.unparse(target)}, {attr.value!r})")
    return found


def test_the_private_name_scan_finds_each_kind_of_use(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import aicapex.excel.refresh as R\n"
        "from aicapex.engine import financing\n"
        "from aicapex.excel.cached import _parse, read_cached_values\n"
        "from aicapex.commands._output import write_frame\n"
        "R._secret()\n"
        "financing.check._inner\n"
        "def t(monkeypatch):\n"
        "    monkeypatch.setattr(financing, '_helper', 1)\n"
        "    read_cached_values.__name__, R.public_name, getattr(R, 'public')\n"
        "import numpy as np\n"
        "np._private_of_theirs\n"
    )
    uses = sorted(u.split(": ", 1)[1] for u in private_uses(probe))
    assert uses == sorted([
        "from aicapex.excel.cached import _parse",
        "imports the private module aicapex.commands._output",
        "R._secret",
        "financing.check._inner",
        "monkeypatch.setattr(financing, '_helper')",
    ])


def test_no_private_name_of_ours_is_used_across_modules():
    found = [u for p in _python_files(*SCANNED) for u in private_uses(p)]
    assert found == [], "make the name public or move the code:\n" + "\n".join(found)


def test_no_module_is_over_a_thousand_lines():
    sizes = {p.relative_to(REPO).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in _python_files(*SCANNED)}
    too_long = {p: n for p, n in sizes.items() if n > MAX_LINES}
    assert too_long == {}, "split by concept"


def test_the_scan_covers_the_package_and_the_tests():
    files = {p.relative_to(REPO).as_posix() for p in _python_files(*SCANNED)}
    assert "python/aicapex/formula/parser.py" in files and "tests/conftest.py" in files


# --- what an install needs ----------------------------------------------------------------------

#: Modules imported only where a platform provides them; pip never installs them.
PLATFORM_MODULES = {"pyodide": "xlwings Lite's runtime"}
#: Import name -> distribution for modules not installed on this (Linux) machine.
NOT_INSTALLED_HERE = {"pythoncom": "pywin32", "win32com": "pywin32"}
#: The one module of ours that needs the `server` extra (python -m aicapex serve).
SERVER_MODULE = PACKAGE / "server.py"


def _dist_name(requirement: str) -> str:
    import re

    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")


def _imported_distributions(files: list[Path]) -> dict[str, set[str]]:
    """Distribution -> our files that import it (at any depth: function-level imports too)."""
    import importlib.metadata

    installed = importlib.metadata.packages_distributions()
    out: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if (top in sys.stdlib_module_names or top in ("aicapex", "__future__")
                        or top in PLATFORM_MODULES):
                    continue
                dists = NOT_INSTALLED_HERE.get(top) or installed.get(top, [top])[0]
                out.setdefault(_dist_name(dists), set()).add(path.name)
    return out


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((REPO / "python" / "pyproject.toml").read_text(encoding="utf-8"))


def test_runtime_dependencies_are_what_the_package_imports():
    project = _pyproject()["project"]
    core = {_dist_name(r) for r in project["dependencies"]}
    server = {_dist_name(r) for r in project["optional-dependencies"]["server"]}
    files = _python_files(PACKAGE)
    assert set(_imported_distributions([p for p in files if p != SERVER_MODULE])) == core
    assert set(_imported_distributions([SERVER_MODULE])) - core == server


def test_every_dependency_is_pinned_for_the_quick_start():
    def pins(name: str) -> set[str]:
        lines = (REPO / name).read_text(encoding="utf-8").splitlines()
        return {_dist_name(x) for x in lines if "==" in x and not x.startswith("#")}

    project = _pyproject()["project"]
    core = {_dist_name(r) for r in project["dependencies"] if "Windows" not in r}
    assert core <= pins("requirements.txt")
    assert {_dist_name(r) for r in project["optional-dependencies"]["server"]} <= (
        pins("requirements.txt") | pins("requirements-server.txt"))


def test_the_workbook_glue_is_the_module_the_package_ships():
    """``build`` writes the glue from inside the package (a plain install has no workbook/
    folder); the committed copy next to the committed template is the same text."""
    from aicapex.commands.build import GLUE_NAME, glue_module_source

    committed = (REPO / "workbook" / GLUE_NAME).read_text(encoding="utf-8")
    assert committed == glue_module_source()
    assert glue_module_source() == (PACKAGE / "excel" / "workbook_glue.py").read_text("utf-8")
