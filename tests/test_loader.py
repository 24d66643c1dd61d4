"""Loading and type checking: each load error, with file:line:column, all collected at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import disclosure_rules
from disclosure_rules import LoadError
from disclosure_rules.language.ast import And, Compare, Group, Ref, Value
from disclosure_rules.language.ast import Path as PathNode

from .conftest import MINI_VOCABULARY, write_rules

GOOD_RULE = """\
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
"""


def load_errors(tmp_path: Path, *rulesets: str, vocabulary: str = MINI_VOCABULARY) -> list[tuple[str, str, int, int]]:
    directory = write_rules(tmp_path / "rules", *rulesets, vocabulary=vocabulary)
    with pytest.raises(LoadError) as caught:
        disclosure_rules.load(directory)
    return [
        (d.code, d.message, d.position.line if d.position else 0, d.position.column if d.position else 0)
        for d in caught.value.diagnostics
    ]


def rule_with(when: str, **extra: str) -> str:
    lines = [
        "ruleset: s",
        "title: T",
        "source: S",
        "rules:",
        "  - id: r1",
        "    title: R",
        "    kind: permit",
        "    citation: C(1)",
        f"    when: {when}",
        "    reason: Yes.",
    ]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def test_a_good_rule_set_loads(tmp_path: Path) -> None:
    rules = disclosure_rules.load(write_rules(tmp_path / "rules", GOOD_RULE))
    rule = rules.book.rules["general"]
    assert rule.kind == "forbid"
    assert rule.condition == Compare(
        "overlaps",
        PathNode("origin", rules.vocabulary.fields["origin"].type),
        Group("tax_sources", frozenset({"tax_return"}), rules.vocabulary.groups["tax_sources"].type),
    )
    assert rules.info.names == ("s",)
    assert rules.info.hash.startswith("sha256:")


def test_unknown_enum_value_points_inside_the_condition(tmp_path: Path) -> None:
    errors = load_errors(tmp_path, rule_with('purpose == "crim"'))
    assert errors == [("unknown_value", "in the rule `r1`: `crim` is not a value of `purpose`", 9, 22)]


def test_unknown_value_suggests_the_close_one(tmp_path: Path) -> None:
    directory = write_rules(tmp_path / "rules", rule_with('purpose == "crme"'))
    with pytest.raises(LoadError) as caught:
        disclosure_rules.load(directory)
    assert caught.value.diagnostics[0].help == "did you mean `crime`?"
    assert "set0.yaml:9:22" in str(caught.value)


def test_unknown_name(tmp_path: Path) -> None:
    errors = load_errors(tmp_path, rule_with("holdr == 'IRS'"))
    assert errors[0][:2] == ("unknown_name", "in the rule `r1`: `holdr` is not a field, fact, group or definition")
    assert errors[0][2:] == (9, 11)


def test_unknown_fact_and_fact_group(tmp_path: Path) -> None:
    errors = load_errors(tmp_path, rule_with("facts.request.signd_by == 'head' and facts.request"))
    codes = [e[1] for e in errors]
    assert "in the rule `r1`: the vocabulary declares no fact `facts.request.signd_by`" in codes
    assert "in the rule `r1`: `facts.request` is a group of facts, not a fact" in codes


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("date == 3", "`==` compares a date with a number"),
        ("holder < 'IRS'", "`<` orders dates and numbers, not a value of `agency`"),
        ("origin in tax_sources", "`in` tests one value, but the left side is a set of `origin`"),
        ("holder in 'IRS'", "`in` needs a set on the right, but this is a string"),
        ("holder overlaps tax_sources", "`overlaps` compares two sets, but the left side is a value of `agency`"),
        ("holder", "a condition must be true or false, but this is a value of `agency`"),
        ("facts.consent and holder", "`and` needs a condition, but this is a value of `agency`"),
        ("'a' == 'b'", "this compares two fixed values"),
        ("origin overlaps ['IRS']", "`IRS` is not a value of `origin`"),
        ("holder == date", "`==` compares a value of `agency` with a date"),
        ("element in tax_sources", "`in` looks for a value of `element` in a set of `origin`"),
        ("chain.date == 2025-01-01", "conditions cannot read `chain.date`"),
    ],
)
def test_type_errors(tmp_path: Path, when: str, message: str) -> None:
    errors = load_errors(tmp_path, rule_with(f'"{when}"'))
    assert f"in the rule `r1`: {message}" in [e[1] for e in errors]


def test_syntax_error_position_in_a_block_condition(tmp_path: Path) -> None:
    text = GOOD_RULE.replace("when: origin overlaps tax_sources", 'when: >\n      holder == "IRS"\n      and = 3')
    errors = load_errors(tmp_path, text)
    assert errors == [("condition_syntax", "in the rule `general`: unexpected `=`", 11, 11)]


def test_list_conditions_report_each_item(tmp_path: Path) -> None:
    text = GOOD_RULE.replace(
        "when: origin overlaps tax_sources", 'when:\n      - holder == "IRX"\n      - purpose == "civl"'
    )
    errors = load_errors(tmp_path, text)
    assert [(e[0], e[2], e[3]) for e in errors] == [("unknown_value", 10, 19), ("unknown_value", 11, 20)]


def test_missing_citation_duplicate_id_unknown_exception_and_all_errors_together(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - id: a
            title: A
            kind: forbid
            when: facts.consent
            reason: r
          - id: b
            title: B
            kind: permit
            citation: C
            exception_to: [nope]
            when: facts.consent
            reason: r
          - id: b
            title: B again
            kind: permit
            citation: C
            when: facts.consent
            reason: r
        """
    )
    errors = load_errors(tmp_path, text)
    assert [(e[0], e[2]) for e in errors] == [("missing_citation", 5), ("unknown_rule", 14), ("duplicate_id", 17)]


def test_exception_cycle(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: a, title: A, kind: forbid, citation: C, when: facts.consent, reason: r, exception_to: c}
          - {id: b, title: B, kind: permit, citation: C, when: facts.consent, reason: r, exception_to: a}
          - {id: c, title: C, kind: forbid, citation: C, when: facts.consent, reason: r, exception_to: b}
          - {id: d, title: D, kind: forbid, citation: C, when: facts.consent, reason: r, exception_to: d}
        """
    )
    errors = load_errors(tmp_path, text)
    assert ("exception_cycle", "exceptions form a cycle: `a` -> `c` -> `b` -> `a`") in [e[:2] for e in errors]
    assert ("exception_cycle", "the rule `d` cannot be an exception to itself") in [e[:2] for e in errors]


def test_definition_cycle_and_references(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        ruleset: s
        title: T
        source: S
        definitions:
          one: {label: one, when: two and facts.consent}
          two: {label: two, when: one}
        rules:
          - {id: a, title: A, kind: forbid, citation: C, when: one, reason: r}
        """
    )
    errors = load_errors(tmp_path, text)
    assert [e[0] for e in errors] == ["definition_cycle"]


def test_definitions_become_references(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        ruleset: s
        title: T
        source: S
        definitions:
          consented: {label: the taxpayer consented, when: facts.consent}
        rules:
          - {id: a, title: A, kind: permit, citation: C, when: consented and holder == "IRS", reason: r}
        """
    )
    rules = disclosure_rules.load(write_rules(tmp_path / "rules", text))
    condition = rules.book.rules["a"].condition
    assert isinstance(condition, And)
    assert condition.operands[0] == Ref("consented")
    second = condition.operands[1]
    assert isinstance(second, Compare) and isinstance(second.right, Value)


HEADER = "ruleset: s\ntitle: T\nsource: S\nrules:\n"


def one_rule(**fields: str) -> str:
    values = {"id": "a", "title": "A", "kind": "permit", "citation": "C", "when": "facts.consent", "reason": "r"}
    values.update(fields)
    return HEADER + "  - " + "\n    ".join(f"{k}: {v}" for k, v in values.items()) + "\n"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (one_rule(kind="allow"), "unknown_value"),
        (one_rule(colour="red"), "unknown_key"),
        (one_rule(effective="{from: 2025-02-01, until: 2025-01-01}"), "empty_window"),
        (one_rule(reason="'the {elemnt}'"), "bad_template"),
        (one_rule(obligations="[nope]"), "unknown_obligation"),
        (one_rule(when="true"), "unconditional_permit"),
        (one_rule(when="[1, 2]"), "wrong_type"),
        (one_rule(citation="!!python/name:os.system C"), "yaml_unsafe_tag"),
        ("nothing: here\n", "unknown_file"),
    ],
)
def test_load_error_codes(tmp_path: Path, text: str, code: str) -> None:
    assert code in [e[0] for e in load_errors(tmp_path, text)]


def test_vocabulary_errors(tmp_path: Path) -> None:
    vocabulary = MINI_VOCABULARY.replace("type: set of origin", "type: set of orign").replace(
        "values: [tax_return]", "values: [tax_retrun]"
    )
    errors = load_errors(tmp_path, GOOD_RULE, vocabulary=vocabulary)
    assert {e[0] for e in errors} >= {"unknown_type", "unknown_value"}


@pytest.mark.parametrize(
    ("declaration", "code"),
    [
        ("{type: bool, label: w, default_when: {fact: request.items, includes: wages}}", "missing_key"),
        ("{type: bool, label: w, default: true, default_when: {fact: request.itemz, includes: wages}}", "unknown_fact"),
        ("{type: bool, label: w, default: true, default_when: {fact: consent, includes: wages}}", "unknown_fact"),
        (
            "{type: bool, label: w, default: true, default_when: {fact: request.items, includes: wagez}}",
            "unknown_value",
        ),
        ("{type: bool, label: w, default: true, default_when: {fact: request.items}}", "missing_key"),
        (
            "{type: bool, label: w, default: true, default_when: {fact: request.items, includes: wages, or: x}}",
            "unknown_key",
        ),
        ("{type: number, label: w, default: 1, default_when: {fact: request.items, includes: wages}}", "wrong_type"),
    ],
)
def test_a_presumption_that_holds_on_another_fact_names_a_set_and_one_of_its_values(
    tmp_path: Path, declaration: str, code: str
) -> None:
    vocabulary = MINI_VOCABULARY + f"  request.wanted: {declaration}\n"
    errors = load_errors(tmp_path, GOOD_RULE, vocabulary=vocabulary)
    assert code in [e[0] for e in errors], errors


def test_no_vocabulary_and_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "s.yaml").write_text(GOOD_RULE)
    with pytest.raises(LoadError, match="no vocabulary"):
        disclosure_rules.load(tmp_path / "only")
    with pytest.raises(LoadError, match="not a directory"):
        disclosure_rules.load(tmp_path / "absent")


def test_a_rule_set_that_does_not_load_is_never_half_used(tmp_path: Path) -> None:
    good_and_bad = GOOD_RULE + "  - {id: bad, title: B, kind: permit, citation: C, when: holdr, reason: r}\n"
    with pytest.raises(LoadError):
        disclosure_rules.load(write_rules(tmp_path / "rules", good_and_bad))


def test_the_bundled_rules_load(bundled: disclosure_rules.Rules) -> None:
    assert "irc-6103-a" in bundled.book.rules
    assert "irc-6103-i-2" in bundled.book.rules
    assert bundled.book.rules["ddc-ctr-2025-11-21"].exception_to == ("irc-6103-i-2", "irc-6103-i-3-a")


def test_an_intended_finding_with_a_rule_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - id: a
            title: A
            kind: permit
            citation: C
            when: facts.consent
            reason: r
            intended:
              - check: conflict
                with: [a, nope]
                why: a typo here would hide nothing, and declare nothing
        """
    )
    errors = load_errors(tmp_path, text)
    assert [(e[0], e[2], e[3]) for e in errors] == [("unknown_rule", 13, 19)]
    assert "`nope`" in errors[0][1]


BUNDLED_RULES = Path(disclosure_rules.__file__).resolve().parent.parent / "rules"
CLAIM = "claims_hop: {from: IRS, to: immigration_enforcement_agencies, routes: routes_under_the_mou}"
AGENCIES = "immigration_enforcement_agencies"


@pytest.mark.parametrize(
    ("claim", "code"),
    [
        (f"claims_hop: {{from: IRZ, to: {AGENCIES}, routes: routes_under_the_mou}}", "unknown_value"),
        (f"claims_hop: {{from: IRS, to: {AGENCIES}, routes: routes_under_the_mouu}}", "unknown_name"),
        # A group of agencies where routes belong, and of routes where agencies belong.
        (f"claims_hop: {{from: IRS, to: {AGENCIES}, routes: federal_agencies}}", "unknown_name"),
        ("claims_hop: {from: IRS, to: routes_under_the_mou, routes: routes_under_the_mou}", "unknown_name"),
        ("claims_hop: {from: IRS, routes: routes_under_the_mou}", "missing_key"),
        (f"claims_hop: {{from: IRS, to: {AGENCIES}, routes: routes_under_the_mou, by: x}}", "unknown_key"),
    ],
)
def test_a_fact_claiming_a_hop_names_a_sender_and_a_group_of_routes(tmp_path: Path, claim: str, code: str) -> None:
    import shutil

    copy = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, copy, ignore=shutil.ignore_patterns("tests"))
    vocabulary = copy / "vocabulary.yaml"
    text = vocabulary.read_text()
    assert CLAIM in text
    vocabulary.write_text(text.replace(CLAIM, claim, 1))
    with pytest.raises(LoadError) as caught:
        disclosure_rules.load(copy)
    assert code in [d.code for d in caught.value.diagnostics], caught.value


def test_the_bundled_memorandum_facts_claim_a_hop_from_the_irs(bundled: disclosure_rules.Rules) -> None:
    for path in ("facts.data.received_under_mou", "facts.request.under_mou"):
        slot = bundled.vocabulary.facts[path]
        assert slot.claims_hop == (
            "IRS",
            frozenset({"DHS", "ICE", "USCIS", "CBP"}),
            frozenset({"6103(i)(2)", "6103(i)(3)", "6103(i)(3)(A)", "6103(m)(2)"}),
        )


@pytest.mark.parametrize(
    ("agreement", "code"),
    [
        ("agrees_with: request.under_mouu", "unknown_fact"),
        ("agrees_with: request.signed_by", "unknown_fact"),  # not a true-or-false fact
        ("agrees_with: data.received_under_mou", "unknown_fact"),  # itself
        ("agrees_with: [request.under_mou]", "wrong_type"),
    ],
)
def test_a_fact_agrees_with_another_true_or_false_fact(tmp_path: Path, agreement: str, code: str) -> None:
    import shutil

    copy = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, copy, ignore=shutil.ignore_patterns("tests"))
    vocabulary = copy / "vocabulary.yaml"
    text = vocabulary.read_text()
    assert "agrees_with: request.under_mou" in text
    vocabulary.write_text(text.replace("agrees_with: request.under_mou", agreement, 1))
    with pytest.raises(LoadError) as caught:
        disclosure_rules.load(copy)
    assert code in [d.code for d in caught.value.diagnostics], caught.value
