"""The layers hold: every import of every module of the product, top-level or inside a function,
points down (docs/architecture.md, Layout), field's feature packages form no cycle, and no
module grows past the size a reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("api", "web", "schemas", "cli", "field", "evidence")
#: The one module outside web/ that imports it: the app factory, which registers web's blueprints.
WEB_IMPORTERS = ("api",)

#: Longest module a reader is asked to hold, in the folders it applies to (tests and migrations exempt).
MAX_LINES = 450
SIZED = ("field", "evidence", "api")
#: field's feature packages, lowest first: a package may import core and those before it.
ORDER = ("accounts", "custody", "directory", "attachments", "records", "visits", "filings", "reports", "cases",
         "complaints", "evaluations", "service", "approvals", "commitments", "figures")


def modules() -> dict[str, Path]:
    found = {}
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            # ``from field.core import geo`` imports the module field.core.geo.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def component(module: str) -> str | None:
    """The layer a product module belongs to: api, web, schemas, cli, evidence, field.core, field.<package>,
    field.all_models; None for anything outside the product (the standard library, packages)."""
    parts = module.split(".")
    if parts[0] not in PRODUCT:
        return None
    if parts[0] != "field":
        return parts[0]
    if len(parts) == 1:
        return "field"
    return f"field.{parts[1]}"


def allowed(source: str, target: str, module: str = "") -> bool:
    if target == source or target == "field":
        return True
    if target == "web":
        return module in WEB_IMPORTERS
    if source == "web":
        # web/ is HTTP beside api/: pages for people, over the same schemas and domain.
        return target in ("api", "schemas") or target.startswith("field.")
    if source in ("cli", "field.all_models"):
        return source == "cli" or target.startswith("field.")
    if source == "api":
        return target != "cli"
    if source == "schemas":
        return target.startswith("field.") and target != "field.all_models"
    if source == "evidence":
        return target == "field.core"
    if source == "field.core":
        return False
    if source.startswith("field."):
        package = source.split(".")[1]
        if target == "field.core":
            return True
        if target.startswith("field.") and target.split(".")[1] in ORDER and package in ORDER:
            return ORDER.index(target.split(".")[1]) < ORDER.index(package)
    return False


def violations() -> list[str]:
    found = []
    for name, path in modules().items():
        source = component(name)
        if source and source.startswith("field.") and source not in ("field.core", "field.all_models") \
                and source.split(".")[1] not in ORDER:
            found.append(f"{path.relative_to(ROOT)}: field package {source} is not in ORDER")
            continue
        for line, target_module in imports_of(name, path):
            target = component(target_module)
            if target is not None and not allowed(source, target, name):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target_module} ({source} may not import "
                             f"{target})")
    return found


def package_cycles() -> list[list[str]]:
    """Cycles in the graph of imports between field's feature packages (as they are, whatever ORDER says)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        source = component(name)
        if not (source and source.startswith("field.")) or source in ("field.core", "field.all_models"):
            continue
        for _, target_module in imports_of(name, path):
            target = component(target_module)
            if target and target.startswith("field.") and target not in (source, "field.core", "field.all_models"):
                graph.setdefault(source, set()).add(target)
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_every_import_points_down_the_layers():
    found = violations()
    assert not found, "imports against the layers (docs/architecture.md):\n" + "\n".join(found)


def test_the_feature_packages_of_field_import_each_other_without_a_cycle():
    cycles = package_cycles()
    assert not cycles, "import cycles between field's packages:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_no_module_of_field_evidence_or_api_is_longer_than_450_lines():
    long = {str(path.relative_to(ROOT)): n for name, path in modules().items()
            if name.split(".")[0] in SIZED and (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by concern): {long}"
