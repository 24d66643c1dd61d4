"""A request and a decision in words, for the worked examples of the rule documentation."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from typing import Any

from ..decisions.decision import Decision
from ..decisions.english import Phraser
from ..intake.request import RequestReader
from ..rulebook.vocabulary import Slot, Vocabulary
from .markdown import code, escape, folded_list, prose

_STATUS_WORDS = {
    "permitted": "permitted",
    "prohibited": "prohibited",
    "no_authority": "no authority",
    "indeterminate": "indeterminate (facts missing)",
    "error": "error",
}


def status_words(status: str) -> str:
    return _STATUS_WORDS.get(status, status.replace("_", " "))


class Words:
    """Says requests and values in plain words with the vocabulary's labels."""

    def __init__(self, vocabulary: Vocabulary, phraser: Phraser) -> None:
        self.vocabulary = vocabulary
        self.phraser = phraser
        self.reader = RequestReader(vocabulary)

    def value(self, slot: Slot, value: object) -> str:
        if isinstance(value, frozenset):
            return self.phraser.value_list(slot.type, value, "and") if value else "none"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, datetime.date):
            return value.isoformat()
        return self.phraser.value(slot.type, value)

    def fact(self, slot: Slot, value: object) -> str:
        if slot.type.kind == "bool" and isinstance(value, bool):
            if value:
                return slot.label
            return slot.negated or f"it is not the case that {slot.label}"
        return f"{slot.label}: {self.value(slot, value)}"

    def request(self, request: Any) -> list[str]:
        """Markdown lines saying what the request asks and which facts it states."""
        env, errors = self.reader.read(request)
        if errors:
            problems = [f"- {prose(str(e))}" for e in errors]
            return ["The request is invalid, so it is denied with status `error`:", "", *problems, ""]
        template = self.vocabulary.disclosure
        shown: set[str] = set()
        lines: list[str] = []
        if template is not None:
            shown.update(template.paths)
            text = template.render(lambda path: self._field(path, env))
            day = env.get("date")
            when = f"On **{day.isoformat()}**: " if isinstance(day, datetime.date) else ""
            shown.add("date")
            lines.append(f"{when}disclosing **{escape(text)}**.")
            lines.append("")
        items: list[str] = []
        for path, slot in self.vocabulary.fields.items():
            if path in shown or path not in env:
                continue
            items.append(f"{escape(slot.label)}: {escape(self.value(slot, env[path]))}")
        stated = _stated_facts(request)
        presumed: list[str] = []
        for path, slot in self.vocabulary.facts.items():
            if path in env:
                said = self.fact(slot, env[path])
                if path in stated:
                    items.append(escape(said))
                else:
                    presumed.append(said)
        for hop in _hops(request):
            items.append(escape(self.hop(hop)))
        if items:
            lines += [f"- {item}" for item in items]
            lines.append("")
        if presumed:
            count = f"{len(presumed)} fact{'s' if len(presumed) != 1 else ''}"
            lines += folded_list(f"and {count} the law presumes, as the request does not say otherwise", presumed)
        return lines

    def hop(self, hop: Mapping[str, Any]) -> str:
        parts = []
        for key, slot in self.vocabulary.hop.items():
            if key in hop:
                parts.append(f"{slot.label}: {self._raw(slot, hop[key])}")
        return "an earlier disclosure — " + "; ".join(parts)

    def _raw(self, slot: Slot, value: Any) -> str:
        if slot.type.kind in ("enum", "set") and isinstance(value, str):
            return self.phraser.value(slot.type, value)
        return str(value)

    def _field(self, path: str, env: Mapping[str, Any]) -> str:
        slot = self.vocabulary.slot(path)
        if slot is None or path not in env:
            return "(not stated)"
        return self.value(slot, env[path])

    def decision(self, decision: Decision, rule_ref: Callable[[str], str]) -> list[str]:
        """The decision: outcome, status, controlling rule, reason, and what was missing or unknown.

        ``rule_ref`` writes a link to a rule's page from its id.
        """
        by = f", by {rule_ref(decision.rule)} ({code(decision.rule)})" if decision.rule else ""
        lines = [f"**Decision: {decision.decision}** — {status_words(decision.status)}{by}.", ""]
        lines += [f"**Reason:** {prose(decision.reason)}", ""]
        if decision.obligations:
            lines.append(
                "**Obligations:** " + "; ".join(f"{code(o.id)} ({escape(o.citation)})" for o in decision.obligations)
            )
            lines.append("")
        if decision.missing:
            lines += ["**What is missing:**", ""]
            for m in decision.missing:
                lines.append(f"- {escape(m.citation)} ({escape(m.title)}):")
                lines += [f"    - {prose(f.text)}" for f in m.failed]
            lines.append("")
        if decision.unknown_facts:
            labels = [self._label(p) for p in decision.unknown_facts]
            lines += ["**Facts that would settle it:** " + "; ".join(escape(x) for x in labels), ""]
        return lines

    def _label(self, path: str) -> str:
        slot = self.vocabulary.slot(path)
        return slot.label if slot else path


def _stated_facts(request: Any) -> set[str]:
    """The dotted paths of the facts a raw request states (not null), to tell them from presumptions."""
    found: set[str] = set()

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif value is not None:
            found.add(path)

    walk(request.get("facts") if isinstance(request, dict) else None, "facts")
    return found


def _hops(request: Any) -> list[Mapping[str, Any]]:
    chain = request.get("chain") if isinstance(request, dict) else None
    return [hop for hop in chain if isinstance(hop, dict)] if isinstance(chain, list) else []


def request_json(request: Any) -> str:
    return json.dumps(request, indent=2, ensure_ascii=False, default=str)
