"""The generated documentation: golden pages, coverage of the bundled rules, schemas, and docs kept in step.

Golden files live in ``tests/golden/``. After a deliberate change to the pages, regenerate and review them:
``UPDATE_GOLDEN=1 python -m pytest tests/test_docs.py`` then ``git diff tests/golden/``.
"""

from __future__ import annotations

import datetime
import difflib
import io
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import jsonschema
import pytest

import disclosure_rules
import disclosure_rules.cli
from disclosure_rules import Rules, docsgen, testing
from disclosure_rules.cli import EXIT_PERMIT, EXIT_USAGE, _parser, main
from disclosure_rules.decisions.english import Phraser
from disclosure_rules.language.grammar import parse_condition
from disclosure_rules.language.typecheck import check_condition
from disclosure_rules.render import schema
from disclosure_rules.render.json import DOCUMENT_KEYS, decision_document, render_json
from disclosure_rules.render.markdown import (
    cite,
    condition_lines,
    dotted_code,
    escape,
    short_citation,
    statute_url,
)
from disclosure_rules.render.matrix import MatrixSpec, deciding_dates
from disclosure_rules.render.rulepages import Linker, heading

from .conftest import EXAMPLES, ROOT, example, write_rules

GOLDEN = Path(__file__).parent / "golden"
DAY = datetime.date(2025, 12, 1)

VOCABULARY = """\
vocabulary: docs-test
disclosure: "the {element} held by {holder} to {recipient} for {purpose}"
enums:
  agency:
    label: agency
    values: {IRS: the IRS, SSA: the SSA, ICE: ICE, DOJ: the Department of Justice}
  element:
    label: data element
    values: {address: {label: mailing address, description: Where mail reaches the person.}, wages: wages, name: name}
  purpose:
    label: purpose
    values: {crime: a criminal case, civil: a civil case}
  origin:
    label: origin
    values: {tax_return: a tax return, claimant: the claimant, usps: a USPS report}
  signer:
    label: signer
    values: {head: the head of the agency, deputy: a deputy}
groups:
  tax_sources: {of: origin, label: tax sources, description: Origins that make data tax data., values: [tax_return]}
  identity: {of: element, label: elements of identity, values: [name, address]}
fields:
  date: {type: date, required: true, label: the date of the disclosure}
  element: {type: element, required: true, label: the data element}
  holder: {type: agency, required: true, label: the holder}
  origin: {type: set of origin, label: the origins of the holder's copy}
  recipient: {type: agency, required: true, label: the recipient}
  purpose: {type: purpose, required: true, label: the purpose}
chain:
  from: {type: agency, label: the sender}
  to: {type: agency, label: the receiver}
facts:
  consent: {type: bool, label: the taxpayer consented, negated: the taxpayer did not consent}
  order: {type: bool, label: a court order is in force}
  request.signed_by: {type: signer, label: the official who signed the request}
  request.items: {type: set of element, label: the items the request names}
  count: {type: number, label: the number of taxpayers}
  note: {type: text, label: the note}
  presumed: {type: bool, label: the data is deidentified, negated: the data can identify a taxpayer, default: false}
"""

RULESET = """\
ruleset: mini-law
title: A small law for the golden page
source: Mini Code, 1 U.S.C. § 100
url: https://www.law.cornell.edu/uscode/text/1/100
description: Written for the documentation tests; not a real law.
definitions:
  tax_data:
    label: the data is tax data
    negated: the data is not tax data
    must: the data must be tax data
    citation: 1 U.S.C. § 100(b)
    when: (holder == "IRS" or origin overlaps tax_sources) and not facts.presumed
    notes: [{text: The source test., source: 1 U.S.C. § 100(b), confidence: high}]
  signed_properly:
    label: the request is signed by the head of the agency
    when: facts.request.signed_by == "head"
obligations:
  keep-record:
    text: The holder keeps a record of the disclosure.
    citation: 1 U.S.C. § 100(p)(3), (4)
rules:
  - id: mini-a
    title: Tax data is confidential
    kind: forbid
    citation: 1 U.S.C. § 100(a)
    when: tax_data
    reason: The {element} held by {holder} is confidential under 1 U.S.C. § 100(a).
  - id: mini-crime
    title: Disclosure for a criminal case on a signed request
    kind: permit
    citation: 1 U.S.C. § 100(i)(2)
    exception_to: mini-a
    when:
      - purpose == "crime"
      - signed_properly
      - facts.consent or recipient in ["DOJ"]
    reason: 1 U.S.C. § 100(i)(2) lets {holder} give the {element} to {recipient}.
    obligations: [keep-record]
    notes:
      - text: A note with medium confidence.
        source: Mini v. Code, 1 F.4th 1 (1st Cir. 2025)
        confidence: medium
  - id: mini-order
    title: "Mini v. Code: order barring disclosures to ICE"
    kind: forbid
    citation: Mini v. Code, No. 1:25-cv-1 (D. Mini Nov. 21, 2025)
    exception_to: mini-crime
    effective: {from: 2025-11-21, until: 2026-11-20}
    when: recipient == "ICE"
    reason: The order in Mini v. Code bars disclosing to {recipient}.
"""

SCENARIOS = """\
scenarios: mini-crime
title: Criminal requests under the mini law
base:
  date: 2025-08-07
  element: address
  holder: IRS
  origin: [tax_return]
  recipient: ICE
  purpose: crime
  facts: {request: {signed_by: head}, consent: true}
cases:
  - name: signed by the head
    description: Every condition holds.
    expect: {decision: permit, rule: mini-crime}
  - name: signed by a deputy
    request: {facts: {request: {signed_by: deputy}}, chain: [{from: SSA, to: IRS}]}
    expect: {decision: deny, rule: mini-a}
  - name: after the order
    request: {date: 2025-12-01}
    expect: {decision: deny, rule: mini-order}
  - name: consent unknown
    request: {recipient: SSA, facts: {consent: null}}
    expect: {status: indeterminate}
"""


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"no golden file {path}; create it with UPDATE_GOLDEN=1 python -m pytest {__file__}"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "generated"))
        pytest.fail(f"the page differs from {path}; if the change is deliberate, rerun with UPDATE_GOLDEN=1\n{diff}")


@pytest.fixture(scope="module")
def mini_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("mini-rules")
    (directory / "vocabulary.yaml").write_text(VOCABULARY)
    (directory / "mini-law.yaml").write_text(RULESET)
    (directory / "tests").mkdir()
    (directory / "tests" / "mini-crime.yaml").write_text(SCENARIOS)
    return directory


@pytest.fixture(scope="module")
def mini_site(mini_dir: Path) -> docsgen.Site:
    rules = disclosure_rules.load(mini_dir)
    suites = testing.load_suites([mini_dir / "tests"])
    spec = MatrixSpec(holders=("IRS", "SSA"), purposes=("crime",), recipients=("ICE", "DOJ", "SSA"))
    return docsgen.build(rules, suites, day=DAY, spec=spec)


@pytest.fixture(scope="module")
def bundled_site() -> docsgen.Site:
    rules = disclosure_rules.load()
    return docsgen.build(rules, testing.load_suites(docsgen.scenario_paths(None)), day=DAY, docs_prefix="../")


# -- plain English ------------------------------------------------------------------------------

CONDITIONS = [
    "facts.consent",
    "not facts.consent",
    "not facts.order",
    'holder == "IRS"',
    'recipient != "IRS"',
    "date < 2025-11-21",
    "date <= 2025-11-21",
    "date > 2025-11-21",
    "date >= 2025-11-21",
    "facts.count < 10",
    "facts.count <= 10",
    "facts.count > 10",
    "facts.count >= 10",
    'facts.note == "urgent"',
    'recipient in ["ICE"]',
    'recipient in ["ICE", "DOJ"]',
    'purpose not in ["civil"]',
    "element in identity",
    "element not in identity",
    '"IRS" in chain.from',
    '"IRS" not in chain.from',
    "origin overlaps tax_sources",
    'origin overlaps ["claimant", "usps"]',
    'origin within ["claimant", "usps"]',
    'facts.request.items includes ["name"]',
    'facts.request.items includes ["name", "address"]',
    "true",
    "false",
    "tax_data",
    "not tax_data",
    "signed_properly",
    "not signed_properly",
    'holder == "IRS" and facts.consent',
    'holder == "IRS" or facts.consent',
    'not (holder == "IRS" or facts.consent)',
    'not (holder == "IRS" and facts.consent)',
    "not not facts.consent",
    'purpose == "crime" and (facts.consent or (recipient == "DOJ" and not facts.order)) and tax_data',
]


def test_every_kind_of_condition_in_plain_english(mini_dir: Path) -> None:
    book = disclosure_rules.load(mini_dir).book
    phraser = Phraser(book.vocabulary, book.definitions)
    out = []
    for text in CONDITIONS:
        tree, issues = check_condition(parse_condition(text), book.vocabulary, book.definitions)
        assert not issues, (text, issues)
        lines = condition_lines(phraser.outline(tree, expand=True), "It holds when", lambda name: f"#def-{name}")
        out += [f"## `{text}`", "", *lines]
    assert_golden("conditions.md", "\n".join(out))


def test_a_whole_rule_page(mini_site: docsgen.Site) -> None:
    assert_golden("rule-page.md", mini_site.pages["rules/mini-crime.md"])


def test_the_rule_page_shows_what_the_issue_asks_for(mini_site: docsgen.Site) -> None:
    page = mini_site.pages["rules/mini-crime.md"]
    assert "[1 U.S.C. § 100(i)(2)](https://www.law.cornell.edu/uscode/text/1/100)" in page
    assert "This rule **permits** the disclosure when **all** of the following hold:" in page
    assert "<details><summary>Condition as written in the rule file</summary>" in page
    assert "    - **forbids** — [Mini v. Code](mini-order.md): order barring disclosures to ICE" in page
    assert "keep-record" in page and "confidence: **medium**" in page
    assert page.count("### ") >= 4, "each scenario about the rule is a worked example"
    assert "**Decision: permit** — permitted" in page
    assert "the official who signed the request: the head of the agency" in page


def test_court_cases_are_not_linked() -> None:
    assert statute_url("Center for Taxpayer Rights v. IRS, No. 1:25-cv-00457 (D.D.C. Nov. 21, 2025)") is None
    assert statute_url("26 U.S.C. § 6103(i)(2)") == "https://www.law.cornell.edu/uscode/text/26/6103"
    assert statute_url("5 U.S.C. § 552a(b)(7)") == "https://www.law.cornell.edu/uscode/text/5/552a"
    assert cite("26 U.S.C. § 6103(i)(2)(A), (i)(4)(B)") == (
        "[26 U.S.C. § 6103(i)(2)(A)](https://www.law.cornell.edu/uscode/text/26/6103), (i)(4)(B)"
    )
    assert short_citation("42 U.S.C. § 1306(a); 20 C.F.R. part 401") == "§ 1306(a)"
    assert short_citation("26 U.S.C. § 6103(i)(2)(A), (C)") == "§ 6103(i)(2)(A), (C)"


# -- the matrix and the other pages ---------------------------------------------------------------


def test_the_matrix_is_decided_by_the_engine(mini_site: docsgen.Site) -> None:
    page = mini_site.pages["matrix.md"]
    assert "**2025-12-01**" in page
    irs, ssa = page.split("## Held by the SSA")
    assert '| to ICE | to the Department of Justice (<code class="identifier">DOJ</code>) | to the SSA |' in irs
    # To the DOJ a signed request may permit it; to ICE nothing can, and the order is what says so.
    row = next(line for line in irs.splitlines() if line.startswith("| mailing address"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[2] == "**denied** by [Mini v. Code](rules/mini-order.md)"
    assert cells[3] == "*possible* under [§\u00a0100(i)(2)](rules/mini-crime.md) if the facts are shown"
    assert "the official who signed the request" in irs.split("Where a cell says")[1]
    # The SSA's copy is tax data only from a tax source. Otherwise § 100(a) does not forbid it, and the order,
    # an exception to the permit only, takes that permit away without forbidding anything itself.
    group = "[tax sources](vocabulary.md#group-tax_sources)"
    assert f"| {group} | **denied** by [Mini v. Code](rules/mini-order.md)" in ssa
    assert f"| any but {group} | no authority |" in ssa


def test_the_matrix_date_and_selection_are_parameters(mini_dir: Path) -> None:
    rules = disclosure_rules.load(mini_dir)
    before = docsgen.build(rules, day=datetime.date(2025, 8, 7), spec=MatrixSpec(("IRS",), ("crime",), ("ICE",)))
    page = before.pages["matrix.md"]
    assert "mini-order" not in page, "the order is not in force on 2025-08-07"
    assert page.count("## Held by") == 1


def test_the_matrix_is_dated_by_the_rules_not_by_the_day(mini_dir: Path) -> None:
    rules = disclosure_rules.load(mini_dir)
    # The order is in force from 2025-11-21 to 2026-11-20: the rules change on the first day and the day after.
    assert deciding_dates(rules) == (datetime.date(2025, 11, 21), datetime.date(2026, 11, 21))
    page = docsgen.build(rules, spec=MatrixSpec(("IRS",), ("crime",), ("ICE",))).pages["matrix.md"]
    assert "Decided as of **2026-11-21**, the last date on which these rules change" in page
    assert 'Before it, they change on <span class="nowrap">2025-11-21</span>.' in page
    assert "mini-order" not in page, "from 2026-11-21 on the order is no longer in force"
    given = docsgen.build(rules, day=datetime.date(2025, 12, 1)).pages["matrix.md"]
    assert "Decided as of **2025-12-01**, the date asked for." in given


def test_undated_rules_draw_a_matrix_for_any_date(tmp_path: Path) -> None:
    undated = RULESET.replace("    effective: {from: 2025-11-21, until: 2026-11-20}\n", "")
    directory = write_rules(tmp_path / "undated", undated, vocabulary=VOCABULARY)
    rules = disclosure_rules.load(directory)
    assert deciding_dates(rules) == ()
    page = docsgen.build(rules).pages["matrix.md"]
    assert "These rules decide alike on every date" in page


class _DateMeta(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, _REAL_DATE)


_REAL_DATE = datetime.date


class _Today:
    """Stands in for the ``datetime`` module in the package's modules, with another day as today."""

    def __init__(self, day: datetime.date) -> None:
        class Date(datetime.date, metaclass=_DateMeta):
            @classmethod
            def today(cls) -> Date:
                return cls(day.year, day.month, day.day)

        class DateTime(datetime.datetime, metaclass=_DateMeta):
            @classmethod
            def now(cls, tz: datetime.tzinfo | None = None) -> DateTime:
                return cls(day.year, day.month, day.day, 12, tzinfo=tz)

        self.module = types.ModuleType("datetime")
        self.module.__dict__.update(vars(datetime))
        self.module.__dict__.update(date=Date, datetime=DateTime)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, module in list(sys.modules.items()):
            if name.startswith("disclosure_rules") and getattr(module, "datetime", None) is datetime:
                monkeypatch.setattr(module, "datetime", self.module)


def test_the_same_rules_build_the_same_site_whatever_the_day(bundled: Rules) -> None:
    suites = testing.load_suites(docsgen.scenario_paths(None))
    sites = []
    for today in (datetime.date(2025, 6, 1), datetime.date(2031, 7, 4)):
        with pytest.MonkeyPatch.context() as monkeypatch:
            _Today(today).install(monkeypatch)
            # docsgen's own `datetime`, now the stand-in: a plain import it does not re-export, so read by name.
            assert vars(docsgen)["datetime"].date.today() == today
            sites.append(docsgen.build(bundled, suites, docs_prefix="../"))
    assert sites[0].pages == sites[1].pages
    assert "Decided as of **2026-02-05**" in sites[0].pages["matrix.md"]
    assert not re.search(r"\b20(25|31)-0[67]-0[14]\b", sites[0].pages["index.md"])


def test_matrix_headings_keep_a_code_whole(bundled_site: docsgen.Site) -> None:
    page = bundled_site.pages["matrix.md"]
    assert (
        '| to a state or local law-enforcement agency (<code class="identifier">state_law_enforcement</code>) |' in page
    )
    assert "<wbr>" not in page
    css = (ROOT / "docs" / "css" / "extra.css").read_text()
    assert ".md-typeset code.identifier { white-space: nowrap;" in css


def test_the_vocabulary_page_is_compact_and_describes_every_value(bundled: Rules, bundled_site: docsgen.Site) -> None:
    page = bundled_site.pages["vocabulary.md"]
    assert "### `purpose` {#enum-purpose}" in page, "a label that only repeats the name is not a heading"
    assert "### `element`: data element {#enum-element}" in page
    for enum in bundled.vocabulary.enums.values():
        section = page.split(f"{{#enum-{enum.name}}}", 1)[1].split("\n### ", 1)[0]
        for value in enum.values.values():
            row = next(line for line in section.splitlines() if line.startswith(f"| `{value.name}` |"))
            assert escape(value.label) in row, value.name
            if value.description:
                assert "—" in row
    for line in page.splitlines():
        if line.startswith("|---"):
            assert line.count("---") <= 4, line
    groups = page.split("{#groups}", 1)[1]
    assert '<span id="group-federal_agencies"></span>`federal_agencies`' in groups
    assert '<details class="values"><summary>18 values</summary>`IRS`, `Treasury`' in groups
    assert "| `tax_return`, `information_return`," in page.replace("| `tax_return` |", ""), "short lists unfolded"


def test_long_lists_of_values_are_folded_on_the_rule_pages(bundled_site: docsgen.Site) -> None:
    page = bundled_site.pages["rules/irc-6103-i-2.md"]
    assert (
        "is one of the federal agencies "
        '<details class="values"><summary>list of 18</summary>the Internal Revenue Service, ' in page
    )
    assert "the federal agencies (the Internal Revenue Service" not in page
    assert "one of the Department of Justice and its components (the Department of Justice, " in page, "3: unfolded"


def test_no_scenarios_means_no_worked_examples(mini_dir: Path) -> None:
    site = docsgen.build(disclosure_rules.load(mini_dir), [], day=DAY)
    assert "No scenario tests were found" in site.pages["index.md"]
    assert not any("## Worked examples" in text for text in site.pages.values())


def test_every_rule_and_vocabulary_value_of_the_bundled_rules_is_documented(
    bundled: Rules, bundled_site: docsgen.Site
) -> None:
    pages = bundled_site.pages
    link = Linker(bundled.book)
    everything = "\n".join(pages.values())
    for rid, rule in bundled.book.rules.items():
        page = pages[link.rule(rid)]
        assert f"| Rule | `{rid}` |" in page
        assert escape(heading(rule)) in page
    for rs in bundled.book.rulesets:
        assert any(path.startswith("rulesets/") and rs.title in text for path, text in pages.items())
    vocabulary = bundled.vocabulary
    page = pages["vocabulary.md"]
    for enum in vocabulary.enums.values():
        for value in enum.values.values():
            assert f"`{value.name}`" in page, value.name
    for path in [*vocabulary.fields, *vocabulary.chain_projections, *vocabulary.groups]:
        assert f"`{path}`" in page, path
    for path in vocabulary.facts:
        assert dotted_code(path) in page, path
    for name in bundled.book.definitions:
        assert f"{{#def-{name}}}" in everything, name
    origins = page.split("{#enum-origin}")[1].split("\n### ")[0]
    for origin in vocabulary.groups["tax_sources"].values:
        row = next(line for line in origins.splitlines() if line.startswith(f"| `{origin}` |"))
        assert "[`tax_sources`](#group-tax_sources)" in row, "the origins table says which origins are tax sources"


def test_the_hook_splices_the_generated_pages_into_the_nav(bundled_site: docsgen.Site) -> None:
    pytest.importorskip("mkdocs")
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        # docs/ is not a package: mypy finds `hooks` only when it is given docs/hooks.py too, as [tool.mypy] does.
        import hooks  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "docs"))
    nav = [{"Home": "index.md"}, {"The rules": "generated/index.md"}, {"API": "api.md"}]
    spliced = hooks.splice(nav, "The rules", bundled_site.nav_under("generated/"))
    assert spliced[0] == nav[0] and spliced[2] == nav[2]
    assert spliced[1]["The rules"][0] == {"Overview": "generated/index.md"}


def test_mkdocs_builds_the_site_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "site" / "generated" / "rules" / "irc-6103-i-2" / "index.html").is_file()
    assert (tmp_path / "site" / "generated" / "request.schema.json").is_file()


# -- the command ---------------------------------------------------------------------------------


def docs(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["docs", *argv], stdin=io.BytesIO(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_the_docs_command_writes_and_then_rewrites_only_what_changed(mini_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site-src"
    code, text, err = docs("--out", str(out), "--rules", str(mini_dir), "--date", "2025-12-01")
    assert (code, err) == (EXIT_PERMIT, "")
    assert (out / "rules" / "mini-crime.md").is_file() and (out / "request.schema.json").is_file()
    assert "changed" in text
    (out / "rules" / "stale.md").write_text("an old page")
    code, text, _ = docs("--out", str(out), "--rules", str(mini_dir), "--date", "2025-12-01")
    assert code == EXIT_PERMIT and "(0 changed, 1 removed)" in text
    assert not (out / "rules" / "stale.md").exists()


def test_the_docs_command_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine.md").write_text("mine")
    code, _, err = docs("--out", str(tmp_path))
    assert code == EXIT_USAGE and "not written by `disclosure-rules docs`" in err
    assert (tmp_path / "mine.md").read_text() == "mine"


def test_the_docs_command_wants_a_real_date(tmp_path: Path) -> None:
    code, _, err = docs("--out", str(tmp_path / "x"), "--date", "2025-02-30")
    assert code == EXIT_USAGE and "`2025-02-30`" in err


# -- JSON schemas ---------------------------------------------------------------------------------


def test_the_examples_validate_against_the_request_schema(bundled: Rules) -> None:
    validator = jsonschema.Draft202012Validator(schema.request_schema(bundled.vocabulary))
    checked = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        errors = list(validator.iter_errors(json.loads(path.read_text())))
        if path.name.startswith("invalid-"):
            assert errors, f"{path.name} should not validate"
        else:
            assert not errors, (path.name, [e.message for e in errors])
        checked += 1
    assert checked >= 2


def test_rendered_decisions_validate_against_the_decision_schema(bundled: Rules) -> None:
    decision_schema = schema.decision_schema()
    jsonschema.Draft202012Validator.check_schema(decision_schema)
    assert set(decision_schema["properties"]) == {"line", "id", *DOCUMENT_KEYS}
    validator = jsonschema.Draft202012Validator(decision_schema)
    requests = [
        example("irs-ice-address-request.json"),
        example("irs-ice-address-request-signed-by-assistant-director.json"),
        example("invalid-undeclared-fact.json"),
        {**example("irs-ice-address-request.json"), "facts": {}},
        {**example("irs-ice-address-request.json"), "id": "case-17"},
        {**example("irs-ice-address-request.json"), "id": 17.5},
    ]
    statuses = set()
    for request in requests:
        decision = bundled.check(request)
        statuses.add(decision.status)
        for trace in (True, False):
            document = decision_document(decision, trace=trace)
            assert not list(validator.iter_errors(document)), [e.message for e in validator.iter_errors(document)]
    assert {"permitted", "prohibited", "error", "indeterminate"} <= statuses
    assert json.loads(render_json(bundled.check(requests[0]))) == decision_document(bundled.check(requests[0]))


def test_the_request_schema_follows_the_vocabulary(mini_dir: Path) -> None:
    request_schema = schema.request_schema(disclosure_rules.load(mini_dir).vocabulary)
    jsonschema.Draft202012Validator.check_schema(request_schema)
    validator = jsonschema.Draft202012Validator(request_schema)
    good = {
        "date": "2025-08-07",
        "element": "address",
        "holder": "IRS",
        "origin": "tax_return",
        "recipient": "ICE",
        "purpose": "crime",
        "facts": {"request": {"signed_by": "head", "items": ["name"]}, "consent": None, "count": 3},
        "chain": [{"from": "IRS", "to": "SSA"}],
    }
    assert not list(validator.iter_errors(good))
    for request_id in ("case-17", 17, 1.5, True, None):
        assert not list(validator.iter_errors({**good, "id": request_id}))
    for bad in (
        {**good, "id": [1]},
        {**good, "id": "x" * 1_001},
        {**good, "date": "7 Aug 2025"},
        {**good, "element": "adress"},
        {**good, "extra": 1},
        {**good, "facts": {"request": {"signd_by": "head"}}},
        {**good, "chain": [{"from": "IRS"}]},
    ):
        assert list(validator.iter_errors(bad)), bad


# -- hand-written pages kept in step with the code --------------------------------------------------


def _bnf_of_docstring() -> str:
    from disclosure_rules.language import grammar

    doc = grammar.__doc__ or ""
    block = doc.split("::\n\n", 1)[1]
    return textwrap.dedent(block).strip()


def test_the_language_page_shows_the_grammar_of_the_code() -> None:
    page = (ROOT / "docs" / "language.md").read_text()
    shown = re.search(r"### Grammar\n\n```text\n(.*?)\n```", page, re.S)
    assert shown is not None, "docs/language.md has no ```text block under ### Grammar"
    assert shown.group(1).strip() == _bnf_of_docstring()


def test_every_operator_example_of_the_language_page_type_checks(bundled: Rules) -> None:
    page = (ROOT / "docs" / "language.md").read_text()
    table = page.split("### Operators", 1)[1].split("\n\n", 2)[1]
    operators_seen = set()
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        operators_seen.add(cells[0].strip("`"))
        for text in re.findall(r"`([^`]+)`", cells[-1]):
            _, issues = check_condition(parse_condition(text), bundled.vocabulary, bundled.book.definitions)
            assert not issues, (text, issues)
    expected = {"==", "!=", "<", "<=", ">", ">=", "in", "not in", "overlaps", "within", "includes", "and", "or", "not"}
    assert operators_seen == expected


def test_the_cli_page_documents_every_command_option_and_exit_code() -> None:
    page = (ROOT / "docs" / "cli.md").read_text()
    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert isinstance(commands.choices, dict)  # a subparsers action's: command name to its parser
    for name, sub in commands.choices.items():
        assert f"## `{name}`" in page, name
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in page, (name, option)
    codes = re.findall(r"^(\d+)\s{2,}", disclosure_rules.cli.__doc__ or "", re.M)
    assert codes
    for code in codes:
        assert f"| {code} |" in page, code


def test_the_requests_shown_in_the_docs_are_valid(bundled: Rules) -> None:
    shown = 0
    for page in sorted((ROOT / "docs").glob("*.md")):
        for block in re.findall(r"```json\n(.*?)\n```", page.read_text(), re.S):
            request = json.loads(block)
            if isinstance(request, dict) and "element" in request:
                decision = bundled.check(request)
                assert decision.status != "error", (page.name, [str(e) for e in decision.errors])
                shown += 1
    assert shown >= 2


def _first_column_of_first_table(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    body = itertools.takewhile(lambda line: line.startswith("|"), lines[start + 2 :])
    return [row.split("|")[1].strip().strip("`") for row in body]


def test_the_scenarios_page_documents_every_key_and_its_example_passes(bundled: Rules, tmp_path: Path) -> None:
    page = (ROOT / "docs" / "scenarios.md").read_text()
    sections = {
        "### The file": testing.FILE_KEYS,
        "### A case": testing.CASE_KEYS,
        "### What a case expects": testing.EXPECT_KEYS,
    }
    for section, keys in sections.items():
        documented = _first_column_of_first_table(page.split(section, 1)[1])
        assert documented == list(keys), section
    shown = re.search(r"## An example\n\n```yaml\n(.*?)```", page, re.S)
    assert shown is not None
    path = tmp_path / "example.yaml"
    path.write_text(shown.group(1))
    results = testing.run(bundled, [testing.load_suite(path)])
    assert len(results) >= 4
    assert all(r.passed for r in results), [testing.format_failure(r) for r in results if not r.passed]
