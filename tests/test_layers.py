"""The package's layers import only downward: core → data, metrics, stats → translators → training → sweep →
analysis, migrate → report → cli. Read from the source with ast, so an upward import fails here before it
becomes a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from embtrans.paths import PACKAGE_DIR

# Bottom first. A unit is a subpackage or a top-level module of embtrans.
LAYERS = [
    {"errors", "paths", "files", "run_files", "config_checks"},  # core: may import each other
    {"data", "metrics", "stats"},
    {"translators"},
    {"training"},
    {"sweep"},
    {"analysis", "migrate"},
    {"report"},
    {"cli"},
]
LEVEL = {unit: level for level, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def imports_of(path: Path) -> list[str]:
    """Every embtrans module ``path`` imports, at any depth of the file (a function's import counts too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "embtrans":
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "embtrans"]
    return found


def upward_imports(package_dir: Path) -> list[str]:
    """'importer -> imported' for each import against the layer order, and each unit no layer names."""
    wrong = []
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        if "." not in module:  # the package's own __init__: the public API, imported on first use
            continue
        importer = unit_of(module)
        for imported in imports_of(path):
            target = unit_of(imported)
            if importer not in LEVEL or target not in LEVEL:
                wrong.append(f"{module} -> {imported} (a unit no layer names: add it to LAYERS)")
            elif target != importer and (LEVEL[target] > LEVEL[importer]
                                         or LEVEL[target] == LEVEL[importer] > 0):  # core units import each other
                wrong.append(f"{module} -> {imported}")
    return wrong


def test_every_import_goes_down_the_layers():
    assert upward_imports(PACKAGE_DIR) == []


def test_an_upward_import_planted_in_a_copy_is_caught(tmp_path):
    package = tmp_path / "embtrans"
    for source in PACKAGE_DIR.rglob("*.py"):
        copy = package / source.relative_to(PACKAGE_DIR)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(source.read_text())
    assert upward_imports(package) == []
    metrics = package / "metrics" / "retrieval.py"
    metrics.write_text(metrics.read_text() + "\n\ndef late():\n    from embtrans.report.build import build_report\n")
    (package / "translators" / "linear.py").write_text("from embtrans.analysis import pipeline\n")
    (package / "files.py").write_text("import embtrans.data.split\n")  # core reaching up
    (package / "analysis" / "tables.py").write_text("from embtrans.migrate import run\n")  # across one layer
    assert upward_imports(package) == ["embtrans.analysis.tables -> embtrans.migrate",
                                       "embtrans.files -> embtrans.data.split",
                                       "embtrans.metrics.retrieval -> embtrans.report.build",
                                       "embtrans.translators.linear -> embtrans.analysis"]
