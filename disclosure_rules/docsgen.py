"""Generate the rule documentation from the rules that decide: Markdown pages and JSON Schemas.

>>> from disclosure_rules import docsgen
>>> docsgen.generate("site-src/rules")          # the bundled rules and their scenario tests

:func:`build` makes every page in memory from a loaded :class:`~disclosure_rules.checker.Rules`
(the worked examples by running the engine on the scenario tests, the overview matrix by running
it on every cell); :func:`write` puts them in a directory, rewriting only the files that changed
and removing the ones no longer generated, so ``mkdocs serve`` does not rebuild in a loop. The
MkDocs hook ``docs/hooks.py`` calls :func:`generate` at every build; ``disclosure-rules docs``
calls it from the command line.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from . import fileschema, testing
from .checker import Rules, bundled_rules_path, load
from .diagnostics import DisclosureRulesError
from .engine.compiler import Compiler
from .language.unparse import unparse
from .render import schema
from .render.markdown import details, short_citation
from .render.matrix import AsOf, MatrixPage, MatrixSpec, compute
from .render.rulepages import ClauseTests, Example, RulePages
from .render.vocabpage import vocabulary_page
from .rulebook import literate

MARKER = ".disclosure-rules-docs"
"""Written into every output directory; only a directory holding it has files removed from it."""

DEFAULT_MAX_EXAMPLES = 6

NavEntry = dict[str, Any]


class DocsError(DisclosureRulesError):
    """The documentation cannot be written where it was asked to go."""


@attrs.frozen
class Site:
    """The generated documentation: page paths (relative to the output directory) and their text."""

    pages: Mapping[str, str]
    nav: tuple[NavEntry, ...]

    def nav_under(self, prefix: str) -> list[NavEntry]:
        """The navigation entries with each page path under ``prefix`` (e.g. ``generated/``)."""

        def shift(entry: Any) -> Any:
            if isinstance(entry, str):
                return prefix + entry
            if isinstance(entry, list):
                return [shift(e) for e in entry]
            return {title: shift(value) for title, value in entry.items()}

        return [shift(e) for e in self.nav]


@attrs.frozen
class Written:
    """What :func:`write` did: every page path, and those it changed or removed."""

    pages: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]


def scenario_examples(
    rules: Rules, suites: Iterable[testing.Suite], max_examples: int = DEFAULT_MAX_EXAMPLES
) -> tuple[dict[str, list[Example]], dict[str, list[Example]], list[testing.Result]]:
    """The worked examples of each rule: the scenarios it decides, then those where it nearly applied,
    then those where it lies on the path of exceptions to the rule that decided.

    Among equals, a scenario file named for the rule comes first. Returns, for each rule, the first
    ``max_examples`` (shown in full) and the rest (listed by name), and the result of every scenario.
    """
    found: dict[str, list[tuple[tuple[int, bool], Example]]] = {}
    results: list[testing.Result] = []
    for suite in suites:
        for scenario in suite.scenarios:
            result = testing.check_scenario(rules, scenario)
            results.append(result)
            decision = result.decision
            expect = scenario.expect
            # How closely the scenario concerns each rule: it decides (0), it nearly applied (1), or the
            # rule lies on the path of exceptions down to the one that decided (2).
            concerned = [(decision.rule, 0), (expect.get("rule"), 0)]
            concerned += [(m.rule, 1) for m in decision.missing]
            if isinstance(expect.get("missing"), dict):
                concerned += [(r, 1) for r in expect["missing"]]
            concerned += [(link.rule, 2) for link in decision.chain]
            example = Example(
                name=scenario.name,
                suite=suite.title,
                source=f"{Path(scenario.file).name}:{scenario.position.line}",
                request=scenario.request,
                decision=decision,
                expected=dict(expect),
                passed=result.passed,
                description=scenario.description,
            )
            closest: dict[str, int] = {}
            for rid, closeness in concerned:
                if isinstance(rid, str) and rid in rules.book.rules:
                    closest[rid] = min(closeness, closest.get(rid, closeness))
            for rid, closeness in closest.items():
                found.setdefault(rid, []).append(((closeness, suite.name != rid), example))
    examples: dict[str, list[Example]] = {}
    more: dict[str, list[Example]] = {}
    for rid, items in found.items():
        ordered = [e for _, e in sorted(items, key=lambda item: item[0])]
        examples[rid] = ordered[:max_examples]
        more[rid] = ordered[max_examples:]
    return examples, more, results


def clause_tests(rules: Rules, suites: Iterable[testing.Suite]) -> dict[str, ClauseTests]:
    """For each rule that quotes its law: the scenarios in which its whole condition held, and for each clause
    the scenarios in which that clause alone failed (every other part of the condition held): the permit and
    the near-miss that exercise the clause both ways."""
    book = rules.book
    compiler = Compiler(book)
    quoting = {rid: rule for rid, rule in book.rules.items() if rule.statute}
    parts = {
        rid: [(unparse(u), compiler.predicate(u)) for u in literate.units(r.condition)] for rid, r in quoting.items()
    }
    held: dict[str, list[str]] = {rid: [] for rid in quoting}
    alone: dict[str, list[list[str]]] = {rid: [[] for _ in r.statute] for rid, r in quoting.items()}
    for suite in suites:
        for scenario in suite.scenarios:
            env = rules.environment(scenario.request)
            if env is None:
                continue
            for rid, rule in quoting.items():
                failed = {text for text, test in parts[rid] if test(env) is not True}
                if not failed:
                    held[rid].append(scenario.name)
                    continue
                for i, clause in enumerate(rule.statute):
                    if clause.encodes and failed <= set(clause.encodes):
                        alone[rid][i].append(scenario.name)
    return {rid: ClauseTests(tuple(held[rid]), tuple(tuple(a) for a in alone[rid])) for rid in quoting}


AUTHOR_SCHEMAS = (
    ("rule-file", "any file of a rule directory: a vocabulary if it has a `vocabulary` key, else a rule set", None),
    ("ruleset", "a rule-set file (`ruleset:`): its rules, definitions and obligations", None),
    ("vocabulary", "a vocabulary file (`vocabulary:`): value lists, groups, fields, facts and chain keys", None),
    ("scenarios", "a scenario file (`scenarios:`): requests and the decisions the law requires", "scenarios.md"),
)
"""The schemas of the files authors write, as the schemas page lists them (their text: fileschema.py)."""


def schemas_page(schemas: Mapping[str, str], docs_prefix: str | None = None) -> str:
    """The page that lists every JSON schema, says how editors use them, and shows them folded."""

    def pointer(page: str, text: str) -> str:
        return f" (see [{text}]({docs_prefix}{page}))" if docs_prefix is not None else ""

    lines = [
        "# JSON schemas",
        "",
        "Every schema is generated with these pages, so it always matches the rules, the loader and the engine.",
        "",
        "## Requests and decisions",
        "",
        "- [`request.schema.json`](request.schema.json): what a request may contain under this vocabulary: "
        "each field, the facts nested under `facts`, the `chain` of earlier disclosures; values of value "
        "lists as `enum`, dates as `YYYY-MM-DD`, nothing undeclared. The engine still checks what a schema "
        "cannot (an impossible date such as 2025-02-30).",
        "- [`decision.schema.json`](decision.schema.json): the decision document printed by "
        "`disclosure-rules check --format json` and, one per line, by `--jsonl`. `trace` is present unless it "
        "was turned off; `line` appears only on the record of a JSON Lines input line that could not be read"
        f"{pointer('formats.md', 'the request and the decision')}.",
        "",
        "## Rule, vocabulary and scenario files",
        "",
        "The files authors write, in JSON Schema draft-07 (the draft YAML language servers implement). Each "
        "mapping allows exactly the keys the loader reads, so a misspelt key is flagged where it is typed"
        f"{pointer('language.md', 'the rule language')}:",
        "",
        *(
            f"- [`{name}.schema.json`]({name}.schema.json): {what}{pointer(page, 'the format') if page else ''}."
            for name, what, page in AUTHOR_SCHEMAS
        ),
        "",
        "A schema sees one file at a time, so the loader still checks what it cannot: names that refer to "
        "another file (an `exception_to`, a value list named as a type), the grammar of conditions, and a date "
        "written in quotes, which the loader refuses and an editor reads as the same text. "
        "`disclosure-rules validate` and `disclosure-rules test` report those.",
        "",
        "### In an editor",
        "",
        "VS Code's YAML extension (Red Hat's) and the other editors that run "
        "[yaml-language-server](https://github.com/redhat-developer/yaml-language-server) check a file "
        "against its schema as it is typed, complete keys and values, and show each key's description. Save "
        "the schemas where the files can reach them, from this site or from the command line, which needs "
        "no site:",
        "",
        "```sh",
        "mkdir -p schemas",
        "disclosure-rules schema rule-file > schemas/rule-file.schema.json",
        "disclosure-rules schema scenarios > schemas/scenarios.schema.json",
        "```",
        "",
        "Then either name the schema in a comment on the first line of a file (the path is relative to the "
        "file, and `disclosure-rules fmt` keeps the comment):",
        "",
        "```yaml",
        "# yaml-language-server: $schema=../schemas/rule-file.schema.json",
        "ruleset: irc-6103",
        "```",
        "",
        "or map files to schemas once, in the workspace's `.vscode/settings.json` (paths relative to the "
        "workspace; `rules/*.yaml` does not reach into `rules/tests/`):",
        "",
        "```json",
        "{",
        '  "yaml.schemas": {',
        '    "./schemas/rule-file.schema.json": ["rules/*.yaml"],',
        '    "./schemas/scenarios.schema.json": ["rules/tests/*.yaml"]',
        "  }",
        "}",
        "```",
        "",
        "## The schemas",
        "",
        *details("request.schema.json", schemas["request"]),
        *details("decision.schema.json", schemas["decision"]),
        *(line for name, *_ in AUTHOR_SCHEMAS for line in details(f"{name}.schema.json", schemas[name])),
    ]
    return "\n".join(lines)


def build(
    rules: Rules,
    suites: Sequence[testing.Suite] = (),
    *,
    day: datetime.date | None = None,
    spec: MatrixSpec | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    docs_prefix: str | None = None,
) -> Site:
    """Every page of the documentation of ``rules``; the matrix as of ``day`` (default: the last date on which
    the rules change, so that the same rules build the same pages whatever the day).

    ``spec`` chooses the matrix tables; ``docs_prefix`` is the path from the output directory to the
    hand-written pages (``"../"`` for ``docs/generated``), or None for pages that stand alone.
    """
    spec = spec or MatrixSpec()
    book = rules.book
    examples, more, results = scenario_examples(rules, suites, max_examples)
    writer = RulePages(book, examples, more, docs_prefix, clause_tests(rules, suites))
    failed = sum(1 for r in results if not r.passed)
    schemas = {
        "request": schema.dumps(schema.request_schema(book.vocabulary)),
        "decision": schema.dumps(schema.decision_schema()),
        **{name: fileschema.dumps(build_schema()) for name, build_schema in fileschema.FILE_SCHEMAS.items()},
    }
    pages: dict[str, str] = {
        "index.md": writer.index(len(suites), len(results), failed),
        "vocabulary.md": vocabulary_page(book.vocabulary),
        "schemas.md": schemas_page(schemas, docs_prefix),
        **{f"{name}.schema.json": text for name, text in schemas.items()},
    }
    rule_pages = {rid: writer.link.rule(rid) for rid in book.rules}
    matrix = MatrixPage(rules, rule_pages)
    as_of = AsOf.of(rules, day)
    pages["matrix.md"] = matrix.page(compute(rules, spec, as_of.day), as_of, spec)
    nav: list[NavEntry] = [
        {"Overview": "index.md"},
        {"Vocabulary": "vocabulary.md"},
        {"Overview matrix": "matrix.md"},
        {"JSON schemas": "schemas.md"},
    ]
    for rs in book.rulesets:
        pages[writer.link.ruleset(rs.name)] = writer.ruleset(rs)
        entries: list[NavEntry] = [{f"Rule set {rs.name}": writer.link.ruleset(rs.name)}]
        shorts = [short_citation(book.rules[rid].citation) for rid in rs.rules]
        for rid, short in zip(rs.rules, shorts, strict=True):
            pages[writer.link.rule(rid)] = writer.rule(rid)
            # Two rules under one provision are told apart by their ids.
            entries.append({short if shorts.count(short) == 1 else f"{short} · {rid}": writer.link.rule(rid)})
        nav.append({rs.title: entries})
    return Site({path: text.rstrip("\n") + "\n" for path, text in pages.items()}, tuple(nav))


def write(site: Site, out: str | Path) -> Written:
    """Write the pages under ``out``, touching only files whose text changed; remove stale generated files.

    Refuses a directory that holds files but was not written by this function, so it never overwrites
    or deletes someone's own files.
    """
    root = Path(out)
    marker = root / MARKER
    if root.exists() and not root.is_dir():
        raise DocsError(f"`{root}` is not a directory")
    if root.is_dir() and any(root.iterdir()) and not marker.exists():
        raise DocsError(f"`{root}` is not empty and was not written by `disclosure-rules docs`; choose a new directory")
    root.mkdir(parents=True, exist_ok=True)
    marker.write_text("Generated by disclosure-rules: every file here is rewritten or removed at each generation.\n")
    changed: list[str] = []
    for rel, text in site.pages.items():
        path = root / rel
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(rel)
    removed: list[str] = []
    for path in sorted(root.rglob("*"), reverse=True):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in site.pages and path != marker:
            path.unlink()
            removed.append(rel)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return Written(tuple(site.pages), tuple(changed), tuple(sorted(removed)))


def scenario_paths(rules_path: str | Path | None) -> list[Path]:
    """Where the scenario tests of a rule directory are: its ``tests/`` directory, if it has one."""
    tests = (Path(rules_path) if rules_path is not None else bundled_rules_path()) / "tests"
    return [tests] if tests.is_dir() else []


def generate(
    out: str | Path,
    rules_path: str | Path | None = None,
    *,
    tests: Sequence[str | Path] | None = None,
    day: datetime.date | None = None,
    spec: MatrixSpec | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    docs_prefix: str | None = None,
) -> tuple[Site, Written]:
    """Load the rules (default: the bundled ones) and their scenario tests, build every page, write them.

    Raises :class:`~disclosure_rules.diagnostics.LoadError` if the rules do not load,
    :class:`~disclosure_rules.testing.ScenarioError` if a scenario file does not, and
    :class:`DocsError` if ``out`` cannot be used.
    """
    rules = load(rules_path) if rules_path is not None else load()
    suites = testing.load_suites(tests if tests is not None else scenario_paths(rules_path))
    site = build(rules, suites, day=day, spec=spec, max_examples=max_examples, docs_prefix=docs_prefix)
    return site, write(site, out)


__all__ = [
    "DocsError",
    "MatrixSpec",
    "Site",
    "Written",
    "build",
    "generate",
    "scenario_examples",
    "write",
]
