"""Load a rule directory: YAML files in, a checked :class:`~disclosure_rules.rulebook.model.Rulebook` out.

A rule file is every entry of the rule directory (not of its subdirectories)
whose name ends in ``.yaml`` or ``.yml``, in any case, and does not start with a
dot; each must be a readable regular file. They are one or more vocabulary files
(top-level key ``vocabulary``) and rule-set files (top-level key ``ruleset``).
Loading parses every file, builds the vocabulary, parses and type-checks every
condition, and then checks the whole: unique ids and names, ``exception_to``
targets that exist, no cycle of exceptions or of definitions, templates that
quote known paths. Every problem found is collected with its
``file:line:column``; if there is any, :class:`~disclosure_rules.diagnostics.LoadError`
is raised and nothing is returned, so a rule set that does not load is never
half-used (a court order skipped because its file was a dangling link would
turn a denial into a permit).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path as FilePath
from typing import TypeVar

import attrs

from ..diagnostics import Diagnostic, LoadError, Position, did_you_mean, did_you_mean_or_list
from ..language.ast import And, Compare, Expr, Not, Or, Value
from ..language.grammar import ConditionSyntaxError, parse_condition
from ..language.typecheck import check_condition, references
from ..language.unparse import unparse
from ..reading.yamlreader import DiagnosticSink, MappingReader, entries
from ..reading.yamlsource import (
    RULE_FILE_SUFFIXES,
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
from .literate import unit_texts
from .model import (
    ANALYSIS_CHECKS,
    CONFIDENCE_LEVELS,
    Clause,
    Definition,
    Effective,
    Intended,
    Note,
    Obligation,
    Rule,
    Rulebook,
    RulebookInfo,
    RuleSet,
)
from .vocabloader import NAME_PATTERN, VocabularyBuilder, template_or_report
from .vocabulary import Vocabulary

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()\-]*$")

# The keys each mapping of a rule-set file may have; anything else is an error. The JSON Schema of the rule
# files (fileschema.py) is built from the same tuples, so the two cannot drift apart.
RULESET_KEYS = ("ruleset", "title", "source", "url", "description", "definitions", "obligations", "rules")
RULE_KEYS = (
    "id",
    "title",
    "kind",
    "citation",
    "when",
    "exception_to",
    "effective",
    "reason",
    "obligations",
    "notes",
    "grants",
    "statute",
    "intended",
)
DEFINITION_KEYS = ("label", "must", "negated", "citation", "when", "notes", "description", "statute")
OBLIGATION_KEYS = ("text", "citation")
NOTE_KEYS = ("text", "source", "confidence")
INTENDED_KEYS = ("check", "with", "path", "why")
CLAUSE_KEYS = ("cite", "text", "encodes", "not_modelled", "confidence")
EFFECTIVE_KEYS = ("from", "until")
RULE_KINDS = ("permit", "forbid")

T = TypeVar("T")


# -- rule sets ------------------------------------------------------------------------------


def _condition_source(parts: list[tuple[str, YScalar]]) -> str:
    """The condition as one text (a list of conditions reads as their conjunction)."""
    texts = [" ".join(text.split()) for text, _ in parts]
    if len(texts) == 1:
        return texts[0]
    return "\nand ".join(f"({t})" for t in texts)


class _RuleSetBuilder:
    """Reads one rule-set file; conditions are checked later, once every definition is known."""

    def __init__(self, file: str, root: YMap, sink: DiagnosticSink) -> None:
        self.file = file
        self.sink = sink
        self.definitions: list[tuple[str, YScalar, MappingReader, list[tuple[str, YScalar]]]] = []
        self.rules: list[tuple[str, YScalar | YMap, MappingReader, list[tuple[str, YScalar]]]] = []
        self.obligations: list[Obligation] = []
        r = MappingReader(root, "a rule set", sink)
        r.only(*RULESET_KEYS)
        self.name = r.text("ruleset", required=True) or file
        self.title = r.text("title", required=True) or self.name
        self.source = r.text("source", required=True) or ""
        self.url = r.text("url")
        self.description = r.text("description")
        self.position = root.position
        definitions = r.mapping("definitions")
        if definitions:
            for name, key_node, node in entries(definitions):
                self.read_definition(name, key_node, node)
        obligations = r.mapping("obligations")
        if obligations:
            for oid, key_node, node in entries(obligations):
                self.read_obligation(oid, key_node, node)
        rules = r.sequence("rules")
        if rules is None and not r.has("rules") and not self.definitions and not self.obligations:
            sink.add("missing_key", "a rule set needs `rules`, `definitions` or `obligations`", root.position)
        for node in rules.items if rules else ():
            if not isinstance(node, YMap):
                sink.add("wrong_type", "each rule must be a mapping", node.position)
                continue
            rr = MappingReader(node, "a rule", sink)
            rid = rr.text("id", required=True)
            if rid is None:
                continue
            what = f"the rule `{rid}`"
            rr.what = what
            self.rules.append((rid, node.keys["id"], rr, self.condition_parts(rr, what)))

    def condition_parts(self, r: MappingReader, what: str) -> list[tuple[str, YScalar]]:
        node = r.raw("when", required=True)
        if node is None:
            return []
        items = node.items if isinstance(node, YSeq) else (node,)
        out = []
        for item in items:
            if isinstance(item, YScalar) and isinstance(item.value, str):
                out.append((item.value, item))
            elif isinstance(item, YScalar) and isinstance(item.value, bool):
                out.append(("true" if item.value else "false", item))
            else:
                self.sink.add(
                    "wrong_type",
                    f"`when` of {what} must be a condition or a list of conditions",
                    item.position,
                    help="write the condition as text; quote it if it starts with `[` or `{`",
                )
        if isinstance(node, YSeq) and not out:
            self.sink.add("wrong_type", f"`when` of {what} is an empty list", node.position)
        return out

    def read_definition(self, name: str, key_node: YScalar, node: YNode) -> None:
        if not NAME_PATTERN.match(name):
            self.sink.add(
                "bad_name",
                f"`{name}` cannot name a definition",
                key_node.position,
                help="use letters, digits and `_`, so conditions can refer to it",
            )
            return
        if not isinstance(node, YMap):
            self.sink.add(
                "wrong_type", f"the definition `{name}` must be a mapping with `label` and `when`", node.position
            )
            return
        r = MappingReader(node, f"the definition `{name}`", self.sink)
        r.only(*DEFINITION_KEYS)
        self.definitions.append((name, key_node, r, self.condition_parts(r, f"the definition `{name}`")))

    def read_obligation(self, oid: str, key_node: YScalar, node: YNode) -> None:
        if not ID_PATTERN.match(oid):
            self.sink.add("bad_name", f"`{oid}` cannot name an obligation", key_node.position)
            return
        if not isinstance(node, YMap):
            self.sink.add(
                "wrong_type", f"the obligation `{oid}` must be a mapping with `text` and `citation`", node.position
            )
            return
        r = MappingReader(node, f"the obligation `{oid}`", self.sink)
        r.only(*OBLIGATION_KEYS)
        text = r.text("text", required=True)
        citation = r.text("citation")
        if citation is None and "citation" not in r.node.items:
            self.sink.add(
                "missing_citation",
                f"the obligation `{oid}` has no citation",
                key_node.position,
                help="every obligation names the provision that imposes it",
            )
        if text and citation:
            self.obligations.append(Obligation(oid, text, citation, self.name, key_node.position))


def _notes(r: MappingReader, sink: DiagnosticSink) -> tuple[Note, ...]:
    node = r.raw("notes")
    if node is None:
        return ()
    items = node.items if isinstance(node, YSeq) else (node,)
    out: list[Note] = []
    for item in items:
        if isinstance(item, YScalar) and isinstance(item.value, str):
            out.append(Note(item.value.strip()))
        elif isinstance(item, YMap):
            nr = MappingReader(item, "a note", sink)
            nr.only(*NOTE_KEYS)
            text = nr.text("text", required=True)
            confidence = nr.text("confidence")
            if confidence is not None and confidence not in CONFIDENCE_LEVELS:
                sink.add(
                    "unknown_value",
                    f"`{confidence}` is not a confidence level",
                    item.items["confidence"].position,
                    help="use high, medium or low",
                )
                confidence = None
            if text:
                out.append(Note(text, nr.text("source"), confidence))  # type: ignore[arg-type]
        else:
            sink.add("wrong_type", "a note must be text or a mapping with `text`", item.position)
    return tuple(out)


# -- analysis: `intended:` declarations of a rule (docs/analysis.md) --------------------------


def _intended(
    r: MappingReader, sink: DiagnosticSink, rid: str, named: list[tuple[str, str, YScalar]]
) -> tuple[Intended, ...]:
    """``intended: [{check: conflict, with: other-rule, why: ...}]``: findings the author means (``with`` may
    list several rules that share one reason)."""
    node = r.sequence("intended")
    if node is None:
        return ()
    out: list[Intended] = []
    for item in node.items:
        if not isinstance(item, YMap):
            sink.add("wrong_type", "an `intended` entry must be a mapping with `check` and `why`", item.position)
            continue
        ir = MappingReader(item, "an `intended` entry", sink)
        ir.only(*INTENDED_KEYS)
        check = ir.text("check", required=True)
        why = ir.text("why", required=True)
        if check is not None and check not in ANALYSIS_CHECKS:
            sink.add(
                "unknown_value",
                f"`{check}` is not a check of `disclosure-rules analyze`",
                item.items["check"].position,
                help=did_you_mean_or_list(check, ANALYSIS_CHECKS),
            )
            continue
        if check and why:
            with_rules = ir.texts("with")
            # Checked once every rule is known.
            named.extend((rid, target, scalar) for target, scalar in with_rules)
            others = tuple(text for text, _node in with_rules)
            out.append(Intended(check, why, others, ir.text("path")))
    return tuple(out)


# -- end analysis ---------------------------------------------------------------------------


# -- whole directory ------------------------------------------------------------------------


def rule_files(directory: FilePath) -> list[FilePath]:
    """Every entry of ``directory`` named like a rule file, whatever it is: one that is not a readable
    regular file is reported when read, never skipped."""
    return sorted(p for p in directory.iterdir() if is_yaml_name(p))


def load_rulebook(directory: str | FilePath) -> Rulebook:
    """Load and check every rule file of ``directory``; raise :class:`LoadError` listing every problem."""
    root = FilePath(directory)
    sink = DiagnosticSink()
    if not root.is_dir():
        raise LoadError([Diagnostic("no_rules", f"`{root}` is not a directory of rule files")])
    try:
        files = rule_files(root)
    except OSError as exc:
        raise LoadError([Diagnostic("no_rules", f"cannot list the rule directory `{root}`: {exc.strerror}")]) from None
    if not files:
        names = " or ".join(f"`*{suffix}`" for suffix in RULE_FILE_SUFFIXES)
        raise LoadError([Diagnostic("no_rules", f"`{root}` holds no {names} rule files")])
    digest = hashlib.sha256()
    vocab_builder = VocabularyBuilder(sink)
    builders: list[_RuleSetBuilder] = []
    for path in files:
        name = str(path)
        try:
            raw = read_source(path)
            digest.update(path.name.encode() + b"\0" + raw + b"\0")
            node = parse_yaml(name, decode_source(path, raw))
        except YamlError as exc:
            sink.items.append(exc.diagnostic)
            continue
        if not isinstance(node, YMap):
            sink.add("wrong_type", "a rule file must be a mapping", node.position)
        elif "vocabulary" in node.items:
            vocab_builder.add_file(node)
        elif "ruleset" in node.items:
            builders.append(_RuleSetBuilder(name, node, sink))
        else:
            sink.add(
                "unknown_file",
                "this file is neither a vocabulary nor a rule set",
                node.position,
                help="start it with `vocabulary: <name>` or `ruleset: <name>`",
            )
    vocabulary = vocab_builder.finish()
    # Only when every file was read and none is a vocabulary: a file that did not parse, or that is not
    # recognised, may be the vocabulary, and its own error says where.
    if vocabulary is None and not sink.items:
        sink.add(
            "no_vocabulary",
            f"`{root}` holds no vocabulary file",
            None,
            help="add a file that starts with `vocabulary: <name>`",
        )
    if sink.items or vocabulary is None:
        # Conditions cannot be checked against a broken vocabulary; report what we have.
        raise LoadError(sink.items)
    book = _assemble(vocabulary, builders, sink, "sha256:" + digest.hexdigest())
    if sink.items:
        raise LoadError(sink.items)
    return book


_SPLIT_HELP = "split it into named definitions"


def _unparsable(exc: Exception) -> str:
    """Why a condition could not be read, where the parser gave up with an exception of Python's own: a
    chain of hundreds of `not`s is too deep for it, an integer of thousands of digits too long."""
    if isinstance(exc, RecursionError):
        return "the condition nests too deeply to be read"
    if "integer string conversion" in str(exc):
        return f"a number has more than {sys.get_int_max_str_digits():,} digits"
    return f"the condition cannot be read ({exc})"


def _first_position(what: Mapping[str, Position], key: str) -> str:
    pos = what.get(key)
    return f"the first is at {pos}" if pos else ""


def _assemble(vocabulary: Vocabulary, builders: list[_RuleSetBuilder], sink: DiagnosticSink, digest: str) -> Rulebook:
    definition_names: dict[str, Position] = {}
    for b in builders:
        for name, key_node, _r, _parts in b.definitions:
            if name in definition_names:
                sink.add(
                    "duplicate_name",
                    f"the definition `{name}` is declared twice",
                    key_node.position,
                    help=_first_position(definition_names, name),
                )
            elif name in vocabulary.groups or name in vocabulary.fields:
                sink.add(
                    "duplicate_name", f"the definition `{name}` has the name of a vocabulary entry", key_node.position
                )
            else:
                definition_names[name] = key_node.position

    def condition(parts: list[tuple[str, YScalar]], what: str) -> tuple[Expr, str] | None:
        checked: list[Expr] = []
        ok = bool(parts)
        for text, scalar in parts:
            try:
                parsed = parse_condition(text)
                tree, issues = check_condition(parsed, vocabulary, definition_names)
            except ConditionSyntaxError as exc:
                sink.add("condition_syntax", f"in {what}: {exc.message}", scalar.position_at(exc.offset), help=exc.help)
                ok = False
                continue
            except (RecursionError, ValueError, OverflowError) as exc:
                help = _SPLIT_HELP if isinstance(exc, RecursionError) else None
                sink.add("condition_syntax", f"in {what}: {_unparsable(exc)}", scalar.position, help=help)
                ok = False
                continue
            for issue in issues:
                sink.add(issue.code, f"in {what}: {issue.message}", scalar.position_at(issue.span[0]), help=issue.help)
            ok = ok and not issues
            checked.append(tree)
        if not ok:
            return None
        tree = checked[0] if len(checked) == 1 else And(tuple(checked))
        return tree, _condition_source(parts)

    # -- literate law (issue 14): the clauses a rule or definition quotes, each matched to its condition --
    def statute(r: MappingReader, tree: Expr | None, what: str) -> tuple[Clause, ...]:
        node = r.raw("statute")
        if node is None:
            return ()
        if not isinstance(node, YSeq):
            sink.add("wrong_type", f"`statute` of {what} must be a list of clauses", node.position)
            return ()
        known = unit_texts(tree) if tree is not None else ()
        clauses: list[Clause] = []
        for item in node.items:
            if not isinstance(item, YMap):
                sink.add("wrong_type", f"each clause in `statute` of {what} must be a mapping", item.position)
                continue
            cr = MappingReader(item, f"a clause of {what}", sink)
            cr.only(*CLAUSE_KEYS)
            cite, text = cr.text("cite", required=True), cr.text("text", required=True)
            encodes: list[str] = []
            for entry, scalar in cr.texts("encodes"):
                try:
                    parsed = parse_condition(entry)
                except ConditionSyntaxError as exc:
                    sink.add("condition_syntax", f"in `encodes` of {what}: {exc.message}", scalar.position)
                    continue
                checked, issues = check_condition(parsed, vocabulary, definition_names)
                if issues:
                    sink.add(issues[0].code, f"in `encodes` of {what}: {issues[0].message}", scalar.position)
                    continue
                canonical = unparse(checked)
                if tree is not None and canonical not in known:
                    sink.add(
                        "unknown_unit",
                        f"`{entry}` in `encodes` of {what} is no part of its condition",
                        scalar.position,
                        help=did_you_mean(canonical, list(known)) or "the parts are: " + "; ".join(known),
                    )
                    continue
                encodes.append(canonical)
            not_modelled = cr.text("not_modelled")
            confidence = cr.text("confidence")
            if confidence is not None and confidence not in CONFIDENCE_LEVELS:
                sink.add(
                    "unknown_value",
                    f"`{confidence}` is not a confidence level",
                    item.position,
                    help="use high, medium or low",
                )
                confidence = None
            if not_modelled is not None and confidence is None:
                sink.add(
                    "missing_confidence",
                    f"a clause of {what} is not modelled but says with what confidence",
                    item.position,
                    help="add `confidence: high`, `medium` or `low`",
                )
            if cite and text:
                clauses.append(
                    Clause(cite, " ".join(text.split()), tuple(encodes), not_modelled, confidence, item.position)  # type: ignore[arg-type]
                )
        return tuple(clauses)

    definitions: dict[str, Definition] = {}
    obligations: dict[str, Obligation] = {}
    rules: dict[str, Rule] = {}
    rule_positions: dict[str, Position] = {}
    rulesets: list[RuleSet] = []
    pending_exceptions: list[tuple[str, str, YScalar]] = []
    pending_intended: list[tuple[str, str, YScalar]] = []

    for b in builders:
        for name, key_node, r, parts in b.definitions:
            what = f"the definition `{name}`"
            label = r.text("label", required=True)
            built = condition(parts, what)
            notes = _notes(r, sink)
            clauses = statute(r, built[0] if built else None, what)
            if built is None or label is None:
                continue
            definitions.setdefault(
                name,
                Definition(
                    name,
                    label,
                    built[0],
                    built[1],
                    b.name,
                    r.text("must"),
                    r.text("negated"),
                    r.text("citation"),
                    notes,
                    key_node.position,
                    clauses,
                ),
            )
        for ob in b.obligations:
            if ob.id in obligations:
                sink.add(
                    "duplicate_name",
                    f"the obligation `{ob.id}` is declared twice",
                    ob.position,
                    help=f"the first is at {obligations[ob.id].position}",
                )
            else:
                obligations[ob.id] = ob

    for b in builders:
        ids: list[str] = []
        for rid, id_node, r, parts in b.rules:
            what = f"the rule `{rid}`"
            id_pos = id_node.position
            if not ID_PATTERN.match(rid):
                sink.add(
                    "bad_name",
                    f"`{rid}` cannot be a rule id",
                    id_pos,
                    help="use letters, digits, `-`, `_`, `.` and brackets",
                )
                continue
            if rid in rules or rid in rule_positions:
                sink.add(
                    "duplicate_id",
                    f"the rule id `{rid}` is used twice",
                    id_pos,
                    help=_first_position(rule_positions, rid),
                )
                continue
            rule_positions[rid] = id_pos
            r.only(*RULE_KEYS)
            title = r.text("title", required=True)
            kind = r.text("kind", required=True)
            if kind is not None and kind not in RULE_KINDS:
                sink.add(
                    "unknown_value",
                    f"`{kind}` is not a rule kind",
                    r.node.items["kind"].position,
                    help="use `permit` or `forbid`",
                )
                kind = None
            citation = r.text("citation")
            if citation is None and "citation" not in r.node.items:
                sink.add(
                    "missing_citation",
                    f"{what} has no citation",
                    id_pos,
                    help="give the pinpoint citation, e.g. `26 U.S.C. § 6103(i)(2)(B)`",
                )
            effective = _effective(r, what, sink)
            for target, scalar in r.texts("exception_to"):
                pending_exceptions.append((rid, target, scalar))
            reason_node = r.scalar("reason", required=True)
            reason_text = r.text("reason")
            reason = (
                template_or_report(reason_node, reason_text, vocabulary, what, sink)
                if reason_node is not None and reason_text
                else None
            )
            wanted: list[str] = []
            for oid, scalar in r.texts("obligations"):
                if oid not in obligations:
                    sink.add(
                        "unknown_obligation",
                        f"{what} lists the obligation `{oid}`, which is not declared",
                        scalar.position,
                        help=did_you_mean(oid, obligations),
                    )
                else:
                    wanted.append(oid)
            notes = _notes(r, sink)
            grants = _grants(r, kind, vocabulary, what, sink)
            intended = _intended(r, sink, rid, pending_intended)
            built = condition(parts, what)
            clauses = statute(r, built[0] if built else None, what)
            if kind == "forbid" and wanted:
                sink.add(
                    "wrong_type",
                    f"{what} forbids, so it cannot carry obligations",
                    r.node.items["obligations"].position,
                )
            if None in (title, kind, citation, reason, built, effective):
                continue
            assert built is not None and effective is not None and reason is not None
            rules[rid] = Rule(
                rid,
                title or rid,
                kind,  # type: ignore[arg-type]
                citation or "",
                built[0],
                built[1],
                b.name,
                reason,
                (),
                effective,
                tuple(wanted),
                notes,
                id_pos,
                grants,
                clauses,
                intended,
            )
            ids.append(rid)
        rulesets.append(
            RuleSet(
                b.name,
                b.title,
                b.source,
                b.file,
                tuple(ids),
                tuple(n for n, *_ in b.definitions),
                tuple(o.id for o in b.obligations),
                b.description,
                b.url,
            )
        )

    seen_sets: dict[str, str] = {}
    for rs in rulesets:
        if rs.name in seen_sets:
            sink.add(
                "duplicate_name",
                f"the rule set name `{rs.name}` is used twice",
                Position(rs.file, 1, 1),
                help=f"also in {seen_sets[rs.name]}",
            )
        seen_sets[rs.name] = rs.file

    exception_to: dict[str, list[str]] = {rid: [] for rid in rules}
    for rid, target, scalar in pending_exceptions:
        message = f"the rule `{rid}` is an exception to `{target}`, which does not exist"
        if not _known_rule(sink, rule_positions, target, scalar, message):
            continue
        if target == rid:
            sink.add("exception_cycle", f"the rule `{rid}` cannot be an exception to itself", scalar.position)
        elif rid in exception_to and target not in exception_to[rid]:
            exception_to[rid].append(target)
    for rid, targets in exception_to.items():
        rules[rid] = _with_exceptions(rules[rid], tuple(targets))
    for rid, target, scalar in pending_intended:
        message = f"the rule `{rid}` declares a finding with `{target}` intended, and no rule has that id"
        _known_rule(sink, rule_positions, target, scalar, message)

    _check_cycles(
        {rid: list(r.exception_to) for rid, r in rules.items()},
        rule_positions,
        sink,
        "exception_cycle",
        lambda cycle: "exceptions form a cycle: " + " -> ".join(f"`{c}`" for c in cycle),
    )
    _check_cycles(
        {name: sorted(references(d.condition)) for name, d in definitions.items()},
        {name: d.position for name, d in definitions.items() if d.position},
        sink,
        "definition_cycle",
        lambda cycle: "definitions refer to each other in a cycle: " + " -> ".join(f"`{c}`" for c in cycle),
    )
    _check_written_out_depth(definitions, rules, sink)
    for rule in rules.values():
        if (
            rule.kind == "permit"
            and isinstance(rule.condition, Value)
            and rule.condition.value is True
            and rule.effective.always
            and not rule.exception_to
        ):
            sink.add(
                "unconditional_permit",
                f"the rule `{rule.id}` permits every disclosure at all times",
                rule.position,
                help="give it a condition or make it an exception to a narrower rule",
            )
    return Rulebook(
        vocabulary,
        tuple(rulesets),
        rules,
        definitions,
        obligations,
        RulebookInfo(tuple(rs.name for rs in rulesets), digest),
    )


def _known_rule(
    sink: DiagnosticSink, rule_positions: Mapping[str, Position], target: str, scalar: YScalar, message: str
) -> bool:
    """Whether a rule named in a rule file exists; if not, an ``unknown_rule`` error where it is named."""
    if target in rule_positions:
        return True
    sink.add("unknown_rule", message, scalar.position, help=did_you_mean(target, rule_positions))
    return False


def _with_exceptions(rule: Rule, targets: tuple[str, ...]) -> Rule:
    return attrs.evolve(rule, exception_to=targets)


def _effective(r: MappingReader, what: str, sink: DiagnosticSink) -> Effective | None:
    node = r.mapping("effective")
    if node is None:
        return None if r.has("effective") else Effective()
    er = MappingReader(node, f"`effective` of {what}", sink)
    er.only(*EFFECTIVE_KEYS)
    start, end = er.date("from"), er.date("until")
    if start and end and end < start:
        sink.add("empty_window", f"{what} ends ({end}) before it starts ({start})", node.position)
        return None
    return Effective(start, end)


MAX_WRITTEN_OUT_DEPTH = 150
"""How deep a condition may nest once every definition it uses is written out in its place, as the compiler
does (the bundled rules reach 8): a chain of hundreds of definitions, each using the one before, would
otherwise exhaust Python's recursion when compiled or evaluated."""


def _depth(node: Expr) -> int:
    """How deep a condition's tree nests (definitions counted as leaves)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(current, Not):
            stack.append((current.operand, level + 1))
        elif isinstance(current, (And, Or)):
            stack.extend((operand, level + 1) for operand in current.operands)
        elif isinstance(current, Compare):
            stack.extend(((current.left, level + 1), (current.right, level + 1)))
    return deepest


def _check_written_out_depth(
    definitions: Mapping[str, Definition], rules: Mapping[str, Rule], sink: DiagnosticSink
) -> None:
    """Report each definition and rule whose condition, definitions written out, nests deeper than
    :data:`MAX_WRITTEN_OUT_DEPTH`; the lowest such definition of a chain is reported, not each above it."""
    uses = {name: sorted(references(d.condition) & definitions.keys()) for name, d in definitions.items()}
    users: dict[str, list[str]] = {name: [] for name in definitions}
    for name, used in uses.items():
        for other in used:
            users[other].append(name)
    waiting = {name: len(used) for name, used in uses.items()}
    ready = [name for name, count in waiting.items() if count == 0]
    depth: dict[str, int] = {}
    while ready:  # definitions in an order where each comes after those it uses (a cycle is reported apart)
        name = ready.pop()
        below = max((depth[other] for other in uses[name]), default=0)
        depth[name] = _depth(definitions[name].condition) + below
        if depth[name] > MAX_WRITTEN_OUT_DEPTH >= below:
            sink.add("too_deep", _too_deep_message(f"the definition `{name}`", depth[name]), definitions[name].position)
        for user in users[name]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    for rule in rules.values():
        below = max((depth.get(other, 0) for other in references(rule.condition)), default=0)
        total = _depth(rule.condition) + below
        if total > MAX_WRITTEN_OUT_DEPTH >= below:
            sink.add("too_deep", _too_deep_message(f"the rule `{rule.id}`", total), rule.position)


def _too_deep_message(what: str, depth: int) -> str:
    return (
        f"{what} nests {depth} levels deep with the definitions it uses written out; "
        f"the limit is {MAX_WRITTEN_OUT_DEPTH}"
    )


def _check_cycles(
    graph: Mapping[str, list[str]],
    positions: Mapping[str, Position],
    sink: DiagnosticSink,
    code: str,
    message: Callable[[list[str]], str],
) -> None:
    # Depth-first, with an explicit stack: a chain of thousands of definitions must not exhaust recursion.
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    reported: set[frozenset[str]] = set()
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        path, pending = [root], [iter(graph.get(root, ()))]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                pending.pop()
            elif state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    sink.add(code, message(cycle), positions.get(nxt))
            elif state.get(nxt) is None and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                pending.append(iter(graph.get(nxt, ())))


def _grants(r: MappingReader, kind: str | None, vocabulary: Vocabulary, what: str, sink: DiagnosticSink) -> str | None:
    """The route a permit grants: a value of the enumeration the chain hop's ``route`` key takes."""
    route = r.text("grants")
    if route is None:
        return None
    position = r.node.items["grants"].position
    slot = vocabulary.hop.get("route")
    enum = vocabulary.enums.get(slot.type.enum or "") if slot is not None else None
    if enum is None:
        sink.add("unknown_name", f"{what} grants a route, but chain hops declare no `route`", position)
        return None
    if route not in enum.values:
        sink.add(
            "unknown_value",
            f"`{route}` is not a value of `{enum.name}`",
            position,
            help=did_you_mean(route, list(enum.values)),
        )
        return None
    if kind == "forbid":
        sink.add("wrong_type", f"{what} forbids, so it grants no route", position)
        return None
    return route
