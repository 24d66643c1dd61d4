"""The JSON Schemas of rule, vocabulary and scenario files agree with the loaders that read those files.

Every file the project ships or tests with validates against its schema; each malformed file below is refused
by both the loader (with the code it reports) and the schema.
"""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import disclosure_rules
from disclosure_rules import docsgen, fileschema, testing
from disclosure_rules.cli import EXIT_PERMIT, EXIT_USAGE, main
from disclosure_rules.diagnostics import LoadError
from disclosure_rules.reading.yamlsource import YNode, YScalar, YSeq, parse_yaml
from disclosure_rules.rulebook import loader, vocabloader

from .conftest import MINI_VOCABULARY, ROOT, write_rules
from .test_docs import RULESET as DOCS_RULESET
from .test_docs import SCENARIOS as DOCS_SCENARIOS
from .test_docs import VOCABULARY as DOCS_VOCABULARY

RULE_DIRECTORIES = [
    ROOT / "rules",
    ROOT / "benchmarks" / "policy",
    *sorted(p for p in (ROOT / "tests" / "analysis_fixtures").iterdir() if p.is_dir()),
]


def plain(node: YNode) -> Any:
    """A YAML file as a YAML language server reads it: an unquoted date is text."""
    if isinstance(node, YScalar):
        return node.value.isoformat() if isinstance(node.value, datetime.date) else node.value
    if isinstance(node, YSeq):
        return [plain(item) for item in node.items]
    return {key: plain(value) for key, value in node.items.items()}


def read(text: str, name: str = "file.yaml") -> Any:
    return plain(parse_yaml(name, text))


def validator(name: str) -> jsonschema.Draft7Validator:
    schema = fileschema.FILE_SCHEMAS[name]()
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors(name: str, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(name).iter_errors(data)]


@pytest.mark.parametrize("name", list(fileschema.FILE_SCHEMAS))
def test_each_schema_is_a_valid_draft_07_schema(name: str) -> None:
    schema = fileschema.FILE_SCHEMAS[name]()
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"


@pytest.mark.parametrize("directory", RULE_DIRECTORIES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_rule_file_that_loads_validates(directory: Path) -> None:
    disclosure_rules.load(directory)  # the loader accepts the directory...
    files = sorted(directory.glob("*.yaml"))
    assert files
    for path in files:  # ...and the schemas accept each of its files
        data = read(path.read_text(encoding="utf-8"), str(path))
        kind = "vocabulary" if "vocabulary" in data else "ruleset"
        assert errors(kind, data) == [], path
        assert errors("rule-file", data) == [], path


def test_every_bundled_scenario_file_validates() -> None:
    paths = testing.find_scenario_files([ROOT / "rules" / "tests"])
    assert len(paths) >= 10
    testing.load_suites(paths)
    for path in paths:
        assert errors("scenarios", read(path.read_text(encoding="utf-8"), str(path))) == [], path


def test_the_test_suites_own_rule_files_validate(tmp_path: Path) -> None:
    directory = write_rules(tmp_path / "docs", DOCS_RULESET, vocabulary=DOCS_VOCABULARY)
    disclosure_rules.load(directory)
    assert errors("vocabulary", read(DOCS_VOCABULARY)) == []
    assert errors("vocabulary", read(MINI_VOCABULARY)) == []
    assert errors("ruleset", read(DOCS_RULESET)) == []
    assert errors("scenarios", read(DOCS_SCENARIOS)) == []


# -- malformed files: refused by the loader and by the schema alike -------------------------------------------

RULESET = """\
ruleset: mini
title: A small law
source: Mini Code, 1 U.S.C. § 1
obligations:
  keep-record: {text: Keep a record of the disclosure., citation: 1 U.S.C. § 1(p)}
definitions:
  signed:
    label: the request is signed by the head of the agency
    when: facts.request.signed_by == "head"
rules:
  - id: mini-a
    title: Tax data is confidential
    kind: forbid
    citation: 1 U.S.C. § 1(a)
    when: holder == "IRS"
    reason: The {element} is confidential.
  - id: mini-b
    title: Disclosure for a criminal case
    kind: permit
    citation: 1 U.S.C. § 1(b)
    exception_to: mini-a
    effective: {from: 2025-01-01}
    when:
      - purpose == "crime"
      - signed
    reason: The law lets the IRS give it to {recipient}.
    obligations: [keep-record]
    notes:
      - {text: A reading of the text., source: 1 U.S.C. § 1(b), confidence: high}
    statute:
      - cite: 1 U.S.C. § 1(b)
        text: the Secretary shall disclose, on the signed request of the head of the agency
        encodes: ['purpose == "crime"', signed]
"""

SCENARIOS = """\
scenarios: mini
title: Criminal cases
base: {date: 2025-08-07, element: address, holder: IRS, recipient: ICE, purpose: crime}
cases:
  - name: a signed request
    request: {facts: {request: {signed_by: head}}}
    expect: {decision: permit, rule: mini-b, obligations: [keep-record]}
"""


def _changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BROKEN_RULESETS = [
    ("a misspelt key of a rule", "    reason: The {", "    reasn: x\n    reason: The {", "unknown_key"),
    ("a kind that is not permit or forbid", "kind: forbid", "kind: allow", "unknown_value"),
    ("a rule without a citation", "    citation: 1 U.S.C. § 1(a)\n", "", "missing_citation"),
    ("an effective window with `to`", "{from: 2025-01-01}", "{from: 2025-01-01, to: 2025-02-01}", "unknown_key"),
    ("an empty `when` list", 'when: holder == "IRS"', "when: []", "wrong_type"),
    ("a confidence that is no level", "confidence: high}", "confidence: certain}", "unknown_value"),
    ("a rule id with a space", "id: mini-a", "id: mini a", "bad_name"),
    ("a rule set without a source", "source: Mini Code, 1 U.S.C. § 1\n", "", "missing_key"),
    (
        "a prohibition with obligations",
        "    reason: The {element}",
        "    obligations: [keep-record]\n    reason: The {element}",
        "wrong_type",
    ),
    ("an obligation without a citation", ", citation: 1 U.S.C. § 1(p)}", "}", "missing_citation"),
    ("a definition without a label", "    label: the request is signed by the head of the agency\n", "", "missing_key"),
    ("a title given as a number", "title: Tax data is confidential", "title: 2025", "wrong_type"),
    (
        "a clause not modelled without a confidence",
        "        encodes: ['purpose == \"crime\"', signed]",
        "        encodes: ['purpose == \"crime\"', signed]\n        not_modelled: the rest",
        "missing_confidence",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "code"), [case[1:] for case in BROKEN_RULESETS], ids=[c[0] for c in BROKEN_RULESETS]
)
def test_a_broken_rule_set_is_refused_by_the_loader_and_the_schema(
    tmp_path: Path, old: str, new: str, code: str
) -> None:
    assert errors("ruleset", read(RULESET)) == []
    text = _changed(RULESET, old, new)
    with pytest.raises(LoadError) as refused:
        disclosure_rules.load(write_rules(tmp_path / "rules", text))
    assert code in {d.code for d in refused.value.diagnostics}
    assert errors("ruleset", read(text)), "the schema accepts what the loader refuses"
    assert errors("rule-file", read(text))


BROKEN_VOCABULARIES = [
    (
        "a default on a field",
        "date: {type: date, required: true, label: the date}",
        "date: {type: date, default: 2025-01-01, label: the date}",
        "wrong_type",
    ),
    (
        "a required fact",
        "count: {type: number, label: the count}",
        "count: {type: number, required: true, label: the count}",
        "wrong_type",
    ),
    (
        "a fact's default of another type",
        "presumed: {type: bool, label: presumed, default: false}",
        "presumed: {type: bool, label: presumed, default: maybe}",
        "wrong_type",
    ),
    (
        "nonempty on a value that is not a set",
        "note: {type: text, label: the note}",
        "note: {type: text, nonempty: true, label: the note}",
        "wrong_type",
    ),
    ("a value list named like a type", "  signer:\n", "  bool:\n", "bad_name"),
    (
        "a reserved field name",
        "  purpose: {type: purpose, required: true, label: the purpose}",
        "  purpose: {type: purpose, required: true, label: the purpose}\n  facts: {type: text, label: facts}",
        "bad_name",
    ),
    (
        "a chain key that holds a set",
        "from: {type: agency, label: the sender}",
        "from: {type: set of agency, label: the sender}",
        "wrong_type",
    ),
    ("a fact without a label", "note: {type: text, label: the note}", "note: {type: text}", "missing_key"),
    ("a misspelt top-level key", "groups:\n", "group:\n", "unknown_key"),
    (
        "a value list without values",
        "  signer:\n    label: signer\n    values: {head: the head of the agency, deputy: a deputy}\n",
        "  signer:\n    label: signer\n",
        "missing_key",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "code"), [c[1:] for c in BROKEN_VOCABULARIES], ids=[c[0] for c in BROKEN_VOCABULARIES]
)
def test_a_broken_vocabulary_is_refused_by_the_loader_and_the_schema(
    tmp_path: Path, old: str, new: str, code: str
) -> None:
    disclosure_rules.load(write_rules(tmp_path / "good", RULESET))
    text = _changed(MINI_VOCABULARY, old, new)
    with pytest.raises(LoadError) as refused:
        disclosure_rules.load(write_rules(tmp_path / "rules", RULESET, vocabulary=text))
    assert code in {d.code for d in refused.value.diagnostics}
    assert errors("vocabulary", read(text)), "the schema accepts what the loader refuses"
    assert errors("rule-file", read(text))


BROKEN_SCENARIOS = [
    (
        "a case without expect",
        "    expect: {decision: permit, rule: mini-b, obligations: [keep-record]}\n",
        "",
        "missing_key",
    ),
    ("a misspelt expect key", "{decision: permit,", "{decison: permit,", "unknown_key"),
    ("a misspelt case key", "    request: {facts", "    requst: {facts", "unknown_key"),
    ("a misspelt top-level key", "title: Criminal cases", "titel: Criminal cases", "unknown_key"),
    (
        "cases that are not a list",
        "cases:\n  - name: a signed request",
        "cases:\n  one:\n    name: a signed request",
        "missing_key",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "code"), [c[1:] for c in BROKEN_SCENARIOS], ids=[c[0] for c in BROKEN_SCENARIOS]
)
def test_a_broken_scenario_file_is_refused_by_the_loader_and_the_schema(
    tmp_path: Path, old: str, new: str, code: str
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(SCENARIOS)
    (result,) = testing.run(disclosure_rules.load(write_rules(tmp_path / "rules", RULESET)), [testing.load_suite(good)])
    assert result.passed and errors("scenarios", read(SCENARIOS)) == []
    path = tmp_path / "broken.yaml"
    path.write_text(_changed(SCENARIOS, old, new))
    with pytest.raises(testing.ScenarioError) as refused:
        testing.load_suite(path)
    assert code in {d.code for d in refused.value.diagnostics}
    assert errors("scenarios", read(path.read_text())), "the schema accepts what the loader refuses"


def test_a_file_that_is_neither_vocabulary_nor_rule_set_is_refused() -> None:
    assert errors("rule-file", {"rules": []})
    assert errors("rule-file", ["ruleset"])


# -- the schemas follow the loaders by construction -------------------------------------------------------------


def test_each_mapping_allows_exactly_the_keys_its_loader_reads() -> None:
    ruleset = fileschema.ruleset_schema()
    definitions = ruleset["definitions"]
    assert list(ruleset["properties"]) == list(loader.RULESET_KEYS)
    assert list(definitions["rule"]["properties"]) == list(loader.RULE_KEYS)
    assert list(definitions["definition"]["properties"]) == list(loader.DEFINITION_KEYS)
    assert list(definitions["clause"]["properties"]) == list(loader.CLAUSE_KEYS)
    assert list(definitions["intended"]["properties"]) == list(loader.INTENDED_KEYS)
    vocabulary = fileschema.vocabulary_schema()
    assert list(vocabulary["properties"]) == list(vocabloader.VOCABULARY_KEYS)
    for slot in ("field", "fact", "hop"):
        assert list(vocabulary["definitions"][slot]["properties"]) == list(vocabloader.SLOT_KEYS)
    assert list(vocabulary["definitions"]["group"]["properties"]) == list(vocabloader.GROUP_KEYS)
    scenarios = fileschema.scenarios_schema()
    assert list(scenarios["properties"]) == list(testing.FILE_KEYS)
    assert list(scenarios["definitions"]["case"]["properties"]) == list(testing.CASE_KEYS)
    assert list(scenarios["definitions"]["expect"]["properties"]) == list(testing.EXPECT_KEYS)
    for schema in (ruleset, vocabulary, scenarios):
        for found in _objects(schema):
            assert found.get("additionalProperties") is False


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every schema with `properties` inside ``schema``."""
    found = []
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "properties" in item and item.get("type") == "object":
                found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def test_a_schema_that_forgets_a_loader_key_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="not the loader's"):
        fileschema.strict(("text", "citation"), {"text": fileschema.TEXT})


# -- where they are published -------------------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", ["rule-file", "ruleset", "vocabulary", "scenarios", "request", "decision"])
def test_the_schema_command_prints_each_schema(name: str) -> None:
    code, out, err = run("schema", name)
    assert (code, err) == (EXIT_PERMIT, "")
    schema = json.loads(out)
    assert schema["title"].startswith("disclosure-rules")


def test_the_schema_command_reads_rules_only_for_the_request_schema() -> None:
    code, out, _ = run("schema", "request", "--rules", str(ROOT / "benchmarks" / "policy"))
    assert code == EXIT_PERMIT and json.loads(out)["title"] == "disclosure-rules request"
    code, _, err = run("schema", "ruleset", "--rules", "rules")
    assert code == EXIT_USAGE and "`--rules` goes with `schema request`" in err


def test_the_docs_publish_every_schema_with_a_note_for_editors(bundled: disclosure_rules.Rules) -> None:
    site = docsgen.build(bundled, [], day=datetime.date(2025, 12, 1), docs_prefix="../")
    page = site.pages["schemas.md"]
    for name in fileschema.FILE_SCHEMAS:
        assert json.loads(site.pages[f"{name}.schema.json"]) == fileschema.FILE_SCHEMAS[name]()
        assert f"[`{name}.schema.json`]({name}.schema.json)" in page
    assert "# yaml-language-server: $schema=" in page
    assert '"yaml.schemas"' in page
