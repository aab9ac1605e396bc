"""What import-linter cannot see of the layers (docs/design/layers.md): an import inside a
function runs late, out of sight of a reader, and so can hide a cycle; an import by string
(``import_module``, ``__import__``, Django's ``apps.get_model``) is invisible to the linter
altogether. So, in the apps: no function-local import of another app, except where an app
plugs itself in (``apps.py``, ``handlers.py``); and nowhere in the package an import by
string that leaves the package or app it is written in."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import salesledger

PACKAGE = Path(salesledger.__file__).parent
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
PLUGS_IN = {"apps.py", "handlers.py"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def place(module: str) -> str:
    """Where a module lives: its app (``salesledger.apps.payments``), else its top-level
    package (``salesledger.formats``)."""
    parts = module.split(".")
    return ".".join(parts[:3] if parts[1:2] == ["apps"] and len(parts) > 2 else parts[:2])


def resolve(name: str, level: int, path: Path) -> str:
    if not level:
        return name
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - level + 1]
    return ".".join(base + ([name] if name else []))


def local_imports(tree: ast.AST) -> Iterator[ast.ImportFrom | ast.Import]:
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(func):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node


def string_values(node: ast.expr, tree: ast.Module) -> list[str] | None:
    """The strings an argument can be: a literal, or the values of a module-level dict of
    literals it is looked up in; None when that cannot be told."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        for stmt in tree.body:
            target = stmt.targets[0] if isinstance(stmt, ast.Assign) else (
                stmt.target if isinstance(stmt, ast.AnnAssign) else None)
            if (isinstance(target, ast.Name) and target.id == node.value.id
                    and isinstance(stmt.value, ast.Dict)):
                values = [v.value for v in stmt.value.values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str)]
                if len(values) == len(stmt.value.values):
                    return values
    return None


def string_imports(source: str, path: Path) -> Iterator[tuple[int, str | None]]:
    """(line, the module or app it loads, or None when that cannot be told) for each import
    by string in ``source``, the text of the module at ``path``."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("import_module", "__import__") and node.args:
            for value in string_values(node.args[0], tree) or [None]:
                if value is not None and value.startswith("."):
                    # relative to the package named by the second argument (``__name__`` of
                    # a package's ``__init__``, ``__package__``)
                    anchor = module_name(path).split(".")
                    if path.name != "__init__.py" and _names(node.args[1:]) == ["__package__"]:
                        anchor = anchor[:-1]
                    level = len(value) - len(value.lstrip("."))
                    value = ".".join(anchor[:len(anchor) - level + 1] + [value.lstrip(".")])
                yield node.lineno, value
        elif name == "get_model" and node.args:
            for value in string_values(node.args[0], tree) or [None]:
                label = value.split(".")[0] if value else None
                yield node.lineno, f"salesledger.apps.{label}" if label else None


def _names(nodes: list[ast.expr]) -> list[str]:
    return [n.id for n in nodes if isinstance(n, ast.Name)]


def test_no_function_local_import_crosses_an_app_boundary() -> None:
    found = []
    for path in SOURCES:
        here = place(module_name(path))
        if not here.startswith("salesledger.apps.") or path.name in PLUGS_IN:
            continue
        for node in local_imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([resolve(node.module or "", node.level, path)]
                     if isinstance(node, ast.ImportFrom) else [a.name for a in node.names])
            for name in names:
                if name.startswith("salesledger.apps.") and place(name) != here:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports {name}")
    assert found == []


def test_no_import_by_string_leaves_its_package() -> None:
    found = []
    for path in SOURCES:
        here = place(module_name(path))
        for line, target in string_imports(path.read_text(encoding="utf-8"), path):
            if target is None:
                found.append(f"{path.relative_to(PACKAGE)}:{line} loads what it cannot tell")
            elif target.startswith("salesledger.") and place(target) != here:
                found.append(f"{path.relative_to(PACKAGE)}:{line} loads {target}")
    assert found == []


def test_the_checks_see_what_they_look_for() -> None:
    # (the rules above must be able to fail: finding nothing in the tree proves something only
    # if they find the faults they are about in a module written to have them)
    where = PACKAGE / "apps" / "payments" / "refunds.py"
    source = (
        "from importlib import import_module\n"
        "WHERE = {'x': 'salesledger.apps.invoicing.services'}\n"
        "def f(name):\n"
        "    from salesledger.apps.invoicing import services\n"
        "    from ..quotes import models\n"
        "    from .models import Receipt\n"
        "    import_module(WHERE['x'])\n"
        "    import_module('.bulk', __package__)\n"
        "    import_module(name)\n"
        "    apps.get_model('quotes.Quote')\n"
    )
    assert [resolve(n.module or "", n.level, where) for n in local_imports(ast.parse(source))
            if isinstance(n, ast.ImportFrom)] == [
        "salesledger.apps.invoicing", "salesledger.apps.quotes",
        "salesledger.apps.payments.models"]
    assert [target for _, target in string_imports(source, where)] == [
        "salesledger.apps.invoicing.services", "salesledger.apps.payments.bulk", None,
        "salesledger.apps.quotes"]
