"""Data flows one way: a module only imports modules of an earlier stage."""

from __future__ import annotations

import ast
from pathlib import Path

import disclosure_rules

PACKAGE = Path(disclosure_rules.__file__).resolve().parent

# Stages, from the bottom up: YAML -> loader -> AST -> compiled predicates -> evaluator -> decision -> renderers.
# A module in a stage folder is named by its folder and name (`engine.compiler`); a capability in a subpackage of
# its own (analysis, the ledger, renderers, integrations) by the subpackage's name.
STAGE = {
    "diagnostics": 0,
    "language.valuetypes": 0,
    "language.template": 0,
    "version": 0,
    "reading.yamlsource": 1,
    "reading.fmt": 1,
    "language.ast": 1,
    "rulebook.vocabulary": 1,
    "reading.jsontext": 1,
    "language.grammar": 2,
    "rulebook.model": 2,
    "language.unparse": 2,
    "language.typecheck": 3,
    "reading.yamlreader": 2,
    "rulebook.vocabloader": 3,
    "intake.request": 3,
    # The request reader's quick path, generated from the vocabulary.
    "intake.requestgen": 3.2,
    # Generated Python source, and the one place it is run (for the case keys and the quick path).
    "intake.pysource": 3.1,
    "decisions.decision": 3,
    "rulebook.literate": 3.5,
    "rulebook.loader": 4,
    "rulebook.persist": 4.5,
    "decisions.english": 4,
    "engine.compiler": 5,
    "engine.codegen": 5.2,
    "intake.cases": 5,
    "engine.provenance": 5.5,
    "engine.evaluator": 6,
    "decisions.explain": 7,
    # A row of a new case read, evaluated and decided by one generated function (issue 11).
    "decisions.rows": 7.2,
    "records": 7.5,
    "checker": 8,
    "analysis": 8.5,
    "render": 9,
    "testing": 9,
    "ledger": 9.3,
    # The JSON Schemas of the files the loaders read (rule sets, vocabularies, scenario files).
    "fileschema": 9.2,
    "docsgen": 9.5,
    # Batches beyond one process: worker processes, data frames, Dask, CSV and Parquet (issue 11).
    "integrations": 9.7,
    # Shell completion scripts, from an argparse parser the command line hands it.
    "completion": 9.8,
    "cli": 10,
    "__main__": 11,
    "dask": 11,
    "__init__": 12,
}
STAGE_FOLDERS = {"reading", "language", "rulebook", "intake", "engine", "decisions"}
"""Folders that hold the stages of the data flow, each module a stage of its own; a folder's `__init__` is
its docstring only, so it stands at the bottom."""


def _unit(parts: list[str]) -> str:
    """The name the stages know a module by, from its dotted path inside the package."""
    if not parts:
        return "__init__"
    if parts[0] in STAGE_FOLDERS:
        return ".".join(parts[:2]) if len(parts) > 1 and parts[1] != "__init__" else "diagnostics"
    return parts[0]


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    return _unit(list(relative.parts))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    package = list(path.relative_to(PACKAGE).parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            module = base + (node.module.split(".") if node.module else [])
            if node.module and not (len(module) == 1 and module[0] in STAGE_FOLDERS):
                found.add(_unit(module))
            else:  # `from . import a` or `from .engine import a`: each name a module, or a name of the package
                found.update(_unit([*module, alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("disclosure_rules"):
            parts = node.module.split(".")[1:]
            if len(parts) == 1 and parts[0] in STAGE_FOLDERS:
                found.update(_unit([*parts, alias.name]) for alias in node.names)
            else:
                found.add(_unit(parts))
    return found


def test_every_module_has_a_stage() -> None:
    names = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    assert names <= set(STAGE), f"give these modules a stage: {sorted(names - set(STAGE))}"


# A facade method may reach a later stage that holds an optional extra, importing it inside the method only, so
# that the core never loads pandas: `RecordChecker.decide_frame` hands the frame to `integrations.frames`.
LAZY_FACADES = {("records", "integrations")}


def _module_level_imports(path: Path) -> set[str]:
    """The modules ``path`` imports outside any function."""
    tree = ast.parse(path.read_text())
    inner = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
    }
    package = list(path.relative_to(PACKAGE).parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in inner and node.level and node.module:
            base = package[: len(package) - (node.level - 1)]
            found.add(_unit(base + node.module.split(".")))
    return found


def test_no_module_imports_a_later_stage() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        lazy_allowed = {later for early, later in LAZY_FACADES if early == name}
        module_level = _module_level_imports(path)
        for imported in _imports(path):
            if imported in lazy_allowed and imported not in module_level:
                continue
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
            # Only the runner of the source the case keys and the quick path are written as (from the checked
            # vocabulary) and the rule-set compiler (from the checked condition trees) run generated code.
            assert _module_name(path) in ("intake.pysource", "engine.codegen"), path


EXTRAS = ("pandas", "pyarrow", "dask", "distributed", "numpy")


def test_the_core_never_imports_an_optional_extra_at_load() -> None:
    """pandas, pyarrow and Dask are extras: only `integrations` imports them, and only where it is used
    (in a function, or in a module of its own that the user imports)."""
    problems = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            if any(n.split(".")[0] in EXTRAS for n in names) and _module_name(path) != "integrations":
                problems.append(str(path.relative_to(PACKAGE)))
    assert problems == []


def test_importing_the_package_and_its_cli_loads_no_extra() -> None:
    import subprocess
    import sys

    code = (
        f"import sys, disclosure_rules, disclosure_rules.cli; print(sorted(m for m in sys.modules if m in {EXTRAS!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_rule_set_compiler_builds_code_as_syntax_trees_not_text() -> None:
    # Source text could be spliced together from a rule's strings; an ast node holds them only as constants.
    tree = ast.parse((PACKAGE / "engine" / "codegen.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "compile":
            assert isinstance(node.args[0], ast.Name) and node.args[0].id == "module"
        assert not (isinstance(node, ast.Attribute) and node.attr == "parse"), "ast.parse of built text"
