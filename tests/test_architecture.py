"""Data flows one way: a module only imports modules of an earlier stage."""

from __future__ import annotations

import ast
from pathlib import Path

import disclosure_rules

PACKAGE = Path(disclosure_rules.__file__).resolve().parent

# Stages, from the bottom up: YAML -> loader -> AST -> compiled predicates -> evaluator -> decision -> renderers.
STAGE = {
    "diagnostics": 0,
    "valuetypes": 0,
    "template": 0,
    "version": 0,
    "yamlsource": 1,
    "fmt": 1,
    "ast": 1,
    "vocabulary": 1,
    "jsontext": 1,
    "grammar": 2,
    "model": 2,
    "unparse": 2,
    "typecheck": 3,
    "yamlreader": 2,
    "vocabloader": 3,
    "request": 3,
    "decision": 3,
    "literate": 3.5,
    "loader": 4,
    "english": 4,
    "compiler": 5,
    "cases": 5,
    "provenance": 5.5,
    "evaluator": 6,
    "explain": 7,
    "records": 7.5,
    "checker": 8,
    "render": 9,
    "testing": 9,
    "ledger": 9.3,
    "docsgen": 9.5,
    "cli": 10,
    "__main__": 11,
    "__init__": 12,
}


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    depth_of_package = len(path.relative_to(PACKAGE).parts) - 1
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.level - 1 == depth_of_package and node.module:
                found.add(node.module.split(".")[0])
            elif node.level - 1 == depth_of_package and not node.module:
                modules = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if p.is_dir()}
                found.update(alias.name if alias.name in modules else "__init__" for alias in node.names)
            elif node.level - 1 < depth_of_package and node.module is None:
                continue
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("disclosure_rules"):
            parts = node.module.split(".")
            found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def test_every_module_has_a_stage() -> None:
    names = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    assert names <= set(STAGE), f"give these modules a stage: {sorted(names - set(STAGE))}"


def test_no_module_imports_a_later_stage() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        for imported in _imports(path):
            if imported in STAGE and imported != name and STAGE[imported] >= STAGE[name]:
                problems.append(f"{path.relative_to(PACKAGE)} imports {imported}")
    assert problems == []


def test_only_the_cli_prints_or_exits() -> None:
    for path in PACKAGE.rglob("*.py"):
        if _module_name(path) in ("cli", "__main__"):
            continue
        tree = ast.parse(path.read_text())
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "print" not in calls, path
        assert "exit" not in calls, path


def test_no_eval_of_text() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "eval" not in calls, path
        if "exec" in calls:
            # Only the case-key builder generates code, from the checked vocabulary.
            assert _module_name(path) == "cases", path
