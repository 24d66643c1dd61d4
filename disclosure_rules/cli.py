"""The ``disclosure-rules`` command: the only module that reads files, prints, or sets exit codes.

Exit codes (also in ``docs/cli.md``):

====  =====================================================================
0     permitted (every request, in JSON Lines mode)
1     bad input: a request that is not valid JSON or not valid for the vocabulary
2     denied (at least one request, in JSON Lines mode)
3     the rules did not load
4     wrong command-line usage
5     a scenario test failed (``disclosure-rules test``)
6     the rules load, but a check found something: ``validate`` (a clause unmapped, or a condition part
      with no law), ``analyze`` (a finding not declared intended; ``--can``: never), ``diff`` (changes)
7     the ledger could not be opened, read or written: nothing was printed as recorded that was not
8     the ledger is not intact (``disclosure-rules ledger verify``)
71    a worker process of ``check --jobs`` died: decisions were written for the lines before it only
74    the output could not be written (a closed pipe, a full disk): not every decision was written
70    an internal error (a bug: please report it)
====  =====================================================================

Exit code 0 means that every request was read, decided, written and permitted. Output is UTF-8 whatever the
locale, and valid JSON in JSON formats: a lone surrogate in a request (``"\\udcff"``) is written as its
``\\u`` escape.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import io
import json
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import attrs

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from .ledger import Ledger, LineRecorder
    from .records import RecordChecker


from .checker import Rules, bundled_rules_path, load
from .decisions.decision import Decision
from .diagnostics import Diagnostic, LoadError, Position, did_you_mean
from .intake.request import parse_date
from .reading.jsontext import MAX_REQUEST_BYTES, JsonInputError, loads_strict
from .render.json import render_json
from .render.terminal import Progress, batch_summary, source_excerpt, text_width
from .render.text import render_text
from .version import __version__


class _LazyModule:
    """A module imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    from . import docsgen, testing
    from .rulebook import literate
else:
    # Imported when first used: they bring the YAML reader and pyparsing, which `check` on cached rules
    # never needs (a cold `check` is mostly imports).
    docsgen, literate, testing = (
        _LazyModule(f"{__package__}.{name}") for name in ("docsgen", "rulebook.literate", "testing")
    )


def rule_files(directory: Path) -> list[Path]:
    from .rulebook.loader import rule_files as listed

    return listed(directory)


EXIT_PERMIT = 0
EXIT_BAD_INPUT = 1
EXIT_DENY = 2
EXIT_RULES = 3
EXIT_USAGE = 4
EXIT_TEST_FAILED = 5
EXIT_LAW_GAPS = 6
EXIT_LEDGER = 7
EXIT_LEDGER_BROKEN = 8
EXIT_INTERNAL = 70

COMMANDS = frozenset(("check", "test", "docs", "ledger", "validate", "analyze", "diff", "fmt", "schema", "completion"))
"""Every command's name: the one being run is the only one whose parser is built (see :func:`_parser`)."""
EXIT_OUTPUT = 74

RENDERED_CACHE_SIZE = 5_000
LINE_CACHE_SIZE = 5_000
LINE_CACHE_MAX_BYTES = 4_096
OUTPUT_BATCH_LINES = 512
"""Decisions written at once when reading a file: a write per 8 KB, at a million lines, costs more than deciding
them. Reading standard input, each decision is handed to the output as soon as it is made."""


_LEADING_ID = re.compile(rb'\{"id":("[A-Za-z0-9_.:\-]{0,200}"|0|-?[1-9][0-9]{0,17}),')
"""A line that opens with an id, written plainly: a short string of letters, digits and ``_.:-``, or an integer.
A batch gives each line its own id, so no two lines are the same bytes; without the id they repeat as much
as a batch without ids does."""


def _without_leading_id(line: bytes, end: int) -> bytes | None:
    """The line without its leading id, or None if the rest names an ``id`` again: then the line is a
    repeated key (an error the strict parser reports) or has an object with a key ``id`` somewhere, and it is
    decided on its own. (Inside a JSON string a quote is escaped, so ``"id"`` can only be a key.)"""
    rest = b"{" + line[end:]
    return None if b'"id"' in rest else rest


def _leading_id(lead: re.Match[bytes]) -> str | int:
    token = lead.group(1)
    return token[1:-1].decode("ascii") if token[:1] == b'"' else int(token)


class UsageError(Exception):
    pass


class OutputError(Exception):
    """Standard output could not be written: the reader closed the pipe, or the disk is full."""


class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _utf8(text: str) -> bytes:
    """The bytes written for ``text``: UTF-8, a lone surrogate (from a ``\\udcff`` escape in a request) as
    its escape, which keeps JSON valid and never writes a byte that is not UTF-8."""
    return text.encode("utf-8", "backslashreplace")


class Output:
    """Standard output as the commands write it: text as UTF-8 (see :func:`_utf8`), through the byte layer
    when there is one; any failure to write or flush becomes :class:`OutputError`."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.binary: IO[bytes] | None = getattr(stream, "buffer", None)
        if self.binary is not None:
            self._guard(stream.flush)  # whatever the text layer holds goes first

    def write(self, text: str) -> None:
        if self.binary is not None:
            self._guard(self.binary.write, _utf8(text))
        else:
            self._guard(self.stream.write, text)

    def write_encoded(self, data: bytes | str) -> None:
        """Write text already encoded by :func:`_utf8` (when :attr:`binary` is set), or text."""
        if isinstance(data, bytes):
            assert self.binary is not None
            self._guard(self.binary.write, data)
        else:
            self.write(data)

    def flush(self) -> None:
        self._guard((self.binary or self.stream).flush)

    @staticmethod
    def _guard(call: Callable[..., object], *args: Any) -> None:
        try:
            call(*args)
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            raise OutputError(getattr(exc, "strerror", None) or str(exc)) from None


class Errors:
    """Standard error: a message that cannot be written there is dropped (the exit code still tells)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad usage, which is this tool's code for "denied"; use 4. Help and the
    version go to the command's output, so that a closed pipe there is reported like any other."""

    def __init__(self, *args: Any, output: Output | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output = output

    def error(self, message: str) -> NoReturn:
        raise UsageError(message + _suggestion(self, message))

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message and self.output is not None and file in (None, sys.stdout):
            self.output.write(message)
        elif message:
            super()._print_message(message, file)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise _ParserExit(status)


def _suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    """A did-you-mean for a mistyped command (``chek``) or option (``--tracee``), added to argparse's message."""
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        hint = did_you_mean(choice.group(1), re.findall(r"'?([\w-]+)'?", choice.group(2)))
        return f" ({hint})" if hint else ""
    unknown = re.search(r"unrecognized arguments: (.*)", message)
    if unknown:
        options = sorted(_option_strings(parser))
        for word in unknown.group(1).split():
            hint = did_you_mean(word.split("=")[0], options) if word.startswith("--") else None
            if hint:
                return f" ({hint})"
    return ""


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option of ``parser`` and of its commands: argparse reports an unknown option from the top."""
    found: set[str] = set()
    for action in parser._actions:
        found.update(option for option in action.option_strings if option.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


EXIT_CODES_HELP = """exit codes:
  0   permitted (every request); test: every scenario passed; other commands: done
  1   bad input: a request that is not valid JSON or not valid for the vocabulary
  2   denied (at least one request)
  3   the rules did not load
  4   wrong command-line usage
  5   a scenario test failed (test)
  6   validate found a gap between the rules and the law they quote
  7   the ledger could not be opened, read or written
  8   the ledger is not intact (ledger verify)
  74  the output could not be written (a closed pipe, a full disk)
  70  an internal error (a bug: please report it)
"""


class _Unbuilt:
    """What a command that is not being run gets in place of its parser: every call is taken and ignored."""

    def __getattr__(self, name: str) -> Callable[..., _Unbuilt]:
        return lambda *args, **kwargs: self


class _OnlyCommand:
    """Subparsers that build only the command being run. The others cannot be reached: a parse that
    names this command never reads them, and when no command is known all are built."""

    def __init__(self, commands: Any, command: str) -> None:
        self._commands, self._command = commands, command

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        return self._commands.add_parser(name, **kwargs) if name == self._command else _Unbuilt()


def _parser(output: Output | None = None, command: str | None = None) -> _Parser:
    """The command line's parser; given the ``command`` being run, only that command is built (building
    every command, ``analyze``'s imports included, was a sixth of a cold ``check``)."""
    parser = _Parser(
        prog="disclosure-rules",
        description="Decide whether a disclosure of data is lawful, and why.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        output=output,
    )
    parser.add_argument("--version", action="version", version=f"disclosure-rules {__version__}")
    every = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands: Any = every if command is None else _OnlyCommand(every, command)

    check = commands.add_parser(
        "check",
        output=output,
        help="decide one request, or a JSON Lines stream of requests",
        description="Decide one request (a JSON file, or - for stdin) or, with --jsonl, "
        "a JSON Lines stream of requests, one decision per line.",
    )
    check.add_argument("requests", nargs="*", metavar="REQUEST", help="JSON request files, or - for standard input")
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
    _add_ledger_options(check)
    _add_batch_options(check)

    test = commands.add_parser(
        "test",
        output=output,
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
        output=output,
        help="write the rule documentation: Markdown pages and JSON schemas",
        description="Write Markdown pages for every rule set and rule, the vocabulary and the overview matrix, and "
        "the JSON schemas (of the request, the decision, and rule, vocabulary and scenario files), all generated "
        "from the rules (default: the bundled rules), with worked examples decided by the engine on the scenario "
        "tests.",
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
    docs.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="the date of the overview matrix (default: the last date on which the rules change)",
    )
    _add_ledger_command(commands)
    _add_validate(commands)
    # -- analysis: `analyze` and `diff` (disclosure_rules/analysis/cli.py) --
    if command in (None, "analyze", "diff"):
        from .analysis import cli as analysis_cli

        analysis_cli.add_commands(commands)
    # -- end analysis --
    _add_fmt(commands)
    _add_schema(commands)
    _add_completion(commands)
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    err = Errors(stderr or sys.stderr)
    try:
        out = Output(stdout or sys.stdout)
        code = _run(argv, stdin or sys.stdin.buffer, out, err)
        out.flush()  # a write error held in a buffer (a full disk) shows here, not after the exit code is chosen
        return code
    except OutputError as exc:
        err.write(f"disclosure-rules: error[io]: cannot write the output ({exc}); not every result was written\n")
        if stdout is None:
            _discard_stdout()
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        err.write(f"disclosure-rules: internal error: {type(exc).__name__}: {exc} (please report this)\n")
        return EXIT_INTERNAL


def _run(argv: Sequence[str] | None, stdin: IO[bytes], out: Output, err: Errors) -> int:
    try:
        arguments = sys.argv[1:] if argv is None else list(argv)
        named = arguments[0] if arguments and arguments[0] in COMMANDS else None
        args = _parser(out, named).parse_args(arguments)
        if args.command is None:
            raise UsageError("name a command, e.g. `disclosure-rules check request.json`")
        if args.command == "check":
            return _check(args, stdin, out, err)
        if args.command == "test":
            return _test(args, out, err)
        if args.command == "docs":
            return _docs(args, out, err)
        if args.command == "ledger":
            return _ledger_command(args, out, err)
        if args.command == "validate":
            return _validate(args, out, err)
        if args.command in ("analyze", "diff"):  # analysis
            return _analysis(args, out)
        if args.command == "fmt":
            return _fmt(args, out, err)
        if args.command == "schema":
            return _schema(args, out)
        if args.command == "completion":
            return _completion(args, out)
        raise UsageError(f"unknown command {args.command}")  # pragma: no cover
    except _ParserExit as exc:  # --help or --version, written
        return exc.status
    except UsageError as exc:
        err.write(f"disclosure-rules: error: {exc}\n(see `disclosure-rules --help`)\n")
        return EXIT_USAGE
    except LoadError as exc:
        _write_diagnostics(exc.diagnostics, err)
        err.write(
            f"disclosure-rules: the rules did not load ({len(exc.diagnostics)} error"
            f"{'s' if len(exc.diagnostics) != 1 else ''})\n"
        )
        return EXIT_RULES
    except Exception as exc:
        # The ledger is imported only by the commands that use one: an error of its kind needs it loaded.
        store = sys.modules.get(f"{__package__}.ledger.store")
        if store is None or not isinstance(exc, store.LedgerError):
            raise
        err.write(f"disclosure-rules: ledger error: {exc}\n")
        return EXIT_LEDGER


def _write_diagnostics(diagnostics: Sequence[Diagnostic], err: Errors) -> None:
    """Each problem in a rule or scenario file, with the source line it points at and a caret under the place."""
    lines: dict[str, list[str] | None] = {}
    for diagnostic in diagnostics:
        err.write(f"{diagnostic}\n")
        where = diagnostic.position
        if where is None:
            continue
        if where.file not in lines:
            lines[where.file] = _source_lines(where.file)
        source = lines[where.file]
        if source is not None and 1 <= where.line <= len(source):
            err.write(source_excerpt(source[where.line - 1], where.column, where.line) + "\n")


def _source_lines(path: str) -> list[str] | None:
    """A source file's lines for the excerpts under its errors; None if it cannot be read now (the error
    itself still names the place). Only a regular file is opened: a FIFO named as a rule file would block the
    open forever, and a device could be read without end."""
    from .reading.yamlsource import MAX_FILE_BYTES

    try:
        if not stat.S_ISREG(os.stat(path).st_mode) or os.stat(path).st_size > MAX_FILE_BYTES:
            return None
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(MAX_FILE_BYTES).splitlines()
    except (OSError, ValueError):
        return None


def _discard_stdout() -> None:
    """Point the process's standard output at /dev/null: what is still buffered for the closed pipe would
    otherwise fail again when Python exits, with a traceback and exit code 120."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


# -- analysis ------------------------------------------------------------------------------


def _analysis(args: argparse.Namespace, out: Output) -> int:
    from .analysis import cli as analysis_cli

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
    try:
        return any(testing.declares(path, "vocabulary") for path in rule_files(directory))
    except OSError:
        return False


def _rule_directory_of(paths: Sequence[str]) -> Path | None:
    """The rule directory a scenario PATH belongs to: the PATH itself or a parent with a vocabulary file."""
    for raw in paths:
        path = Path(raw).resolve()
        for directory in [path, *path.parents][:3]:
            if directory.is_dir() and _is_rule_directory(directory):
                return directory
    return None


def _test(args: argparse.Namespace, out: Output, err: Errors) -> int:
    paths = args.paths or [str(bundled_rules_path() / "tests")]
    rules_dir = args.rules or _rule_directory_of(paths)
    rules = load(rules_dir) if rules_dir else load()
    try:
        suites = testing.load_suites(paths)
    except testing.ScenarioError as exc:
        _write_diagnostics(exc.diagnostics, err)
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


def _docs(args: argparse.Namespace, out: Output, err: Errors) -> int:
    day = parse_date(args.date) if args.date is not None else None
    if args.date is not None and day is None:
        raise UsageError(f"`--date` must be a date written YYYY-MM-DD, not `{args.date}`")
    try:
        _site, written = docsgen.generate(args.out, args.rules, tests=args.tests, day=day)
    except testing.ScenarioError as exc:
        _write_diagnostics(exc.diagnostics, err)
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


BATCH_GC_THRESHOLDS = (20_000, 20, 20)
"""The garbage collector's thresholds for a batch (Python's are 700, 10, 10)."""


@contextlib.contextmanager
def _collecting_for_a_batch() -> Iterator[None]:
    """The garbage collector tuned for a batch, and restored after it. Deciding a new case makes many small
    objects that die young, freed by their counts, and the collector's passes over the objects that stay (the
    rules, the caches of decided cases) cost a batch of new cases a fifth of its time. So the rules loaded so
    far are set aside from its passes (`gc.freeze`; worker processes forked later share them), and its young
    passes are made rarer. The caches are bounded, so memory stays flat."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _check(args: argparse.Namespace, stdin: IO[bytes], out: Output, err: Errors) -> int:
    if args.jsonl and args.requests:
        raise UsageError("give either request files or --jsonl, not both")
    if not args.jsonl and not args.requests and args.input is None:
        raise UsageError("give a request file (or - for standard input), or --jsonl FILE")
    if args.requests.count("-") > 1:
        raise UsageError("standard input (`-`) can be read once: give it once")
    recorded = args.ledger or args.subject is not None or args.request_id is not None
    if recorded and len(args.requests) > 1:
        raise UsageError("with --ledger, give one request file, or a JSON Lines stream with --jsonl")
    args.request = args.requests[0] if args.requests else None
    rules = _load(args)
    check_object: Callable[[object], Decision] = rules.check
    check_line: Callable[[bytes], Decision] = rules.check_json
    records: RecordChecker | None = None
    if args.columns:
        records = _records(rules, args.columns, err)
        if records is None:
            return EXIT_BAD_INPUT
        check_object = records.check
        check_line = _row_reader(rules, records)
    _check_batch_usage(args)
    batch = args.jsonl or args.input is not None
    with _collecting_for_a_batch() if batch else contextlib.nullcontext():
        if args.input is not None:
            return _check_table(rules, records, args, out, err)
        if recorded:
            return _check_recorded(rules, check_object, args, stdin, out, err)
        if args.jsonl:
            return _check_stream(rules, check_line, args, stdin, out, err)
    if len(args.requests) > 1:
        return _check_files(rules, check_object, args, stdin, out, err)
    name = "<stdin>" if args.request == "-" else args.request
    decision = _decide_file(rules, check_object, args.request, stdin, err)
    if decision is None:
        return EXIT_BAD_INPUT
    return _emit_single(decision, args.format or "text", args.trace, out, err, name)


def _decide_file(
    rules: Rules, check_object: Callable[[object], Decision], path: str, stdin: IO[bytes], err: Errors
) -> Decision | None:
    """The decision on the request in ``path`` (an error decision if it is not valid JSON); None, the reason
    written, if the file cannot be read."""
    name = "<stdin>" if path == "-" else path
    try:
        raw = _read_request(path, stdin)
    except IsADirectoryError:
        err.write(
            f"{name}: error[io]: this is a directory, not a request file: give a JSON file in it, "
            "or a JSON Lines file with --jsonl\n"
        )
        return None
    except OSError as exc:
        err.write(f"{name}: error[io]: cannot read the request: {exc.strerror or exc}\n")
        return None
    try:
        return check_object(loads_strict(raw, name))
    except JsonInputError as exc:
        return rules.invalid([_json_lines_hint(exc.diagnostic, raw)])


def _json_lines_hint(diagnostic: Diagnostic, raw: bytes) -> Diagnostic:
    """A file of one JSON document per line, given as one request, fails as "extra data" on its second line:
    say what it is."""
    first, _, rest = raw.partition(b"\n")
    if diagnostic.code != "json_syntax" or "extra data" not in diagnostic.message or not rest.strip():
        return diagnostic
    try:
        loads_strict(first)
    except JsonInputError:
        return diagnostic
    return attrs.evolve(diagnostic, help="this looks like JSON Lines (one request per line): give it with --jsonl")


def _check_files(
    rules: Rules,
    check_object: Callable[[object], Decision],
    args: argparse.Namespace,
    stdin: IO[bytes],
    out: Output,
    err: Errors,
) -> int:
    """Several request files: each decided in turn; JSON output is one line per file, naming it."""
    fmt = args.format or "text"
    started = time.monotonic()
    bad = denied = 0
    for number, path in enumerate(args.requests):
        name = "<stdin>" if path == "-" else path
        decision = _decide_file(rules, check_object, path, stdin, err)
        if decision is None or decision.status == "error":
            bad += 1
            for error in decision.errors if decision is not None else ():
                err.write(file_message(name, error) + "\n")
            if decision is None:
                continue
        elif decision.decision != "permit":
            denied += 1
        if fmt == "json":
            text = render_json(decision, trace=args.trace, indent=None)
            out.write('{"file":' + json.dumps(name, ensure_ascii=False) + "," + text[1:] + "\n")
        else:
            rendered = render_text(decision, trace=args.trace, width=text_width(out.stream))
            out.write(("\n" if number else "") + f"{name}: {rendered}")
    err.write(batch_summary(len(args.requests), denied, bad, time.monotonic() - started) + "\n")
    if bad:
        return EXIT_BAD_INPUT
    return EXIT_DENY if denied else EXIT_PERMIT


def _records(rules: Rules, path: str, err: Errors) -> RecordChecker | None:
    """The checker of flat records for the column mapping in ``path``; None, the problems written, if bad."""
    from .records import ColumnsError

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


def _emit_single(decision: Decision, fmt: str, trace: bool, out: Output, err: Errors, name: str) -> int:
    if decision.status == "error":
        for error in decision.errors:
            err.write(file_message(name, error) + "\n")
        if fmt == "json":
            out.write(render_json(decision, trace=trace) + "\n")
        return EXIT_BAD_INPUT
    if fmt == "json":
        out.write(render_json(decision, trace=trace) + "\n")
    else:
        out.write(render_text(decision, trace=trace, width=text_width(out.stream)))
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
        # Without its newline: a line cut short inside a string is "unterminated", not "a control character".
        yield line[:-1] if line.endswith(b"\n") else line


def _check_stream(
    rules: Rules,
    check_line: Callable[[bytes], Decision],
    args: argparse.Namespace,
    stdin: IO[bytes],
    out: Output,
    err: Errors,
    recorder: LineRecorder | None = None,
) -> int:
    name = "<stdin>" if args.jsonl == "-" else args.jsonl
    try:
        stream: IO[bytes] = stdin if args.jsonl == "-" else open(args.jsonl, "rb")  # noqa: SIM115
    except OSError as exc:
        err.write(f"{name}: error[io]: cannot read the requests: {exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    try:
        if args.jobs > 1:
            return _decide_stream_jobs(rules, args, stream, name, out, err)
        return _decide_stream(rules, check_line, args, stream, stream is not stdin, name, out, err, recorder)
    finally:
        if stream is not stdin:
            stream.close()


def _decide_stream(
    rules: Rules,
    check_line: Callable[[bytes], Decision],
    args: argparse.Namespace,
    stream: IO[bytes],
    from_file: bool,
    name: str,
    out: Output,
    err: Errors,
    recorder: LineRecorder | None = None,
    lines: Iterable[bytes | None] | None = None,
    first_line: int = 1,
    tally: dict[str, int] | None = None,
) -> int:
    """One record per line of ``stream``, in order; the exit code of the whole (see the module docstring).

    With a ledger (``recorder``), each batch is committed to it before it is written, and nothing that was
    not recorded is ever written: a ledger error propagates before the batch is printed."""
    fmt = args.format or "json"
    bad = denied = 0
    # Lines go out as bytes when the output has a byte layer: at a million lines, encoding each line
    # again through the text layer costs more than deciding it. One rendered line per distinct decision:
    # decision objects are shared per case, so the cache holds a few entries, not one per line.
    encode: Callable[[str], bytes | str] = _utf8 if out.binary is not None else str
    pending: list[Any] = []
    batch = (LEDGER_BATCH_LINES if recorder else OUTPUT_BATCH_LINES) if from_file else 1
    joiner: bytes | str = b"" if out.binary is not None else ""
    rendered: dict[int, tuple[Decision, bytes | str]] = {}
    # A batch repeats the same request lines (the same request on another day is often the same line),
    # and the same bytes always parse to the same request and get the same decision: decide each
    # distinct line once. Bounded, and only short lines, so memory stays flat.
    by_line: dict[bytes, Decision] = {}
    number = first_line - 1
    started = time.monotonic()
    progress = Progress(err.stream, stream if from_file and lines is None else None)
    try:
        source = lines if lines is not None else _lines(stream, MAX_REQUEST_BYTES)  # lines: a --jobs chunk
        for number, line in enumerate(source, start=first_line):
            progress.update(number)
            if line is None:
                decision = rules.invalid(
                    [Diagnostic("too_large", f"the line is longer than {MAX_REQUEST_BYTES:,} bytes", path="$")]
                )
            elif (known := by_line.get(line)) is not None:
                decision = known
            else:
                # A line that opens with a plain id is the same case as every line with the same rest.
                lead = _LEADING_ID.match(line)
                rest = line if lead is None else _without_leading_id(line, lead.end())
                if lead is not None and rest is not None and (known := by_line.get(rest)) is not None:
                    decision = known.with_id(_leading_id(lead))
                else:
                    decision = _placed_in_file(rules, check_line(line), number, name)
                    if decision.status != "error" and len(line) <= LINE_CACHE_MAX_BYTES:
                        if len(by_line) >= LINE_CACHE_SIZE:
                            by_line.clear()  # start over: O(1), where evicting the oldest entry is not
                        if rest is line:
                            by_line[line] = decision
                        elif rest is not None:
                            by_line[rest] = decision.with_id(None)
            if recorder is not None:
                recorder.add(line, decision)
            if decision.status == "error":
                bad += 1
                progress.clear()
                for error in decision.errors:
                    err.write(line_message(name, number, error) + "\n")
                pending.append(encode(_error_line(decision, number, fmt, args.trace)))
            else:
                if decision.decision != "permit":
                    denied += 1
                # Copies of a case's decision (one per request id) share its explanation: render the case
                # once, and put each line's id in front.
                entry = rendered.get(id(decision.explanation))
                if entry is None:
                    if len(rendered) >= RENDERED_CACHE_SIZE:
                        rendered.clear()
                    line_text = encode(_record_line(decision.with_id(None), fmt, args.trace))
                    entry = rendered[id(decision.explanation)] = (decision, line_text)
                pending.append(entry[1] if decision.id is None else _with_id_line(entry[1], decision.id, fmt))
            if len(pending) >= batch:
                if recorder is not None:
                    recorder.commit()  # recorded before printed
                _write_lines(out, joiner, pending)
                pending.clear()
    except OSError as exc:  # reading the requests failed part way: what was decided is written, then said
        if recorder is not None:
            recorder.commit()
        _write_lines(out, joiner, pending)
        progress.clear()
        err.write(f"{name}:{number + 1}: error[io]: cannot read the requests: {exc.strerror or exc}\n")
        _end_of_batch(err, tally, number - first_line + 1, denied, bad, started)
        return EXIT_BAD_INPUT
    if recorder is not None:
        recorder.commit()
    _write_lines(out, joiner, pending)
    out.flush()
    progress.clear()
    _end_of_batch(err, tally, number - first_line + 1, denied, bad, started)
    if bad:
        return EXIT_BAD_INPUT
    return EXIT_DENY if denied else EXIT_PERMIT


def _write_lines(out: Output, joiner: Any, lines: list[Any]) -> None:
    # A ledger's batch of 16,384 decisions is about 30 MB of JSON: joined whole, each batch is a fresh buffer
    # the kernel must fault in and copy cold, which cost more system time than the ledger's own writes.
    for start in range(0, len(lines), OUTPUT_BATCH_LINES):
        out.write_encoded(joiner.join(lines[start : start + OUTPUT_BATCH_LINES]))


def _end_of_batch(err: Errors, tally: dict[str, int] | None, total: int, denied: int, bad: int, started: float) -> None:
    """The one-line summary of a batch; a --jobs chunk only counts, and the parent sums the chunks and says it."""
    if tally is None:
        err.write(batch_summary(total, denied, bad, time.monotonic() - started) + "\n")
    else:
        tally.update(total=total, denied=denied, bad=bad)


_SYNTAX_PLACE = re.compile(r"^1:(\d+): ")


def _placed_in_file(rules: Rules, decision: Decision, number: int, name: str) -> Decision:
    """A JSON syntax error's place, which the parser counts within the line (``1:7``), as a place in the file
    the line is ``number`` of: line ``number``, column 7 (a line is one request, so its columns are the
    file's)."""
    if decision.status != "error" or not any(e.code == "json_syntax" for e in decision.errors):
        return decision
    placed = []
    for error in decision.errors:
        found = _SYNTAX_PLACE.match(error.message) if error.code == "json_syntax" else None
        if found:
            where = Position(name, number, int(found.group(1)))
            error = attrs.evolve(error, message=error.message[found.end() :], position=where)
        placed.append(error)
    return rules.invalid(placed)


def file_message(name: str, error: Diagnostic) -> str:
    """An error in the request file ``name``: ``FILE:LINE:COLUMN: $.path: ...`` where the error has its place
    in the file, else ``FILE: $.path: ...``."""
    if error.position is not None and error.position.file == name:
        return f"{error.position}: {attrs.evolve(error, position=None)}"
    return f"{name}: {error}"


def line_message(name: str, number: int, error: Diagnostic) -> str:
    """An error on line ``number`` of a JSON Lines stream: ``FILE:LINE:COLUMN: $.path: error[code]: ...``, the
    column where the parser knows one, then the JSON path within the line's request."""
    column = error.position.column if error.position is not None else None
    where = f"{name}:{number}:{column}" if column is not None else f"{name}:{number}"
    return f"{where}: {attrs.evolve(error, position=None)}"


def _record_line(decision: Decision, fmt: str, trace: bool) -> str:
    if fmt == "json":
        return render_json(decision, trace=trace, indent=None) + "\n"
    line = f"{decision.decision}\t{decision.status}\t{decision.rule or '-'}\n"
    return line if decision.id is None else str(_with_id_line(line, decision.id, fmt))


def _with_id_line(line: bytes | str, request_id: object, fmt: str) -> bytes | str:
    """A rendered line of a decision without an id, as the line of the same decision with ``request_id``:
    in JSON, the ``id`` key first (as :func:`render_json` puts it); in text, a fourth column."""
    shown = json.dumps(request_id, ensure_ascii=False)
    if isinstance(line, bytes):
        if fmt == "json":
            return b'{"id": ' + shown.encode() + b", " + line[1:]
        return line[:-1] + b"\t" + shown.encode() + b"\n"
    if fmt == "json":
        return '{"id": ' + shown + ", " + line[1:]
    return line[:-1] + "\t" + shown + "\n"


def _error_line(decision: Decision, number: int, fmt: str, trace: bool) -> str:
    if fmt == "json":
        text = render_json(decision, trace=trace, indent=None)
        return '{"line":' + str(number) + "," + text[1:] + "\n"
    return "deny\terror\t-\n"


# --- The ledger (issue 12): `check --ledger`, `ledger verify`, `ledger report` ------------------------------------
# Kept in one block, with one-line hooks in _parser, main, _check and _check_stream, so that it merges easily.

LEDGER_BATCH_LINES = 16_384
"""Decisions recorded in one transaction when reading a file: each commit waits for the disk (fsync), which
costs more than writing the records. Pending lines hold shared rendered bytes, so memory stays small."""


def _add_ledger_options(check: argparse.ArgumentParser) -> None:
    check.add_argument(
        "--ledger",
        metavar="PATH_OR_URL",
        help="record every decision, before printing it, in this ledger: an SQLite file or a postgresql:// URL",
    )
    check.add_argument("--subject", metavar="S", help="with --ledger, one request: the individual it concerns")
    check.add_argument("--request-id", metavar="ID", help="with --ledger, one request: the request's identifier")


def _add_ledger_command(commands: Any) -> None:
    ledger = commands.add_parser(
        "ledger",
        help="verify a ledger of decisions, or report from it",
        description="Verify a ledger's hash chain, or report from it: the accounting of disclosures for one "
        "individual, or counts for oversight.",
    )
    actions = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", parser_class=_Parser)
    check = actions.add_parser("verify", help="recompute the hash chain; name the first bad record")
    check.add_argument("ledger", metavar="PATH_OR_URL", help="an SQLite ledger file or a postgresql:// URL")
    check.add_argument("--anchor", metavar="SEQ:HASH", help="a record's number and hash kept from an earlier run")
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    report = actions.add_parser("report", help="the accounting for one subject, or counts by route, recipient, holder")
    report.add_argument("ledger", metavar="PATH_OR_URL", help="an SQLite ledger file or a postgresql:// URL")
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--subject", metavar="S", help="the accounting of disclosures for this individual")
    which.add_argument("--by", choices=("route", "recipient", "holder"), help="count decisions by this")
    report.add_argument("--all", action="store_true", help="with --subject, include denied requests")
    report.add_argument("--since", metavar="YYYY-MM-DD", help="with --by, disclosure dates from this day")
    report.add_argument("--until", metavar="YYYY-MM-DD", help="with --by, disclosure dates up to this day")
    report.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format")
    init = actions.add_parser("init", help="create a ledger (or bring it to this version's schema) and stop")
    init.add_argument("ledger", metavar="PATH_OR_URL", help="an SQLite ledger file or a postgresql:// URL")
    grants = actions.add_parser(
        "grants", help="print the PostgreSQL GRANT/REVOKE SQL for an append-only writer and a reader"
    )
    grants.add_argument("--writer", metavar="ROLE", help="the role that records decisions: INSERT, never UPDATE")
    grants.add_argument("--reader", metavar="ROLE", help="the role that verifies and reports: SELECT only")
    grants.add_argument("--schema", metavar="NAME", default="public", help="where the tables are (default: public)")


def _check_recorded(
    rules: Rules,
    check_object: Callable[[object], Decision],
    args: argparse.Namespace,
    stdin: IO[bytes],
    out: Output,
    err: Errors,
) -> int:
    """`check --ledger`: every decision is committed to the ledger before it is printed."""
    from .ledger import LineRecorder, open_ledger

    if not args.ledger:
        raise UsageError("--subject and --request-id label what a ledger records: give --ledger too")
    if args.jsonl and (args.subject is not None or args.request_id is not None):
        raise UsageError(
            'in JSON Lines mode, label each line with an envelope: {"request": ..., "id": ..., "subject": ...}'
        )
    with contextlib.closing(open_ledger(args.ledger)) as ledger:
        if args.jsonl:
            recorder = LineRecorder(ledger, check_object, rules.invalid)
            return _check_stream(rules, recorder.check_line, args, stdin, out, err, recorder=recorder)
        return _check_one_recorded(rules, check_object, ledger, args, stdin, out, err)


def _check_one_recorded(
    rules: Rules,
    check_object: Callable[[object], Decision],
    ledger: Ledger,
    args: argparse.Namespace,
    stdin: IO[bytes],
    out: Output,
    err: Errors,
) -> int:
    from .ledger import Entry
    from .ledger.lines import read_line

    name = "<stdin>" if args.request == "-" else args.request
    try:
        raw = _read_request(args.request, stdin)
    except OSError as exc:
        err.write(f"{name}: error[io]: cannot read the request: {exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    read = read_line(raw)
    if (args.subject is not None and read.subject is not None) or (
        args.request_id is not None and read.request_id is not None
    ):
        raise UsageError("the request's envelope and the command line both label it: give the label once")
    decision = rules.invalid([read.problem]) if read.problem is not None else check_object(read.request)
    request_id = args.request_id if args.request_id is not None else read.request_id
    subject = args.subject if args.subject is not None else read.subject
    ledger.append([Entry(read.doc, decision, request_id, subject)])
    return _emit_single(decision, args.format or "text", args.trace, out, err, name)


def _ledger_command(args: argparse.Namespace, out: Output, err: Errors) -> int:
    if args.ledger_command is None:
        raise UsageError(
            "name an action: `disclosure-rules ledger verify LEDGER`, `ledger report LEDGER ...`, "
            "`ledger init LEDGER` or `ledger grants --writer ROLE --reader ROLE`"
        )
    if args.ledger_command == "verify":
        return _ledger_verify(args, out)
    if args.ledger_command == "init":
        return _ledger_init(args, out)
    if args.ledger_command == "grants":
        return _ledger_grants(args, out)
    return _ledger_report(args, out)


def _ledger_init(args: argparse.Namespace, out: Output) -> int:
    from .ledger import latest_schema_version, open_ledger
    from .ledger.postgres import is_postgres_url

    # Run as the tables' owner: an append-only writer may not create or migrate them (see `ledger grants`).
    with contextlib.closing(open_ledger(args.ledger)) as ledger:
        ((records,),) = ledger.store.query("SELECT seq FROM ledger_head WHERE id = 1")
        version = latest_schema_version("postgres" if is_postgres_url(str(args.ledger)) else "sqlite")
        out.write(f"{ledger.name}: ready: schema version {version}, {int(records):,} records\n")
    return EXIT_PERMIT


def _ledger_grants(args: argparse.Namespace, out: Output) -> int:
    from .ledger.grants import grants_sql

    if args.writer is None and args.reader is None:
        raise UsageError("name the roles: `ledger grants --writer ROLE --reader ROLE` (or one of them)")
    out.write(grants_sql(writer=args.writer, reader=args.reader, schema=args.schema))
    return EXIT_PERMIT


def _anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
        raise UsageError(f"`--anchor` is SEQ:HASH (a record number and its 64-digit hex hash), not `{text}`")
    return int(seq), digest.lower()


def _ledger_verify(args: argparse.Namespace, out: Output) -> int:
    from .ledger import open_ledger, verify

    anchor = _anchor(args.anchor)
    with contextlib.closing(open_ledger(args.ledger, readonly=True)) as ledger:
        result = verify(ledger, anchor=anchor)
        name = ledger.name
    problem = result.problem
    if args.format == "json":
        document = {
            "ledger": name,
            "intact": result.intact,
            "records": result.records,
            "last_seq": result.last_seq,
            "last_hash": result.last_hash,
            "problem": None
            if problem is None
            else {"seq": problem.seq, "decision_id": problem.decision_id, "what": problem.what},
        }
        out.write(json.dumps(document, ensure_ascii=False) + "\n")
    elif problem is None:
        out.write(
            f"{name}: intact: {result.records:,} records; last record {result.last_seq}, hash {result.last_hash}\n"
        )
    else:
        where = f"record {problem.seq} (decision {problem.decision_id})" if problem.seq is not None else "the ledger"
        out.write(f"{name}: NOT INTACT: {where}: {problem.what}\n")
        out.write(f"{name}: the {result.records:,} records before it are intact (last hash {result.last_hash})\n")
    return EXIT_PERMIT if problem is None else EXIT_LEDGER_BROKEN


def _ledger_report(args: argparse.Namespace, out: Output) -> int:
    from .ledger import accounting, counts, format_accounting, format_counts, open_ledger

    for option in ("since", "until"):
        value = getattr(args, option)
        if value is not None and (args.subject is not None or parse_date(value) is None):
            raise UsageError(f"`--{option}` is a date written YYYY-MM-DD, and goes with --by")
    if args.all and args.subject is None:
        raise UsageError("`--all` goes with --subject")
    with contextlib.closing(open_ledger(args.ledger, readonly=True)) as ledger:
        if args.subject is not None:
            rows = list(accounting(ledger, args.subject, include_denials=args.all))
            out.write(format_accounting(rows, args.subject, args.format))
        else:
            found = counts(ledger, args.by, since=args.since, until=args.until)
            out.write(format_counts(found, args.by, args.format))
    return EXIT_PERMIT


# -- validate: the rules against the law they quote (issue 14) -------------------------------------------------


def _add_validate(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="load and type-check the rules, and check each rule against the clauses of the law it quotes",
        description="Load and type-check a rule directory (default: the bundled rules), then report every clause of "
        "the law a rule quotes that no part of its condition encodes and no note explains, and every part of a "
        "condition that encodes no clause. Exit 0 when there is none, 3 if the rules do not load, 6 otherwise.",
    )
    validate.add_argument("rules_dir", nargs="?", metavar="RULES_DIR", help="a rule directory")


def _validate(args: argparse.Namespace, out: Output, err: Errors) -> int:
    rules = load(args.rules_dir) if args.rules_dir else load()
    findings = literate.check(rules.book)
    for finding in findings:
        err.write(f"{finding}\n")
    book = rules.book
    clauses = sum(len(r.statute) for r in book.rules.values())
    unmodelled = sum(1 for r in book.rules.values() for c in r.statute if c.not_modelled is not None)
    if findings:
        err.write(
            f"disclosure-rules: {len(findings)} gap{'s' if len(findings) != 1 else ''} between the rules and the law\n"
        )
        return EXIT_LAW_GAPS
    out.write(
        f"{len(book.rules)} rules quote {clauses} clauses of law ({unmodelled} with a not-modelled note); every "
        "clause is mapped and every condition part encodes one\n"
    )
    return EXIT_PERMIT


# -- end of validate ---------------------------------------------------------------------------------------------


# -- batches beyond one core (issue 11): `check --jsonl --jobs N`, `check --input/--output` -------------------------
# Kept in one block, with one-line hooks in _parser, _check, _check_stream and _decide_stream (its `lines` and
# `first_line`), so that it merges easily.

EXIT_WORKER_DIED = 71
"""A worker process of ``--jobs`` died (killed, out of memory): decisions were written for a prefix of the input
only, and the message says up to which line."""

JOBS_CHUNK_LINES = 2_048
"""Lines handed to a worker at once: large enough that passing them between processes costs little beside
deciding them, small enough that the chunks in flight (a few per worker) hold little memory."""


def _add_batch_options(check: argparse.ArgumentParser) -> None:
    check.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=1,
        help="with --jsonl, decide in N worker processes (output in input order; default: 1, this process)",
    )
    check.add_argument(
        "--input",
        metavar="FILE",
        help="with --columns, a table of flat records: FILE.csv or FILE.parquet (Parquet needs pyarrow)",
    )
    check.add_argument(
        "--output",
        metavar="FILE",
        help="with --input, write the rows with decision, status, rule and reason columns to FILE.csv or "
        "FILE.parquet (default: CSV on standard output)",
    )


def _check_batch_usage(args: argparse.Namespace) -> None:
    if args.jobs < 1:
        raise UsageError(f"`--jobs` is a number of worker processes, at least 1, not {args.jobs}")
    if args.jobs > 1 and not args.jsonl:
        raise UsageError("`--jobs` goes with --jsonl")
    if args.jobs > 1 and args.ledger:
        # The ledger records each decision before it is printed, in one process's transactions; workers
        # would have to send every decision back to be recorded. Refused rather than half-supported.
        raise UsageError("`--jobs` cannot be used with --ledger: record a batch with one job")
    if args.output is not None and args.input is None:
        raise UsageError("`--output` goes with --input")
    if args.input is not None:
        if not args.columns:
            raise UsageError("`--input` reads flat records: give --columns MAPPING.json too")
        if args.request or args.jsonl:
            raise UsageError("give one of a request file, --jsonl FILE or --input FILE")
        if args.ledger or args.subject is not None or args.request_id is not None:
            raise UsageError("`--input` cannot be used with --ledger")
        if args.jobs > 1:
            raise UsageError("`--jobs` goes with --jsonl")


def _job_setup(state: tuple[Rules, dict[str, str] | None, argparse.Namespace, str]) -> Callable[[Any], Any]:
    """In a worker process: the rules (loaded once, or inherited), and the function deciding one chunk of lines
    exactly as one process would, giving back its output bytes, its messages and its exit code."""
    rules, columns, args, name = state
    check_line: Callable[[bytes], Decision] = rules.check_json
    if columns is not None:
        check_line = _row_reader(rules, rules.records(columns))

    def decide(chunk: tuple[int, list[bytes | None]]) -> tuple[bytes, str, int, dict[str, int]]:
        first, lines = chunk
        buffer = io.BytesIO()
        messages = io.StringIO()
        out = Output(io.TextIOWrapper(buffer, encoding="utf-8"))
        tally: dict[str, int] = {}
        code = _decide_stream(
            rules,
            check_line,
            args,
            io.BytesIO(),
            True,
            name,
            out,
            Errors(messages),
            lines=lines,
            first_line=first,
            tally=tally,
        )
        return buffer.getvalue(), messages.getvalue(), code, tally

    return decide


def _decide_stream_jobs(
    rules: Rules, args: argparse.Namespace, stream: IO[bytes], name: str, out: Output, err: Errors
) -> int:
    """`check --jsonl --jobs N`: the same lines, messages and exit code as one process, decided by N."""
    from .integrations.parallel import WorkerDied, WorkerFailed, chunked, ordered_map

    read_error: list[tuple[int, OSError]] = []
    count = 0

    def lines() -> Iterator[bytes | None]:
        nonlocal count
        try:
            for line in _lines(stream, MAX_REQUEST_BYTES):
                count += 1
                yield line
        except OSError as exc:  # what was read is decided and written, then the error is said
            read_error.append((count + 1, exc))

    columns = dict(_records_columns(rules, args)) if args.columns else None
    state = (rules, columns, args, name)
    bad = denied = False
    written = 0
    totals = {"total": 0, "denied": 0, "bad": 0}
    started = time.monotonic()
    try:
        chunks = ordered_map(chunked(lines(), JOBS_CHUNK_LINES), _job_setup, state, jobs=args.jobs)
        for data, messages, code, tally in chunks:
            if messages:
                err.write(messages)
            out.write_encoded(data if out.binary is not None else data.decode("utf-8"))
            written += data.count(b"\n")
            bad = bad or code == EXIT_BAD_INPUT
            denied = denied or code == EXIT_DENY
            for key, value in tally.items():
                totals[key] += value
    except WorkerDied as exc:
        err.write(
            f"disclosure-rules: error: {exc}; decisions were written for the first {written:,} lines only "
            "(run again, or with fewer --jobs if memory ran out)\n"
        )
        return EXIT_WORKER_DIED
    except WorkerFailed as exc:
        err.write(f"disclosure-rules: internal error in a worker process (please report this):\n{exc}")
        return EXIT_INTERNAL
    out.flush()
    if read_error:
        number, error = read_error[0]
        err.write(f"{name}:{number}: error[io]: cannot read the requests: {error.strerror or error}\n")
    err.write(batch_summary(totals["total"], totals["denied"], totals["bad"], time.monotonic() - started) + "\n")
    if bad or read_error:
        return EXIT_BAD_INPUT
    return EXIT_DENY if denied else EXIT_PERMIT


def _check_table(
    rules: Rules, records: RecordChecker | None, args: argparse.Namespace, out: Output, err: Errors
) -> int:
    """`check --columns MAP --input rows.csv|rows.parquet [--output out.csv|out.parquet]`: the rows, each with its
    decision, status, rule and reason; an error names the row (counting data rows from 1) and the column."""
    from .integrations.tables import Table, TableError, TableWriter

    assert records is not None  # _check_batch_usage requires --columns
    name = args.input
    bad = denied = 0
    number = 0
    try:
        table = Table(args.input, records.columns, rules.vocabulary)
        sink = io.StringIO() if args.output is None else None
        writer = TableWriter(table, args.output, sink)
        try:
            for batch in table.batches():
                decided: list[tuple[list[object], tuple[str, str, str | None, str]]] = []
                for (cells, _record), decision in zip(batch, records.check_many(r for _, r in batch), strict=True):
                    number += 1
                    if decision.status == "error":
                        bad += 1
                        for error in decision.errors:
                            err.write(f"{name}: row {number}: {error}\n")
                    elif decision.decision != "permit":
                        denied += 1
                    decided.append((cells, (decision.decision, decision.status, decision.rule, decision.reason)))
                writer.write(decided)
                if sink is not None:  # CSV to standard output, a batch at a time
                    out.write(sink.getvalue())
                    sink.seek(0)
                    sink.truncate()
        finally:
            writer.close()
        if sink is not None:
            out.write(sink.getvalue())
    except TableError as exc:
        raise UsageError(str(exc)) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        what = getattr(exc, "strerror", None) or str(exc)
        err.write(f"{name}: error[io]: cannot read or write the table at row {number + 1}: {what}\n")
        return EXIT_BAD_INPUT
    except Exception as exc:  # pyarrow's errors (a broken file, a type it cannot write): bad input, said so
        if type(exc).__module__.startswith("pyarrow"):
            err.write(f"{name}: error[table]: at row {number + 1}: {exc}\n")
            return EXIT_BAD_INPUT
        raise
    out.flush()
    if bad:
        return EXIT_BAD_INPUT
    return EXIT_DENY if denied else EXIT_PERMIT


def _records_columns(rules: Rules, args: argparse.Namespace) -> Mapping[str, str]:
    # Read again here (checked already by _check, which wrote any problem): the mapping goes to the workers.
    records = _records(rules, args.columns, Errors(sys.stderr))
    if records is None:  # pragma: no cover - the file changed since _check read it
        raise UsageError(f"the column mapping {args.columns} could not be read again")
    return records.columns


# -- end of batches ------------------------------------------------------------------------------------------------


# -- fmt: the canonical layout of rule, vocabulary and scenario files (issue 13) -------------------------------


def _add_fmt(commands: Any) -> None:
    command = commands.add_parser(
        "fmt",
        help="rewrite rule, vocabulary and scenario files in their canonical layout, keeping every comment",
        description="Rewrite YAML files (PATHS: files, or directories searched for *.yaml and *.yml) in their "
        "canonical layout: line endings, trailing white space, blank lines, the final newline. Comments, quoting, "
        "key order and indentation are kept, and a file is rewritten only if it still means the same.",
    )
    command.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    command.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 and name each file that is not canonical"
    )


def _yaml_files(paths: Sequence[str]) -> list[Path]:
    from .reading.yamlsource import is_yaml_name

    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if is_yaml_name(p) and p.is_file())
        else:
            found.append(path)
    return found


def _fmt(args: argparse.Namespace, out: Output, err: Errors) -> int:
    from .reading.yamlsource import YamlError, read_source

    files = _yaml_files(args.paths)
    if not files:
        raise UsageError("no YAML files found in " + ", ".join(f"`{p}`" for p in args.paths))
    changed = bad = 0
    for path in files:
        try:  # read_source refuses a FIFO, a device or a huge file before opening it, as the loader does
            text = read_source(path).decode("utf-8")
        except YamlError as exc:
            _write_diagnostics([exc.diagnostic], err)
            bad += 1
            continue
        except UnicodeDecodeError as exc:
            err.write(f"{path}: error[encoding]: the file is not UTF-8 (byte {exc.start})\n")
            bad += 1
            continue
        from .reading import fmt  # imported where used, as the other commands' modules are

        result = fmt.format_text(str(path), text)
        if result.text is None:
            assert result.problem is not None
            _write_diagnostics([result.problem], err)
            bad += 1
        elif result.text != text:
            changed += 1
            if args.check:
                err.write(f"{path}: not in the canonical layout (run `disclosure-rules fmt {path}`)\n")
            else:
                _rewrite(path, result.text)
    verb = "would change" if args.check else "changed"
    count = f"{len(files)} file{'s' if len(files) != 1 else ''}"
    out.write(f"{count}: {changed} {verb}, {len(files) - changed - bad} already canonical\n")
    return EXIT_BAD_INPUT if bad or (args.check and changed) else EXIT_PERMIT


def _rewrite(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file and a rename: an interrupted run leaves the old
    file or the new one, never half of it."""
    temporary = path.with_name(f".{path.name}.fmt-tmp")
    temporary.write_bytes(text.encode("utf-8"))
    os.replace(temporary, path)


# -- end of fmt ---------------------------------------------------------------------------------------------------


# -- schema and completion: what editors and shells read (issue 13) ----------------------------------------------

SCHEMA_NAMES = ("rule-file", "ruleset", "vocabulary", "scenarios", "request", "decision")


def _add_schema(commands: Any) -> None:
    command = commands.add_parser(
        "schema",
        help="print a JSON Schema: of rule, vocabulary or scenario files (for editors), or of requests and decisions",
        description="Print a JSON Schema to standard output: rule-file (a vocabulary or a rule set, as a rule "
        "directory holds them), ruleset, vocabulary or scenarios, for editors that run yaml-language-server; "
        "request (under the vocabulary of --rules) or decision.",
    )
    command.add_argument("name", choices=SCHEMA_NAMES, metavar="NAME", help=", ".join(SCHEMA_NAMES))
    command.add_argument("--rules", metavar="DIR", help="with request: a rule directory (default: the bundled rules)")


def _schema(args: argparse.Namespace, out: Output) -> int:
    from . import fileschema
    from .render import schema

    if args.rules and args.name != "request":
        raise UsageError("`--rules` goes with `schema request`: the other schemas are the same for every rule set")
    if args.name == "request":
        out.write(schema.dumps(schema.request_schema(_load(args).vocabulary)))
    elif args.name == "decision":
        out.write(schema.dumps(schema.decision_schema()))
    else:
        out.write(fileschema.dumps(fileschema.FILE_SCHEMAS[args.name]()))
    return EXIT_PERMIT


def _add_completion(commands: Any) -> None:
    command = commands.add_parser(
        "completion",
        help="print a shell completion script for bash, zsh or fish",
        description="Print a script that completes this command's commands, options and their values in SHELL. "
        'bash: eval "$(disclosure-rules completion bash)" in ~/.bashrc; zsh: eval "$(disclosure-rules completion '
        'zsh)" in ~/.zshrc after compinit; fish: disclosure-rules completion fish > '
        "~/.config/fish/completions/disclosure-rules.fish.",
    )
    if isinstance(command, _Unbuilt):  # another command is being run: nothing to import for this one
        return
    from .completion import SHELLS

    command.add_argument("shell", choices=SHELLS, metavar="SHELL", help=", ".join(SHELLS))


def _completion(args: argparse.Namespace, out: Output) -> int:
    from .completion import script

    out.write(script(_parser(), args.shell))
    return EXIT_PERMIT


# -- end of schema and completion ---------------------------------------------------------------------------------
