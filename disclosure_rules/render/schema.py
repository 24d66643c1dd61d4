"""JSON Schemas of the request (built from the vocabulary) and of the decision document.

The request schema says what :class:`~disclosure_rules.intake.request.RequestReader` accepts: the
fields, the nested ``facts`` and the ``chain`` hops, every enumeration as an ``enum``, dates as
``YYYY-MM-DD`` strings, nothing undeclared (``additionalProperties: false``), and ``null`` where
the reader takes ``null`` for "not stated". The reader stays the authority (it also rejects
impossible dates such as 2025-02-30); the schema lets other tools check and complete requests.
The decision schema describes :func:`~disclosure_rules.render.json.decision_document`.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from ..decisions.decision import STATUSES, TraceResult
from ..intake.request import MAX_CHAIN_HOPS, MAX_ID_CHARS, MAX_SET_ITEMS, MAX_TEXT_CHARS, REQUEST_ID, request_keys
from ..language.valuetypes import Type
from ..rulebook.vocabulary import Slot, Vocabulary, fact_tree
from .json import DOCUMENT_KEYS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NULL = {"type": "null"}


def _value_schema(vocabulary: Vocabulary, type_: Type) -> dict[str, Any]:
    if type_.kind == "enum":
        return {"enum": list(vocabulary.enums[type_.enum or ""].values)}
    if type_.kind == "set":
        one = {"enum": list(vocabulary.enums[type_.enum or ""].values)}
        return {"anyOf": [one, {"type": "array", "items": one, "maxItems": MAX_SET_ITEMS}]}
    if type_.kind == "bool":
        return {"type": "boolean"}
    if type_.kind == "number":
        return {"type": "number"}
    if type_.kind == "date":
        return {"type": "string", "pattern": DATE_PATTERN, "format": "date"}
    return {"type": "string", "maxLength": MAX_TEXT_CHARS}


def _slot_schema(vocabulary: Vocabulary, slot: Slot, nullable: bool) -> dict[str, Any]:
    value = _value_schema(vocabulary, slot.type)
    schema: dict[str, Any] = {"anyOf": [value, NULL]} if nullable else value
    described = slot.label + (f". {slot.description.strip()}" if slot.description else "")
    return {"description": described, **schema}


def _facts_schema(vocabulary: Vocabulary) -> dict[str, Any]:
    def build(node: dict[str, Any]) -> dict[str, Any]:
        properties = {
            key: _slot_schema(vocabulary, child, True) if isinstance(child, Slot) else build(child)
            for key, child in node.items()
        }
        return {"type": ["object", "null"], "additionalProperties": False, "properties": properties}

    return build(fact_tree(vocabulary.facts))


def request_schema(vocabulary: Vocabulary) -> dict[str, Any]:
    """The JSON Schema of a request under ``vocabulary``."""
    properties: dict[str, Any] = {
        name: _slot_schema(vocabulary, slot, not slot.required) for name, slot in vocabulary.fields.items()
    }
    facts = _facts_schema(vocabulary)
    facts["description"] = "The facts the rules read, nested by the parts of their names; a fact left out is unknown."
    properties["facts"] = facts
    if "chain" in request_keys(vocabulary):
        hop = {
            "type": "object",
            "additionalProperties": False,
            "required": list(vocabulary.hop),
            "properties": {key: _slot_schema(vocabulary, slot, False) for key, slot in vocabulary.hop.items()},
        }
        properties["chain"] = {
            "description": "The earlier disclosures the data went through, one hop each.",
            "type": ["array", "null"],
            "maxItems": MAX_CHAIN_HOPS,
            "items": hop,
        }
    properties[REQUEST_ID] = {
        "description": "The request's own identifier, echoed in its decision; it never decides anything.",
        "anyOf": [{"type": "string", "maxLength": MAX_ID_CHARS}, {"type": ["number", "boolean", "null"]}],
    }
    return {
        "$schema": DRAFT,
        "title": "disclosure-rules request",
        "description": "May this data be disclosed? Vocabulary: " + ", ".join(vocabulary.names) + ".",
        "type": "object",
        "additionalProperties": False,
        "required": [name for name, slot in vocabulary.fields.items() if slot.required],
        "properties": properties,
    }


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties) if required is None else required,
        "properties": properties,
    }


STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}


def decision_schema() -> dict[str, Any]:
    """The JSON Schema of the decision document that ``check --format json`` and ``--jsonl`` print."""
    kind = {"enum": ["permit", "forbid"]}
    error = _object(
        {
            "code": STRING,
            "message": STRING,
            "file": STRING,
            "line": {"type": "integer"},
            "column": {"type": "integer"},
            "path": STRING,
            "help": STRING,
        },
        ["code", "message"],
    )
    properties: dict[str, Any] = {
        "line": {
            "type": "integer",
            "minimum": 1,
            "description": "Only in JSON Lines mode, on the record of a line that could not be decided.",
        },
        "id": {
            "type": ["string", "number", "boolean"],
            "description": "The request's own `id`, echoed; only when the request gave one.",
        },
        "decision": {"enum": ["permit", "deny"]},
        "status": {"enum": list(STATUSES)},
        "reason": STRING,
        "rule": {"type": ["string", "null"], "description": "The controlling rule."},
        "citations": STRINGS,
        "chain": {
            "type": "array",
            "items": _object({"rule": STRING, "kind": kind, "citation": STRING, "title": STRING}),
        },
        "obligations": {"type": "array", "items": _object({"id": STRING, "text": STRING, "citation": STRING})},
        "missing": {
            "type": "array",
            "items": _object(
                {
                    "rule": STRING,
                    "title": STRING,
                    "citation": STRING,
                    "failed": {
                        "type": "array",
                        "items": _object({"condition": STRING, "requirement": STRING, "observed": STRING}),
                    },
                }
            ),
        },
        "unknown_facts": STRINGS,
        "conflicts": STRINGS,
        "provenance": {
            "type": "array",
            "description": "How the holder received the data: the chain's hop into it, decided as a disclosure of "
            "its own on its date, then the hops before it.",
            "items": _object(
                {
                    "from": STRING,
                    "to": STRING,
                    "route": STRING,
                    "date": STRING,
                    "decision": {"enum": ["permit", "deny"]},
                    "status": {"enum": list(STATUSES)},
                    "rule": {"type": ["string", "null"]},
                    "reason": STRING,
                }
            ),
        },
        "trace": {
            "type": "array",
            "items": _object(
                {
                    "rule": STRING,
                    "kind": kind,
                    "citation": STRING,
                    "result": {"enum": list(get_args(TraceResult))},
                    "detail": STRING,
                }
            ),
        },
        "errors": {"type": "array", "items": error},
        "ruleset": {
            "anyOf": [_object({"names": STRINGS, "hash": STRING}), NULL],
            "description": "The rule sets that decided and a content hash of their files.",
        },
    }
    return {
        "$schema": DRAFT,
        "title": "disclosure-rules decision",
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in DOCUMENT_KEYS if k != "trace"],
        "properties": properties,
    }


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
