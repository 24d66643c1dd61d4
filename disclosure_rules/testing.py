"""Scenario tests: requests and the decisions the law requires, written in YAML.

A scenario file reads as a specification::

    scenarios: irc-6103-i-2
    title: "§ 6103(i)(2): written requests for non-tax criminal investigations"
    base:                      # the request every case starts from (optional)
      date: 2025-08-07
      element: address
      ...
    bases:                     # other named starting points; a case picks one with `base: <name>`
      court-order: {...}
    cases:
      - name: every condition holds
        request: {}            # merged over `base`: mappings merge, a null removes the key
        expect:
          decision: permit
          status: permitted
          rule: irc-6103-i-2
          obligations: [p3-accounting, p4-safeguards, i2-use-limit]
      - name: signed by an assistant director
        request: {facts: {request: {signed_by: assistant_director}}}
        expect:
          decision: deny
          missing: {irc-6103-i-2: [i2_signer]}

``expect`` may give ``decision``, ``status``, ``rule``, ``citation`` (one of the decision's citations),
``chain`` (rule ids from the general rule down), ``obligations`` (exactly these ids), ``missing`` (for each
rule listed, exactly these failed conditions; a rule given as null must not be listed), ``unknown_facts``,
``conflicts``, ``reason_contains`` and ``error`` (the code of the first error). Only what is given is checked.

The runner returns results as data; the command line and pytest report them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .checker import Rules
from .decisions.decision import Decision
from .diagnostics import Diagnostic, LoadError, Position, did_you_mean
from .reading.yamlreader import DiagnosticSink, MappingReader
from .reading.yamlsource import (
    YamlError,
    YMap,
    YNode,
    YScalar,
    YSeq,
    decode_source,
    is_yaml_name,
    parse_yaml,
    read_source,
)

FILE_KEYS = ("scenarios", "title", "description", "base", "bases", "cases")
CASE_KEYS = ("name", "description", "base", "request", "expect")
EXPECT_KEYS = (
    "decision",
    "status",
    "rule",
    "citation",
    "chain",
    "obligations",
    "missing",
    "unknown_facts",
    "conflicts",
    "reason_contains",
    "error",
)


@attrs.frozen
class Scenario:
    """One case: a request and what the decision must say about it."""

    file: str
    suite: str
    name: str
    request: Any
    expect: Mapping[str, Any]
    position: Position = attrs.field(eq=False)
    description: str | None = None

    @property
    def id(self) -> str:
        return f"{self.suite}: {self.name}"


@attrs.frozen
class Suite:
    name: str
    title: str
    file: str
    scenarios: tuple[Scenario, ...]


@attrs.frozen
class Mismatch:
    field: str
    expected: Any
    actual: Any


@attrs.frozen
class Result:
    scenario: Scenario
    decision: Decision
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


@attrs.frozen
class RuleCoverage:
    rule: str
    applied: int
    not_applied: int

    @property
    def both_ways(self) -> bool:
        return self.applied > 0 and self.not_applied > 0


# -- reading ----------------------------------------------------------------------------------


def _plain(node: YNode) -> Any:
    """A YAML node as JSON-like data; dates become ISO strings, as a JSON request writes them."""
    if isinstance(node, YScalar):
        if isinstance(node.value, datetime.date):
            return node.value.isoformat()
        return node.value
    if isinstance(node, YSeq):
        return [_plain(item) for item in node.items]
    return {key: _plain(value) for key, value in node.items.items()}


def merge(base: Any, change: Any) -> Any:
    """``change`` over ``base``: mappings merge key by key, a null removes the key, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(change, dict):
        return change
    out = dict(base)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


class ScenarioError(Exception):
    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def declares(path: Path, key: str) -> bool:
    """Whether the YAML file at ``path`` has the top-level ``key`` near its start (what kind of file it is).

    Only a regular file is opened: opening a named pipe would wait for a writer."""
    if not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return False
    return any(line.startswith(f"{key}:") for line in head.splitlines())


def is_scenario_file(path: Path) -> bool:
    return declares(path, "scenarios")


def find_scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The scenario files named, or found (recursively) in the directories named."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            # A file named like a scenario file that is not a readable regular file is reported (when read), not
            # skipped: a scenario that silently does not run is a test that silently passes.
            named = sorted(p for p in path.rglob("*") if is_yaml_name(p) and not p.is_dir())
            found.extend(p for p in named if not p.is_file() or is_scenario_file(p))
        else:
            found.append(path)
    return found


def load_suite(path: Path) -> Suite:
    """Read one scenario file; raise :class:`ScenarioError` listing every problem."""
    name = str(path)
    problems: list[Diagnostic] = []
    try:
        root = parse_yaml(name, decode_source(path, read_source(path)))
    except YamlError as exc:
        raise ScenarioError([exc.diagnostic]) from None
    if not isinstance(root, YMap) or "scenarios" not in root.items:
        raise ScenarioError(
            [Diagnostic("unknown_file", "a scenario file starts with `scenarios: <name>`", Position(name, 1, 1))]
        )
    sink = DiagnosticSink()
    MappingReader(root, "a scenario file", sink).only(*FILE_KEYS)
    suite = str(_plain(root.items["scenarios"]))
    title = str(_plain(root.items["title"])) if "title" in root.items else suite
    base = _plain(root.items["base"]) if "base" in root.items else {}
    bases_node = root.items.get("bases")
    bases: dict[str, Any] = {}
    if isinstance(bases_node, YMap):
        bases = {name: _plain(node) for name, node in bases_node.items.items()}
    elif bases_node is not None:
        problems.append(Diagnostic("wrong_type", "`bases` must map names to requests", bases_node.position))
    cases_node = root.items.get("cases")
    scenarios: list[Scenario] = []
    if not isinstance(cases_node, YSeq):
        problems.append(Diagnostic("missing_key", "a scenario file needs a list of `cases`", root.position))
    else:
        for node in cases_node.items:
            if not isinstance(node, YMap):
                problems.append(Diagnostic("wrong_type", "each case must be a mapping", node.position))
                continue
            MappingReader(node, "a case", sink).only(*CASE_KEYS)
            case_name = _plain(node.items["name"]) if "name" in node.items else None
            expect_node = node.items.get("expect")
            if not isinstance(case_name, str) or not isinstance(expect_node, YMap):
                problems.append(
                    Diagnostic("missing_key", "a case needs a `name` and an `expect` mapping", node.position)
                )
                continue
            MappingReader(expect_node, "`expect`", sink).only(*EXPECT_KEYS)
            start = base
            if "base" in node.items:
                chosen = _plain(node.items["base"])
                if chosen not in bases:
                    problems.append(
                        Diagnostic(
                            "unknown_name",
                            f"no base named `{chosen}`",
                            node.items["base"].position,
                            help=did_you_mean(str(chosen), bases),
                        )
                    )
                    continue
                start = bases[chosen]
            request = merge(start, _plain(node.items["request"])) if "request" in node.items else start
            description = node.items.get("description")
            scenarios.append(
                Scenario(
                    name,
                    suite,
                    case_name,
                    request,
                    _plain(expect_node),
                    node.position,
                    _plain(description) if description is not None else None,
                )
            )
    problems.extend(sink.items)
    if problems:
        raise ScenarioError(problems)
    return Suite(suite, title, name, tuple(scenarios))


# -- running ----------------------------------------------------------------------------------


def check_scenario(rules: Rules, scenario: Scenario) -> Result:
    decision = rules.check(scenario.request)
    expect = scenario.expect
    found: list[Mismatch] = []

    def compare(field: str, actual: Any) -> None:
        if field in expect and expect[field] != actual:
            found.append(Mismatch(field, expect[field], actual))

    compare("decision", decision.decision)
    compare("status", decision.status)
    compare("rule", decision.rule)
    if "citation" in expect and expect["citation"] not in decision.citations:
        found.append(Mismatch("citation", expect["citation"], list(decision.citations)))
    compare("chain", [link.rule for link in decision.chain])
    if "obligations" in expect and sorted(expect["obligations"] or []) != sorted(o.id for o in decision.obligations):
        found.append(Mismatch("obligations", expect["obligations"], [o.id for o in decision.obligations]))
    if "missing" in expect:
        actual_missing = {m.rule: sorted(f.condition for f in m.failed) for m in decision.missing}
        for rule, conditions in (expect["missing"] or {}).items():
            if conditions is None:  # the rule must not be offered as a route
                if rule in actual_missing:
                    found.append(Mismatch(f"missing[{rule}]", None, actual_missing[rule]))
                continue
            want = sorted(conditions)
            if actual_missing.get(rule) != want:
                found.append(Mismatch(f"missing[{rule}]", want, actual_missing.get(rule)))
    if "unknown_facts" in expect and sorted(expect["unknown_facts"] or []) != sorted(decision.unknown_facts):
        found.append(Mismatch("unknown_facts", expect["unknown_facts"], list(decision.unknown_facts)))
    if "conflicts" in expect and sorted(expect["conflicts"] or []) != sorted(decision.conflicts):
        found.append(Mismatch("conflicts", expect["conflicts"], list(decision.conflicts)))
    if "reason_contains" in expect and str(expect["reason_contains"]) not in decision.reason:
        found.append(Mismatch("reason_contains", expect["reason_contains"], decision.reason))
    if "error" in expect:
        first = decision.errors[0].code if decision.errors else None
        if first != expect["error"]:
            found.append(Mismatch("error", expect["error"], first))
    return Result(scenario, decision, tuple(found))


def run(rules: Rules, suites: Iterable[Suite]) -> list[Result]:
    return [check_scenario(rules, scenario) for suite in suites for scenario in suite.scenarios]


def coverage(rules: Rules, results: Iterable[Result]) -> list[RuleCoverage]:
    """For each rule, in how many scenarios it applied and in how many it did not."""
    applied = dict.fromkeys(rules.book.rules, 0)
    not_applied = dict.fromkeys(rules.book.rules, 0)
    for result in results:
        for entry in result.decision.trace:
            if entry.result == "applies":
                applied[entry.rule] += 1
            else:
                not_applied[entry.rule] += 1
    return [RuleCoverage(rid, applied[rid], not_applied[rid]) for rid in rules.book.rules]


def load_suites(paths: Iterable[str | Path]) -> list[Suite]:
    """Every suite in ``paths``; raise :class:`ScenarioError` with the problems of every file."""
    suites: list[Suite] = []
    problems: list[Diagnostic] = []
    for path in find_scenario_files(paths):
        try:
            suites.append(load_suite(path))
        except ScenarioError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise ScenarioError(problems)
    return suites


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(value)


def format_failure(result: Result) -> str:
    """A failure as a readable diff of expected versus actual."""
    s = result.scenario
    lines = [f"FAIL {s.position.file}:{s.position.line}: {s.id}"]
    width = max(len(m.field) for m in result.mismatches)
    for mismatch in result.mismatches:
        lines.append(f"  {mismatch.field.ljust(width)}  expected: {_show(mismatch.expected)}")
        lines.append(f"  {' ' * width}  actual:   {_show(mismatch.actual)}")
    d = result.decision
    lines.append(f"  -> {d.decision} ({d.status}) by {d.rule or '-'}: {d.reason}")
    for route in d.missing:
        for failure in route.failed:
            lines.append(f"     missing for {route.rule}: {failure.condition}")
    for e in d.errors:
        lines.append(f"     error: {e}")
    return "\n".join(lines)


def summary(results: Sequence[Result], suites: Sequence[Suite]) -> str:
    failed = sum(1 for r in results if not r.passed)
    passed = len(results) - failed
    files = len(suites)
    head = f"{passed} passed, {failed} failed" if failed else f"{passed} passed"
    return f"{head} ({len(results)} scenarios in {files} file{'s' if files != 1 else ''})"


def format_coverage(cov: Sequence[RuleCoverage]) -> str:
    width = max((len(c.rule) for c in cov), default=4)
    lines = [f"{'rule'.ljust(width)}  applied  not applied"]
    for c in cov:
        flag = (
            ""
            if c.both_ways
            else ("   <- never exercised" if not (c.applied or c.not_applied) else "   <- not seen both ways")
        )
        lines.append(f"{c.rule.ljust(width)}  {c.applied:7d}  {c.not_applied:11d}{flag}")
    never = [c.rule for c in cov if not c.both_ways]
    lines.append(
        "every rule was seen to apply and not to apply"
        if not never
        else f"{len(never)} rule{'s' if len(never) != 1 else ''} not exercised both ways: " + ", ".join(never)
    )
    return "\n".join(lines)


__all__ = [
    "LoadError",
    "Result",
    "RuleCoverage",
    "Scenario",
    "ScenarioError",
    "Suite",
    "check_scenario",
    "coverage",
    "find_scenario_files",
    "format_coverage",
    "format_failure",
    "load_suite",
    "load_suites",
    "merge",
    "run",
    "summary",
]
