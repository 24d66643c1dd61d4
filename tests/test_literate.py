"""Literate law (issue 14): each rule quotes the clauses of the law it encodes, and `validate` checks the mapping."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import disclosure_rules
from disclosure_rules import LoadError, cli, docsgen, testing
from disclosure_rules.rulebook import literate

from .conftest import write_rules

RULESET = """\
ruleset: s
title: T
source: S
rules:
  - id: general
    title: General rule
    kind: forbid
    citation: C(a)
    when: origin overlaps tax_sources
    reason: No.
    statute:
      - cite: C(a)
        text: Returns shall be confidential.
        encodes: [origin overlaps tax_sources]
  - id: crime
    title: Crime
    kind: permit
    citation: C(i)
    exception_to: general
    when:
      - holder == "IRS"
      - purpose == "crime"
      - facts.request.signed_by == "head"
    reason: Yes.
    statute:
{clauses}
"""

FULL = """\
      - cite: C(i)(A)
        text: The Secretary shall disclose
        encodes: ['holder   ==  "IRS"', purpose == "crime"]
      - cite: C(i)(B)
        text: on the request of the head of the agency,
        encodes: [facts.request.signed_by == "head"]
      - cite: C(i)(C)
        text: and after consulting the stars.
        not_modelled: No fact says whether the stars were consulted; the rules do not ask it.
        confidence: low
"""


def _dir(tmp_path: Path, clauses: str) -> Path:
    return write_rules(tmp_path / "rules", RULESET.replace("{clauses}", clauses.rstrip("\n")))


def test_clauses_load_and_map_to_the_parts_of_the_condition(tmp_path: Path) -> None:
    rules = disclosure_rules.load(_dir(tmp_path, FULL))
    statute = rules.book.rules["crime"].statute
    assert [c.cite for c in statute] == ["C(i)(A)", "C(i)(B)", "C(i)(C)"]
    # Entries are matched after parsing, and stored in canonical form.
    assert statute[0].encodes == ('holder == "IRS"', 'purpose == "crime"')
    assert statute[2].not_modelled and statute[2].confidence == "low"
    assert literate.check(rules.book) == []


def test_an_encodes_entry_that_is_no_part_of_the_condition_is_a_positioned_load_error(tmp_path: Path) -> None:
    clauses = FULL.replace('facts.request.signed_by == "head"]', 'facts.request.signed_by == "deputy"]')
    with pytest.raises(LoadError) as caught:
        disclosure_rules.load(_dir(tmp_path, clauses))
    [d] = caught.value.diagnostics
    assert d.code == "unknown_unit" and d.position is not None and d.position.line > 1
    assert "no part of its condition" in d.message


def test_a_not_modelled_note_needs_a_confidence(tmp_path: Path) -> None:
    clauses = FULL.replace("        confidence: low\n", "")
    with pytest.raises(LoadError) as caught:
        disclosure_rules.load(_dir(tmp_path, clauses))
    assert [d.code for d in caught.value.diagnostics] == ["missing_confidence"]


def test_the_check_reports_law_with_no_code_and_code_with_no_law(tmp_path: Path) -> None:
    clauses = """\
      - cite: C(i)(A)
        text: The Secretary shall disclose
        encodes: [holder == "IRS", purpose == "crime"]
      - cite: C(i)(B)
        text: on the request of the head of the agency.
"""
    rules = disclosure_rules.load(_dir(tmp_path, clauses))
    found = literate.check(rules.book)
    assert [(f.code, f.subject) for f in found] == [("unmapped_clause", "crime"), ("unmapped_condition", "crime")]
    assert 'facts.request.signed_by == "head"' in found[1].message
    assert str(found[0]).startswith(str(rules.book.rules["crime"].statute[1].position))


def test_a_rule_without_statute_is_reported(tmp_path: Path) -> None:
    text = RULESET.replace("{clauses}", FULL.rstrip("\n")).replace(
        "    statute:\n      - cite: C(a)\n        text: Returns shall be confidential.\n"
        "        encodes: [origin overlaps tax_sources]\n",
        "",
    )
    rules = disclosure_rules.load(write_rules(tmp_path / "rules", text))
    assert [(f.code, f.subject) for f in literate.check(rules.book)] == [("no_statute", "general")]


def test_validate_exit_codes(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["validate", str(_dir(tmp_path / "good", FULL))], stdout=out, stderr=err) == 0
    assert "every clause is mapped" in out.getvalue()
    gap = FULL.replace('        encodes: [facts.request.signed_by == "head"]\n', "")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["validate", str(_dir(tmp_path / "gap", gap))], stdout=out, stderr=err) == cli.EXIT_LAW_GAPS
    assert "unmapped_clause" in err.getvalue() and "unmapped_condition" in err.getvalue()
    broken = FULL.replace("[facts.request.signed_by", "[facts.request.signd_by")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["validate", str(_dir(tmp_path / "bad", broken))], stdout=out, stderr=err) == cli.EXIT_RULES


def test_the_rule_page_shows_each_clause_beside_its_conditions_and_tests(tmp_path: Path) -> None:
    directory = _dir(tmp_path, FULL)
    (directory / "tests").mkdir()
    (directory / "tests" / "crime.yaml").write_text(
        """\
scenarios: crime
title: Crime
base: {date: 2025-08-07, element: address, holder: IRS, origin: [tax_return], recipient: ICE, purpose: crime,
       facts: {request: {signed_by: head}}}
cases:
  - name: signed by the head
    expect: {decision: permit}
  - name: signed by a deputy
    request: {facts: {request: {signed_by: deputy}}}
    expect: {decision: deny}
"""
    )
    rules = disclosure_rules.load(directory)
    site = docsgen.build(rules, testing.load_suites([directory / "tests"]))
    page = site.pages["rules/crime.md"]
    assert "## The law beside the rule" in page
    row = next(line for line in page.splitlines() if "C(i)(B)" in line and line.startswith("|"))
    assert "on the request of the head of the agency" in row and "fails alone in: signed by a deputy" in row
    assert "*Not modelled* (confidence: **low**)" in page
    assert "The whole condition held in 1 scenario: signed by the head." in page


def test_the_bundled_law_has_no_gap() -> None:
    found = literate.check(disclosure_rules.load().book)
    assert found == [], "\n".join(str(f) for f in found)
