"""JSON Schemas of the files authors write: rule sets, vocabularies and scenario files.

An editor with a YAML language server (VS Code's YAML extension, Neovim's yamlls...) reads them to complete keys
and flag mistakes as they are typed. Each mapping's properties are built from the key tuples the loaders check
(``loader.RULE_KEYS``, ``vocabloader.SLOT_KEYS``, ``testing.CASE_KEYS``...), so a key the loader accepts is
never unknown to the schema, and every mapping refuses other keys, as the loader does. A key the loader reads
but refuses in one place (``default`` outside ``facts``) is ``false`` there.

The loader stays the authority. A schema sees a file one at a time and as a YAML language server reads it, so
it cannot check names across files (an ``exception_to`` that exists, a type that names a declared value list),
the conditions' grammar, or a date written in quotes, which the loader refuses and an editor reads as the same
text. Written for JSON Schema draft-07, the newest draft that YAML language servers implement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .decisions.decision import STATUSES
from .language.valuetypes import SCALAR_KINDS
from .rulebook.loader import (
    CLAUSE_KEYS,
    DEFINITION_KEYS,
    EFFECTIVE_KEYS,
    ID_PATTERN,
    INTENDED_KEYS,
    NOTE_KEYS,
    OBLIGATION_KEYS,
    RULE_KEYS,
    RULE_KINDS,
    RULESET_KEYS,
)
from .rulebook.model import ANALYSIS_CHECKS, CONFIDENCE_LEVELS
from .rulebook.vocabloader import (
    CLAIM_KEYS,
    ENUM_KEYS,
    ENUM_VALUE_KEYS,
    GROUP_KEYS,
    NAME_PATTERN,
    PATH_PATTERN,
    RESERVED_FIELDS,
    SLOT_KEYS,
    VOCABULARY_KEYS,
    WHEN_KEYS,
)
from .rulebook.vocabulary import RECEIVED_UNDER
from .testing import CASE_KEYS, EXPECT_KEYS, FILE_KEYS

DRAFT = "http://json-schema.org/draft-07/schema#"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

Schema = dict[str, Any]

TEXT: Schema = {"type": "string", "pattern": r"\S"}
"""Text with something in it: the loader refuses an empty or blank value, and a number or a date where text
is wanted (put it in quotes)."""
DATE: Schema = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
STRINGS: Schema = {"type": "array", "items": {"type": "string"}}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/definitions/{name}"}


def _described(description: str, schema: Schema | bool) -> Schema | bool:
    if isinstance(schema, bool):
        return schema
    return {"description": description, **schema}


def strict(keys: Sequence[str], properties: Mapping[str, Schema | bool], required: Sequence[str] = ()) -> Schema:
    """An object with exactly the loader's ``keys``, in their order, and no other.

    ``properties`` must give a schema for each key, and only for those: a loader that learns a key makes this
    raise until the schema knows it too."""
    if set(properties) != set(keys):
        raise ValueError(f"schema keys {sorted(properties)} are not the loader's {sorted(keys)}")
    return {
        "type": "object",
        "additionalProperties": False,
        **({"required": list(required)} if required else {}),
        "properties": {key: properties[key] for key in keys},
    }


def _one_or_list(item: Schema) -> Schema:
    return {"anyOf": [item, {"type": "array", "items": item}]}


def _names(pattern: str, reserved: Sequence[str] = ()) -> Schema:
    names: Schema = {"pattern": pattern}
    if reserved:
        names["not"] = {"enum": list(reserved)}
    return names


def _map_of(names: Schema, value: Schema) -> Schema:
    return {"type": "object", "propertyNames": names, "additionalProperties": value}


# -- rule sets ----------------------------------------------------------------------------------------------


def _condition() -> Schema:
    one = {"anyOf": [TEXT, {"type": "boolean"}]}
    return {
        "description": "A condition, or a list of conditions that must all hold (each reported on its own when "
        "a permit fails).",
        "anyOf": [one, {"type": "array", "items": one, "minItems": 1}],
    }


def _note() -> Schema:
    note = strict(
        NOTE_KEYS,
        {
            "text": TEXT,
            "source": _described("The statute, regulation, opinion or report the reading rests on.", TEXT),
            "confidence": {"enum": list(CONFIDENCE_LEVELS)},
        },
        required=["text"],
    )
    return {"anyOf": [{"type": "string"}, note]}


def _clause() -> Schema:
    clause = strict(
        CLAUSE_KEYS,
        {
            "cite": _described("The clause's pinpoint citation.", TEXT),
            "text": _described("The clause's operative text, quoted.", TEXT),
            "encodes": _described("The parts of the condition that encode the clause, as written.", _texts()),
            "not_modelled": _described("Why the condition does not carry the clause, and what it does instead.", TEXT),
            "confidence": {"enum": list(CONFIDENCE_LEVELS)},
        },
        required=["cite", "text"],
    )
    return {**clause, "dependencies": {"not_modelled": ["confidence"]}}


def _texts() -> Schema:
    return _one_or_list(TEXT)


def _rule() -> Schema:
    rule = strict(
        RULE_KEYS,
        {
            "id": _described("Unique across every rule set.", {"type": "string", "pattern": ID_PATTERN.pattern}),
            "title": TEXT,
            "kind": {"enum": list(RULE_KINDS)},
            "citation": _described("The pinpoint citation, e.g. 26 U.S.C. § 6103(i)(2).", TEXT),
            "when": _condition(),
            "exception_to": _described("The id of the rule this is an exception to, or a list of ids.", _texts()),
            "effective": _described(
                "When the rule is in force; both ends inclusive, either may be left out.",
                strict(EFFECTIVE_KEYS, {"from": DATE, "until": DATE}),
            ),
            "reason": _described("The decision's reason; {path} quotes a value of the request.", TEXT),
            "obligations": _described("Ids of obligations declared under `obligations:` (permits only).", _texts()),
            "notes": _one_or_list(_ref("note")),
            "grants": _described("The chain hop `route` a disclosure this rule permits is made under.", TEXT),
            "statute": {"type": "array", "items": _ref("clause")},
            "intended": {"type": "array", "items": _ref("intended")},
        },
        required=["id", "title", "kind", "citation", "when", "reason"],
    )
    # A prohibition carries no obligations and grants no route.
    forbids = {"properties": {"kind": {"const": "forbid"}}, "required": ["kind"]}
    then = {"properties": {"obligations": {"type": "array", "maxItems": 0}, "grants": False}}
    return {**rule, "if": forbids, "then": then}


def _definition() -> Schema:
    return strict(
        DEFINITION_KEYS,
        {
            "label": _described("The condition as a statement, for explanations.", TEXT),
            "must": _described("The condition as a requirement, for what a failed permit is missing.", TEXT),
            "negated": _described("The condition's negation.", TEXT),
            "citation": TEXT,
            "when": _condition(),
            "notes": _one_or_list(_ref("note")),
            "description": TEXT,
            "statute": {"type": "array", "items": _ref("clause")},
        },
        required=["label", "when"],
    )


def _intended() -> Schema:
    return strict(
        INTENDED_KEYS,
        {
            "check": {"enum": list(ANALYSIS_CHECKS)},
            "with": _described(
                "The other rule of the finding, or a list of rules sharing one reason.",
                {"oneOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1}]},
            ),
            "path": TEXT,
            "why": TEXT,
        },
        required=["check", "why"],
    )


def _ruleset_file() -> Schema:
    root = strict(
        RULESET_KEYS,
        {
            "ruleset": _described("The rule set's name, unique in the rule directory.", TEXT),
            "title": TEXT,
            "source": _described("The source of law, e.g. Internal Revenue Code, 26 U.S.C. § 6103.", TEXT),
            "url": TEXT,
            "description": TEXT,
            "definitions": _map_of(_names(NAME_PATTERN.pattern), _ref("definition")),
            "obligations": _map_of(
                _names(ID_PATTERN.pattern),
                strict(OBLIGATION_KEYS, {"text": TEXT, "citation": TEXT}, required=["text", "citation"]),
            ),
            "rules": {"type": "array", "items": _ref("rule")},
        },
        required=["ruleset", "title", "source"],
    )
    return {**root, "anyOf": [{"required": ["rules"]}, {"required": ["definitions"]}, {"required": ["obligations"]}]}


RULESET_DEFINITIONS = {
    "rule": _rule,
    "definition": _definition,
    "note": _note,
    "clause": _clause,
    "intended": _intended,
}


# -- vocabularies -------------------------------------------------------------------------------------------

_WORD = r"[A-Za-z_][A-Za-z0-9_]*"
_ONE_TYPE = rf"^\s*{_WORD}\s*$"
_SET_TYPE = rf"^\s*set\s+of\s+{_WORD}\s*$"


def _type(sets: bool) -> Schema:
    kinds = ", ".join(SCALAR_KINDS)
    if not sets:
        return {"description": f"{kinds}, or the name of a value list.", "type": "string", "pattern": _ONE_TYPE}
    return {
        "description": f"{kinds}, the name of a value list, or `set of` a value list.",
        "type": "string",
        "pattern": f"{_ONE_TYPE}|{_SET_TYPE}",
    }


def _typed_default() -> list[Schema]:
    """A fact's default has its type: one rule per kind of type (a value list's default is one of its values)."""

    def when_type(pattern: str, default: Schema | bool) -> Schema:
        return {
            "if": {"properties": {"type": {"pattern": pattern}}, "required": ["type"]},
            "then": {"properties": {"default": default}},
        }

    rules = [
        when_type(r"^\s*bool\s*$", {"type": "boolean"}),
        when_type(r"^\s*number\s*$", {"type": "number"}),
        when_type(r"^\s*date\s*$", DATE),
        when_type(_SET_TYPE, False),  # a set has no default
    ]
    other = {"not": {"pattern": rf"^\s*(bool|number|date)\s*$|{_SET_TYPE}"}}
    rules.append(
        {
            "if": {"properties": {"type": other}, "required": ["type"]},
            "then": {"properties": {"default": {"type": "string"}}},
        }
    )
    return rules


def _slot(section: str) -> Schema:
    """A field, a fact or a chain hop key: what each may declare differs, the keys do not."""
    nonempty: Schema | bool = {"type": "boolean"} if section != "chain" else {"const": False}
    required: Schema = {"const": False} if section == "facts" else {"type": "boolean"}
    # Only a fact may have a default (its type's rule is below); `false` refuses the key anywhere else.
    default: Schema | bool = section == "facts"
    slot = strict(
        SLOT_KEYS,
        {
            "type": _type(sets=section != "chain"),
            "label": _described("What the value is, as a phrase: the data element, the recipient...", TEXT),
            "description": TEXT,
            "required": _described("Whether every request must give it (fields only).", required),
            "must": _described("The fact as a requirement, for what a failed permit is missing.", TEXT),
            "negated": _described("The fact's negation, for explanations.", TEXT),
            "default": _described("What the law presumes until a request says otherwise (facts only).", default),
            "default_when": _described(
                "When the default holds: only if the request's set at another fact includes a value (facts only).",
                strict(WHEN_KEYS, {"fact": TEXT, "includes": TEXT}, required=list(WHEN_KEYS))
                if section == "facts"
                else False,
            ),
            "nonempty": _described("A set that must not be empty when given.", nonempty),
            "agrees_with": _described(
                "Another true-or-false fact that says the same thing: a request stating the two differently is "
                "refused (facts only).",
                TEXT if section == "facts" else False,
            ),
            "claims_hop": _described(
                "Stated true, the fact says the data came from `from` to an agency of the group `to` under a "
                "route of the group `routes`: a request whose holder is in `to` and whose chain shows no such "
                "hop is refused (facts only).",
                strict(CLAIM_KEYS, {"from": TEXT, "to": TEXT, "routes": TEXT}, required=list(CLAIM_KEYS))
                if section == "facts"
                else False,
            ),
        },
        required=["type", "label"],
    )
    # Only a set can be declared nonempty.
    rules: list[Schema] = [
        {
            "if": {"properties": {"nonempty": {"const": True}}, "required": ["nonempty"]},
            "then": {"properties": {"type": {"pattern": _SET_TYPE}}},
        }
    ]
    if section == "facts":
        rules += _typed_default()
    return {**slot, "allOf": rules}


def _enum() -> Schema:
    value = {
        "anyOf": [
            _described("The value's label.", {"type": "string"}),
            strict(ENUM_VALUE_KEYS, {"label": TEXT, "description": TEXT}, required=["label"]),
        ]
    }
    return strict(
        ENUM_KEYS,
        {"label": TEXT, "description": TEXT, "values": {"type": "object", "additionalProperties": value}},
        required=["values"],
    )


def _group() -> Schema:
    return strict(
        GROUP_KEYS,
        {
            "of": _described("The value list the group's values belong to.", {"type": "string", "pattern": _ONE_TYPE}),
            "label": TEXT,
            "description": TEXT,
            "values": _texts(),
        },
        required=["of", "label"],
    )


def _vocabulary_file() -> Schema:
    name = NAME_PATTERN.pattern
    return strict(
        VOCABULARY_KEYS,
        {
            "vocabulary": _described("The vocabulary's name.", TEXT),
            "title": TEXT,
            "description": TEXT,
            "enums": _described("Value lists, by name.", _map_of(_names(name, [*SCALAR_KINDS, "set"]), _ref("enum"))),
            "groups": _described("Named sets of values of one list.", _map_of(_names(name), _ref("group"))),
            "fields": _described(
                "The top-level keys of a request.", _map_of(_names(name, RESERVED_FIELDS), _ref("field"))
            ),
            "facts": _described(
                "Dotted names read as facts.NAME, nested under `facts` in a request.",
                _map_of(_names(PATH_PATTERN.pattern), _ref("fact")),
            ),
            "chain": _described(
                "The keys of one hop of the chain of earlier disclosures.",
                _map_of(_names(name, [RECEIVED_UNDER.removeprefix("chain.")]), _ref("hop")),
            ),
            "disclosure": _described("A disclosure in words, for reasons; {path} quotes a request value.", TEXT),
        },
        required=["vocabulary"],
    )


VOCABULARY_DEFINITIONS = {
    "enum": _enum,
    "group": _group,
    "field": lambda: _slot("fields"),
    "fact": lambda: _slot("facts"),
    "hop": lambda: _slot("chain"),
}


# -- scenario files -----------------------------------------------------------------------------------------


def _expect() -> Schema:
    nullable_strings: Schema = {"type": ["array", "null"], "items": {"type": "string"}}
    return strict(
        EXPECT_KEYS,
        {
            "decision": {"enum": ["permit", "deny"]},
            "status": {"enum": list(STATUSES)},
            "rule": _described("The controlling rule's id (null: none).", {"type": ["string", "null"]}),
            "citation": _described("One of the decision's citations.", {"type": "string"}),
            "chain": _described("The rule ids from the general rule down to the controlling one, in order.", STRINGS),
            "obligations": _described("Exactly these obligation ids, in any order.", nullable_strings),
            "missing": _described(
                "For each rule, exactly these failed conditions; null: the rule is not offered as a route.",
                {"type": ["object", "null"], "additionalProperties": nullable_strings},
            ),
            "unknown_facts": _described("Exactly these unknown facts, in any order.", nullable_strings),
            "conflicts": _described("Exactly these conflicts, in any order.", nullable_strings),
            "reason_contains": _described("Text the reason contains.", {"type": "string"}),
            "error": _described("The code of the first error (null: no error).", {"type": ["string", "null"]}),
        },
    )


def _case() -> Schema:
    return strict(
        CASE_KEYS,
        {
            "name": _described("Names the test: keep it unique in the file.", {"type": "string"}),
            "description": {"type": "string"},
            "base": _described("One of the file's `bases` to start from, instead of `base`.", {"type": "string"}),
            "request": _described(
                "Merged over the starting point: mappings merge, null removes a key, anything else replaces.",
                {"type": "object"},
            ),
            "expect": _ref("expect"),
        },
        required=["name", "expect"],
    )


def _scenario_file() -> Schema:
    request = _described("A request, as in JSON (dates may be written unquoted).", {"type": "object"})
    return strict(
        FILE_KEYS,
        {
            "scenarios": _described("The suite's name; a test's id is `<name>: <case name>`.", {"type": "string"}),
            "title": {"type": "string"},
            "description": {"type": "string"},
            "base": _described("The request every case starts from.", request),
            "bases": _described(
                "Other named starting points, each a whole request.",
                {"type": "object", "additionalProperties": request},
            ),
            "cases": {"type": "array", "items": _ref("case")},
        },
        required=["scenarios", "cases"],
    )


SCENARIO_DEFINITIONS = {"case": _case, "expect": _expect}


# -- the schemas --------------------------------------------------------------------------------------------


def _document(title: str, description: str, root: Schema, definitions: Mapping[str, Any]) -> Schema:
    return {
        "$schema": DRAFT,
        "title": title,
        "description": description,
        **root,
        "definitions": {name: build() for name, build in definitions.items()},
    }


def ruleset_schema() -> Schema:
    """The JSON Schema of a rule-set file (top-level key ``ruleset``)."""
    return _document(
        "disclosure-rules rule set",
        "A rule-set file of a rule directory: its rules, definitions and obligations.",
        _ruleset_file(),
        RULESET_DEFINITIONS,
    )


def vocabulary_schema() -> Schema:
    """The JSON Schema of a vocabulary file (top-level key ``vocabulary``)."""
    return _document(
        "disclosure-rules vocabulary",
        "A vocabulary file of a rule directory: the value lists, groups, fields, facts and chain keys.",
        _vocabulary_file(),
        VOCABULARY_DEFINITIONS,
    )


def rule_file_schema() -> Schema:
    """Either file of a rule directory, told apart as the loader does: by a top-level ``vocabulary`` key."""
    root = {
        "if": {"type": "object", "required": ["vocabulary"]},
        "then": _ref("vocabulary_file"),
        "else": _ref("ruleset_file"),
    }
    definitions = {
        "vocabulary_file": _vocabulary_file,
        "ruleset_file": _ruleset_file,
        **VOCABULARY_DEFINITIONS,
        **RULESET_DEFINITIONS,
    }
    return _document(
        "disclosure-rules rule file",
        "A file of a rule directory: a vocabulary (`vocabulary:`) or a rule set (`ruleset:`).",
        root,
        definitions,
    )


def scenarios_schema() -> Schema:
    """The JSON Schema of a scenario file (top-level key ``scenarios``)."""
    return _document(
        "disclosure-rules scenarios",
        "A scenario file: requests and the decisions the law requires.",
        _scenario_file(),
        SCENARIO_DEFINITIONS,
    )


FILE_SCHEMAS = {
    "rule-file": rule_file_schema,
    "ruleset": ruleset_schema,
    "vocabulary": vocabulary_schema,
    "scenarios": scenarios_schema,
}
"""Each schema of an author's file, by the name of its file (``<name>.schema.json``)."""


def dumps(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
