"""The decision as a stable JSON document (see ``schemas/decision.schema.json``)."""

from __future__ import annotations

import json
from typing import Any

from ..decisions.decision import Decision

DOCUMENT_KEYS = (
    "decision",
    "status",
    "reason",
    "rule",
    "citations",
    "chain",
    "obligations",
    "missing",
    "unknown_facts",
    "conflicts",
    "provenance",
    "trace",
    "errors",
    "ruleset",
)


def decision_document(decision: Decision, *, trace: bool = True) -> dict[str, Any]:
    """The decision as plain JSON data; keys always appear, in this order (``trace`` only if asked), after the
    request's ``id`` if it gave one."""
    doc: dict[str, Any] = {} if decision.id is None else {"id": decision.id}
    doc |= {
        "decision": decision.decision,
        "status": decision.status,
        "reason": decision.reason,
        "rule": decision.rule,
        "citations": list(decision.citations),
        "chain": [{"rule": c.rule, "kind": c.kind, "citation": c.citation, "title": c.title} for c in decision.chain],
        "obligations": [{"id": o.id, "text": o.text, "citation": o.citation} for o in decision.obligations],
        "missing": [
            {
                "rule": m.rule,
                "title": m.title,
                "citation": m.citation,
                "failed": [
                    {"condition": f.condition, "requirement": f.requirement, "observed": f.observed} for f in m.failed
                ],
            }
            for m in decision.missing
        ],
        "unknown_facts": list(decision.unknown_facts),
        "conflicts": list(decision.conflicts),
        "provenance": [
            {
                "from": h.holder,
                "to": h.recipient,
                "route": h.route,
                "date": h.date,
                "decision": h.decision,
                "status": h.status,
                "rule": h.rule,
                "reason": h.reason,
            }
            for h in decision.provenance
        ],
    }
    if trace:
        doc["trace"] = [
            {"rule": t.rule, "kind": t.kind, "citation": t.citation, "result": t.result, "detail": t.detail}
            for t in decision.trace
        ]
    doc["errors"] = [e.as_dict() for e in decision.errors]
    doc["ruleset"] = (
        {"names": list(decision.ruleset.names), "hash": decision.ruleset.hash} if decision.ruleset else None
    )
    return doc


def render_json(decision: Decision, *, trace: bool = True, indent: int | None = 2) -> str:
    return json.dumps(decision_document(decision, trace=trace), ensure_ascii=False, indent=indent)
