"""The ``analyze`` and ``diff`` subcommands, kept here so that ``cli.py`` only registers and dispatches them.

This module returns text and exit codes; ``cli.py`` writes them.
"""

from __future__ import annotations

import argparse
import datetime
import json
from typing import Any

from ..checker import Rules, load
from ..intake.request import parse_date
from .checks import CHECKS, analyze
from .datepage import law_by_date_page
from .dates import law_by_date
from .diff import diff_dates, diff_rules
from .query import QueryError, query
from .report import findings_text, regions_text
from .search import Budget

EXIT_OK = 0
EXIT_FINDINGS = 6
"""``analyze``: a finding the rules do not declare intended; ``analyze --can``: never; ``diff``: changes."""


class AnalysisUsageError(ValueError):
    pass


def add_commands(commands: Any) -> None:
    analyze_parser = commands.add_parser(
        "analyze",
        help="prove things about the rules over every request: checks, or a question with --can",
        description="Run every check (reach, conflict, vacuous, unknowns, errors) on a rule directory, each "
        "finding with a witness request; or, with --can, ask whether any request of a slice can be permitted "
        "(denied). Exit 0: nothing undeclared (or: yes); 6: undeclared findings (or: never).",
    )
    analyze_parser.add_argument("rules", nargs="?", metavar="RULES_DIR", help="default: the bundled rules")
    analyze_parser.add_argument("--format", choices=("text", "json"), default="text")
    analyze_parser.add_argument("--check", action="append", choices=CHECKS, help="run only this check (repeatable)")
    analyze_parser.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="deal the checks' questions to N processes (the findings are the same, in the same order)",
    )
    analyze_parser.add_argument("--can", choices=("permit", "deny"), help="ask whether any request can be so decided")
    analyze_parser.add_argument("--where", default="", help="the slice: path=value,... (e.g. holder=IRS,recipient=ICE)")
    analyze_parser.add_argument("--on", metavar="YYYY-MM-DD", help="the date of the requests asked about")
    diff_parser = commands.add_parser(
        "diff",
        help="every region of requests whose outcome changes between two rule directories or two dates",
        description="diff OLD NEW compares two rule directories; diff --on D1 --on D2 [--rules DIR] compares two "
        "dates of one; diff --each-date [--rules DIR] compares each day on which a rule comes into force or leaves "
        "it with the day before (--format markdown: the documentation's page). Exit 0: no change; 6: changes, "
        "or a diff that did not finish.",
    )
    diff_parser.add_argument("dirs", nargs="*", metavar="DIR")
    diff_parser.add_argument("--on", action="append", metavar="YYYY-MM-DD", default=[])
    diff_parser.add_argument(
        "--each-date", action="store_true", help="each day the rules change, against the day before"
    )
    diff_parser.add_argument("--rules", metavar="DIR")
    diff_parser.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help="markdown: with --each-date only"
    )


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of processes from 1 to 64")
    return int(text)


def _load(path: str | None) -> Rules:
    return load(path) if path else load()


def _day(text: str) -> Any:
    day = parse_date(text)
    if day is None:
        raise AnalysisUsageError(f"`{text}` is not a date written YYYY-MM-DD")
    return day


def run(args: argparse.Namespace) -> tuple[str, int]:
    """The output and the exit code of ``analyze`` or ``diff``."""
    if args.command == "analyze":
        return _analyze(args)
    return _diff(args)


def _analyze(args: argparse.Namespace) -> tuple[str, int]:
    rules = _load(args.rules)
    if args.can:
        where = dict(item.split("=", 1) for item in args.where.split(",") if "=" in item)
        try:
            answer = query(rules, args.can, where, _day(args.on) if args.on else None)
        except QueryError as exc:
            raise AnalysisUsageError(str(exc)) from None
        code = EXIT_OK if answer.possible else EXIT_FINDINGS
        if args.format == "json":
            return json.dumps(answer.to_json(), indent=2, ensure_ascii=False) + "\n", code
        if not answer.possible:
            text = f"{answer.question}: never (the search covered every request of the slice"
            text += ", over chains of at most one hop)\n"
            text += f"decided by: {', '.join(answer.deciding_rules)}\n"
            return text, code
        text = f"{answer.question}: yes\nwitness: {json.dumps(answer.witness, sort_keys=True)}\n"
        text += f"decided again: {answer.decided}\ndeciding facts: {json.dumps(answer.deciding_facts)}\n"
        return text, code
    checks = tuple(args.check or CHECKS)
    findings = analyze(rules, checks, jobs=args.jobs)
    # A finding whose witness the evaluator does not confirm is a fault of the analysis: never a pass.
    code = EXIT_FINDINGS if any(f.intended is None or not f.confirmed for f in findings) else EXIT_OK
    if args.format == "json":
        body = {"checks": list(checks), "findings": [f.to_json() for f in findings]}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n", code
    return findings_text(findings, checks), code


def _diff(args: argparse.Namespace) -> tuple[str, int]:
    if args.each_date:
        return _each_date(args)
    if args.format == "markdown":
        raise AnalysisUsageError("--format markdown goes with --each-date")
    try:
        return _diff_pair(args)
    except Budget as exceeded:
        return f"The diff did not finish: {exceeded}. Nothing is claimed about what changes.\n", EXIT_FINDINGS


def _each_date(args: argparse.Namespace) -> tuple[str, int]:
    if args.on or args.dirs:
        raise AnalysisUsageError("--each-date compares the days of one rule directory: give it with --rules")
    rules = _load(args.rules)
    changes = law_by_date(rules)
    changed = any(c.regions is None or c.regions for c in changes)
    code = EXIT_FINDINGS if changed else EXIT_OK
    if args.format == "markdown":
        return law_by_date_page(rules.book, changes), code
    if args.format == "json":
        body = [
            {
                "day": c.day.isoformat(),
                "entering": list(c.entering),
                "leaving": list(c.leaving),
                "regions": None if c.regions is None else [r.to_json() for r in c.regions],
                "unfinished": c.unfinished,
            }
            for c in changes
        ]
        return json.dumps({"days": body}, indent=2, ensure_ascii=False) + "\n", code
    parts = []
    for c in changes:
        header = f"{c.day}: against {c.day - datetime.timedelta(days=1)}:"
        if c.regions is None:
            parts.append(f"{header}\n\nThe diff did not finish: {c.unfinished}.\n")
        else:
            parts.append(regions_text(rules.book, list(c.regions), header))
    return "\n".join(parts), code


def _diff_pair(args: argparse.Namespace) -> tuple[str, int]:
    if args.on:
        if len(args.on) != 2 or args.dirs:
            raise AnalysisUsageError("give two dates (--on D1 --on D2), and the rules with --rules")
        rules = _load(args.rules)
        before, after = _day(args.on[0]), _day(args.on[1])
        regions = diff_dates(rules, before, after)
        header = f"Requests whose outcome changes between {before} and {after}:"
    else:
        if len(args.dirs) != 2:
            raise AnalysisUsageError("give two rule directories (diff OLD NEW), or two dates with --on")
        old, rules = load(args.dirs[0]), load(args.dirs[1])
        regions = diff_rules(old, rules)
        header = f"Requests whose outcome changes from {args.dirs[0]} to {args.dirs[1]}:"
    code = EXIT_FINDINGS if regions else EXIT_OK
    if args.format == "json":
        return json.dumps({"regions": [r.to_json() for r in regions]}, indent=2, ensure_ascii=False) + "\n", code
    return regions_text(rules.book, regions, header), code
