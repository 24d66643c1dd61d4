"""The ``disclosure-rules`` command: the only module that reads files, prints, or sets exit codes.

Exit codes (also in ``docs/cli.md``):

====  =====================================================================
0     permitted (every request, in JSON Lines mode)
1     bad input: a request that is not valid JSON or not valid for the vocabulary
2     denied (at least one request, in JSON Lines mode)
3     the rules did not load
4     wrong command-line usage
5     a scenario test failed (``disclosure-rules test``)
6     ``analyze``: a finding the rules do not declare intended (``--can``: never); ``diff``: changes
70    an internal error (a bug: please report it)
====  =====================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from . import docsgen, testing
from .analysis import cli as analysis_cli
from .checker import Rules, bundled_rules_path, load
from .decision import Decision
from .diagnostics import Diagnostic, LoadError
from .jsontext import MAX_REQUEST_BYTES, JsonInputError, loads_strict
from .records import ColumnsError, RecordChecker
from .render.json import render_json
from .render.text import render_text
from .request import parse_date
from .version import __version__

EXIT_PERMIT = 0
EXIT_BAD_INPUT = 1
EXIT_DENY = 2
EXIT_RULES = 3
EXIT_USAGE = 4
EXIT_TEST_FAILED = 5
EXIT_INTERNAL = 70

RENDERED_CACHE_SIZE = 5_000
LINE_CACHE_SIZE = 5_000
LINE_CACHE_MAX_BYTES = 4_096
OUTPUT_BATCH_LINES = 512
"""Decisions written at once when reading a file: a write per 8 KB, at a million lines, costs more than deciding
them. Reading standard input, each decision is handed to the output as soon as it is made."""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad usage, which is this tool's code for "denied"; use 4."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> _Parser:
    parser = _Parser(prog="disclosure-rules", description="Decide whether a disclosure of data is lawful, and why.")
    parser.add_argument("--version", action="version", version=f"disclosure-rules {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "check",
        help="decide one request, or a JSON Lines stream of requests",
        description="Decide one request (a JSON file, or - for stdin) or, with --jsonl, "
        "a JSON Lines stream of requests, one decision per line.",
    )
    check.add_argument("request", nargs="?", help="a JSON request file, or - for standard input")
    check.add_argument("--jsonl", metavar="FILE", help="a JSON Lines file of requests, or - for standard input")
    check.add_argument("--rules", metavar="DIR", help="a rule directory (default: the bundled rules)")
    check.add_argument(
        "--format",
        choices=("text", "json"),
        default=None,
        help="output format (default: text for one request, json for --jsonl)",
    )
    check.add_argument(
        "--trace", action="store_true", help="show every rule considered (in JSON Lines mode, add it to each record)"
    )
    check.add_argument(
        "--columns",
        metavar="FILE",
        help="requests are flat records: FILE is a JSON object mapping each column to the request path it gives",
    )

    test = commands.add_parser(
        "test",
        help="run scenario tests (YAML) against the rules",
        description="Run scenario tests: each case gives a request and the decision the law requires. PATHS are "
        "scenario files or directories searched for them (default: the bundled rules' tests).",
    )
    test.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or directories")
    test.add_argument(
        "--rules",
        metavar="DIR",
        help="a rule directory (default: a rule directory given as PATH, else the bundled rules)",
    )
    test.add_argument(
        "--coverage", action="store_true", help="report, per rule, whether the tests saw it apply and not apply"
    )

    docs = commands.add_parser(
        "docs",
        help="write the rule documentation: Markdown pages and JSON schemas",
        description="Write Markdown pages for every rule set and rule, the vocabulary and the overview matrix, and "
        "the JSON schemas of the request and the decision, all generated from the rules (default: the bundled "
        "rules), with worked examples decided by the engine on the scenario tests.",
    )
    docs.add_argument(
        "--out", metavar="DIR", required=True, help="the output directory: new, or one this command wrote before"
    )
    docs.add_argument("--rules", metavar="DIR", help="a rule directory (default: the bundled rules)")
    docs.add_argument(
        "--tests",
        metavar="PATH",
        action="append",
        help="a scenario file or directory for the worked examples; repeatable (default: the rules' tests/)",
    )
    docs.add_argument("--date", metavar="YYYY-MM-DD", help="the date of the overview matrix (default: today)")
    # -- analysis: `analyze` and `diff` (disclosure_rules/analysis/cli.py) --
    analysis_cli.add_commands(commands)
    # -- end analysis --
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            raise UsageError("name a command, e.g. `disclosure-rules check request.json`")
        if args.command == "check":
            return _check(args, stdin or sys.stdin.buffer, out, err)
        if args.command == "test":
            return _test(args, out, err)
        if args.command == "docs":
            return _docs(args, out, err)
        if args.command in ("analyze", "diff"):  # analysis
            return _analysis(args, out)
        raise UsageError(f"unknown command {args.command}")  # pragma: no cover
    except UsageError as exc:
        err.write(f"disclosure-rules: error: {exc}\n(see `disclosure-rules --help`)\n")
        return EXIT_USAGE
    except LoadError as exc:
        for diagnostic in exc.diagnostics:
            err.write(f"{diagnostic}\n")
        err.write(
            f"disclosure-rules: the rules did not load ({len(exc.diagnostics)} error"
            f"{'s' if len(exc.diagnostics) != 1 else ''})\n"
        )
        return EXIT_RULES
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_PERMIT
    except Exception as exc:
        err.write(f"disclosure-rules: internal error: {type(exc).__name__}: {exc} (please report this)\n")
        return EXIT_INTERNAL


# -- analysis ------------------------------------------------------------------------------


def _analysis(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        text, code = analysis_cli.run(args)
    except analysis_cli.AnalysisUsageError as exc:
        raise UsageError(str(exc)) from None
    out.write(text)
    return code


# -- end analysis ---------------------------------------------------------------------------


def _load(args: argparse.Namespace) -> Rules:
    return load(args.rules) if args.rules else load()


def _is_rule_directory(directory: Path) -> bool:
    return any(testing.declares(path, "vocabulary") for path in directory.glob("*.yaml"))


def _rule_directory_of(paths: Sequence[str]) -> Path | None:
    """The rule directory a scenario PATH belongs to: the PATH itself or a parent with a vocabulary file."""
    for raw in paths:
        path = Path(raw).resolve()
        for directory in [path, *path.parents][:3]:
            if directory.is_dir() and _is_rule_directory(directory):
                return directory
    return None


def _test(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    paths = args.paths or [str(bundled_rules_path() / "tests")]
    rules_dir = args.rules or _rule_directory_of(paths)
    rules = load(rules_dir) if rules_dir else load()
    try:
        suites = testing.load_suites(paths)
    except testing.ScenarioError as exc:
        for diagnostic in exc.diagnostics:
            err.write(f"{diagnostic}\n")
        return EXIT_BAD_INPUT
    if not suites:
        err.write("disclosure-rules: no scenario files found (a scenario file starts with `scenarios:`)\n")
        return EXIT_BAD_INPUT
    results = testing.run(rules, suites)
    for result in results:
        if not result.passed:
            out.write(testing.format_failure(result) + "\n\n")
    if args.coverage:
        out.write(testing.format_coverage(testing.coverage(rules, results)) + "\n")
    out.write(testing.summary(results, suites) + "\n")
    return EXIT_PERMIT if all(r.passed for r in results) else EXIT_TEST_FAILED


def _docs(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    day = parse_date(args.date) if args.date is not None else None
    if args.date is not None and day is None:
        raise UsageError(f"`--date` must be a date written YYYY-MM-DD, not `{args.date}`")
    try:
        _site, written = docsgen.generate(args.out, args.rules, tests=args.tests, day=day)
    except testing.ScenarioError as exc:
        for diagnostic in exc.diagnostics:
            err.write(f"{diagnostic}\n")
        return EXIT_BAD_INPUT
    except docsgen.DocsError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        err.write(f"{args.out}: error[io]: cannot write the pages: {exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    out.write(
        f"wrote {len(written.pages)} files to {args.out} "
        f"({len(written.changed)} changed, {len(written.removed)} removed)\n"
    )
    return EXIT_PERMIT


def _exit_code(decision: Decision) -> int:
    if decision.status == "error":
        return EXIT_BAD_INPUT
    return EXIT_PERMIT if decision.decision == "permit" else EXIT_DENY


def _check(args: argparse.Namespace, stdin: IO[bytes], out: IO[str], err: IO[str]) -> int:
    if args.jsonl and args.request:
        raise UsageError("give either a request file or --jsonl, not both")
    if not args.jsonl and not args.request:
        raise UsageError("give a request file (or - for standard input), or --jsonl FILE")
    rules = _load(args)
    check_object: Callable[[object], Decision] = rules.check
    check_line: Callable[[bytes], Decision] = rules.check_json
    if args.columns:
        records = _records(rules, args.columns, err)
        if records is None:
            return EXIT_BAD_INPUT
        check_object = records.check
        check_line = _row_reader(rules, records)
    if args.jsonl:
        return _check_stream(rules, check_line, args, stdin, out, err)
    fmt = args.format or "text"
    name = "<stdin>" if args.request == "-" else args.request
    try:
        raw = _read_request(args.request, stdin)
        request = loads_strict(raw, name)
    except JsonInputError as exc:
        decision = rules.invalid([exc.diagnostic])
        return _emit_single(decision, fmt, args.trace, out, err, name)
    except OSError as exc:
        err.write(f"{name}: error[io]: cannot read the request: {exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    decision = check_object(request)
    return _emit_single(decision, fmt, args.trace, out, err, name)


def _records(rules: Rules, path: str, err: IO[str]) -> RecordChecker | None:
    """The checker of flat records for the column mapping in ``path``; None, the problems written, if bad."""
    try:
        with open(path, "rb") as f:
            mapping = loads_strict(f.read(MAX_REQUEST_BYTES + 1), path)
        return rules.records(mapping)
    except OSError as exc:
        err.write(f"{path}: error[io]: cannot read the column mapping: {exc.strerror or exc}\n")
    except JsonInputError as exc:
        err.write(f"{path}: {exc.diagnostic}\n")
    except ColumnsError as exc:
        for diagnostic in exc.diagnostics:
            err.write(f"{path}: {diagnostic}\n")
    return None


def _row_reader(rules: Rules, records: RecordChecker) -> Callable[[bytes], Decision]:
    def check_row(line: bytes) -> Decision:
        try:
            return records.check(loads_strict(line))
        except JsonInputError as exc:
            return rules.invalid([exc.diagnostic])

    return check_row


def _emit_single(decision: Decision, fmt: str, trace: bool, out: IO[str], err: IO[str], name: str) -> int:
    if decision.status == "error":
        for error in decision.errors:
            err.write(f"{name}: {error}\n")
        if fmt == "json":
            out.write(render_json(decision, trace=trace) + "\n")
        return EXIT_BAD_INPUT
    out.write(render_json(decision) + "\n" if fmt == "json" else render_text(decision, trace=trace))
    return _exit_code(decision)


def _read_request(path: str, stdin: IO[bytes]) -> bytes:
    if path == "-":
        data = stdin.read(MAX_REQUEST_BYTES + 1)
    else:
        with open(path, "rb") as f:
            data = f.read(MAX_REQUEST_BYTES + 1)
    return data


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """Yield each line (without its newline); a line longer than ``limit`` is skipped and yields None."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # discard the rest of the over-long line without holding it
                rest = stream.readline(65536)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line


def _check_stream(
    rules: Rules,
    check_line: Callable[[bytes], Decision],
    args: argparse.Namespace,
    stdin: IO[bytes],
    out: IO[str],
    err: IO[str],
) -> int:
    fmt = args.format or "json"
    name = "<stdin>" if args.jsonl == "-" else args.jsonl
    try:
        stream: IO[bytes] = stdin if args.jsonl == "-" else open(args.jsonl, "rb")  # noqa: SIM115
    except OSError as exc:
        err.write(f"{name}: error[io]: cannot read the requests: {exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    bad = denied = 0
    # Lines go out as bytes when the output has a byte layer: at a million lines, encoding each line
    # again through the text layer costs more than deciding it. One rendered line per distinct decision:
    # decision objects are shared per case, so the cache holds a few entries, not one per line.
    binary: IO[bytes] | None = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()
    write: Callable[[Any], object] = binary.write if binary is not None else out.write
    pending: list[Any] = []
    batch = OUTPUT_BATCH_LINES if stream is not stdin else 1
    joiner: bytes | str = b"" if binary is not None else ""
    rendered: dict[int, tuple[Decision, bytes | str]] = {}
    # A batch repeats the same request lines (the same request on another day is often the same line),
    # and the same bytes always parse to the same request and get the same decision: decide each
    # distinct line once. Bounded, and only short lines, so memory stays flat.
    by_line: dict[bytes, Decision] = {}
    try:
        for number, line in enumerate(_lines(stream, MAX_REQUEST_BYTES), start=1):
            if line is None:
                decision = rules.invalid(
                    [Diagnostic("too_large", f"the line is longer than {MAX_REQUEST_BYTES:,} bytes", path="$")]
                )
            elif (known := by_line.get(line)) is not None:
                decision = known
            elif len(line) < 3 and not line.strip():
                decision = rules.invalid([Diagnostic("empty_line", "the line is empty", path="$")])
            else:
                decision = check_line(line)
                if decision.status != "error" and len(line) <= LINE_CACHE_MAX_BYTES:
                    if len(by_line) >= LINE_CACHE_SIZE:
                        by_line.clear()  # start over: O(1), where evicting the oldest entry is not
                    by_line[line] = decision
            if decision.status == "error":
                bad += 1
                for error in decision.errors:
                    err.write(f"{name}:{number}: {error}\n")
                text = _error_line(decision, number, fmt, args.trace)
                pending.append(text.encode() if binary is not None else text)
            else:
                if decision.decision != "permit":
                    denied += 1
                entry = rendered.get(id(decision))
                if entry is None:
                    if len(rendered) >= RENDERED_CACHE_SIZE:
                        rendered.clear()
                    text = (
                        render_json(decision, trace=args.trace, indent=None) + "\n"
                        if fmt == "json"
                        else f"{decision.decision}\t{decision.status}\t{decision.rule or '-'}\n"
                    )
                    entry = rendered[id(decision)] = (decision, text.encode() if binary is not None else text)
                pending.append(entry[1])
            if len(pending) >= batch:
                write(joiner.join(pending))
                pending.clear()
    finally:
        if pending:
            write(joiner.join(pending))
        if stream is not stdin:
            stream.close()
        if binary is not None:
            binary.flush()
    if bad:
        return EXIT_BAD_INPUT
    return EXIT_DENY if denied else EXIT_PERMIT


def _error_line(decision: Decision, number: int, fmt: str, trace: bool) -> str:
    if fmt == "json":
        text = render_json(decision, trace=trace, indent=None)
        return '{"line":' + str(number) + "," + text[1:] + "\n"
    return "deny\terror\t-\n"
