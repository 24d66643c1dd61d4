"""The public entry point: load rules once, check requests many times.

>>> import disclosure_rules
>>> rules = disclosure_rules.load()               # the bundled rule sets
>>> decision = rules.check(request_dict)          # a frozen Decision
>>> for d in rules.check_many(request_dicts): ... # one Decision per request, in order

A :class:`Rules` keeps a bounded cache from case keys to decisions (see
:mod:`disclosure_rules.intake.cases`): the first request of a case is validated,
evaluated and explained in full; later requests of the same case reuse that
decision. Invalid requests are never cached.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .decisions.decision import Decision
from .decisions.explain import Explainer
from .diagnostics import Diagnostic, LoadError
from .engine.codegen import Generated
from .engine.codegen import build as build_generated
from .engine.compiler import CompiledRulebook, compile_rulebook
from .engine.evaluator import decide, use_generated
from .intake.cases import BYPASS_WINDOW, build_key_function, plan_buckets, skipped_after
from .intake.request import RequestReader, is_request_id
from .intake.request import request_id as request_id_of
from .intake.requestgen import build_quick_reader
from .reading.jsontext import MAX_REQUEST_BYTES, JsonInputError, loads_strict, loads_trusting_keys
from .records import RecordChecker
from .rulebook.model import Rulebook, RulebookInfo
from .rulebook.persist import load_cached
from .rulebook.vocabulary import Vocabulary
from .version import __version__

if TYPE_CHECKING:
    from .decisions.rows import RequestDecider

CACHE_BYTES = 64 * 2**20
"""About how much memory the case cache may take, by default."""


def default_cache_size(book: Rulebook) -> int:
    """How many decisions fit in :data:`CACHE_BYTES`.

    A cached decision holds its reason, a key and, until its explanation is read, its verdict and
    environment packed into tuples (see ``Explainer.deferred``); about 1 KB plus 64 bytes a rule, measured on
    the bundled rules (about 3.9 KB each with tracemalloc, so the default cache stays under about 64 MB).
    """
    return max(1_000, CACHE_BYTES // (1_024 + 64 * len(book.rules)))


def bundled_rules_path() -> Path:
    """Where the rules shipped with the package are: inside the wheel, or ``rules/`` of a checkout."""
    # The package's own directory (what importlib.resources gives a package on disk, without importing it:
    # that import is a fifth of a cold start).
    packaged = Path(__file__).resolve().parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


class Rules:
    """A loaded, compiled rulebook, ready to check requests. Build it with :func:`load`."""

    def __init__(self, book: Rulebook, *, cache_size: int | None = None) -> None:
        self.book = book
        self.compiled: CompiledRulebook = compile_rulebook(book)
        reads = self.compiled.reads
        quoted = {p for r in book.rules.values() for p in r.reason.paths}
        if book.vocabulary.disclosure is not None:
            quoted.update(book.vocabulary.disclosure.paths)
        self._buckets = plan_buckets(
            book.vocabulary,
            reads.date_literals,
            reads.date_paths_compared_to_paths,
            quoted,
            [(r.effective.start, r.effective.end) for r in book.rules.values()],
        )
        # What the key keeps: what the rules read and the templates quote (the rest is only checked).
        self.read_paths = frozenset(reads.paths | quoted)
        self._key = build_key_function(book.vocabulary, self._buckets, read=self.read_paths)
        self._reader = RequestReader(book.vocabulary)
        self._quick_read = build_quick_reader(book.vocabulary, self._reader.shared_set)
        self._explainer = Explainer(self.compiled, self._describe_date)
        self._cache: dict[Any, Decision] = {}
        self._cache_size = default_cache_size(book) if cache_size is None else max(0, cache_size)
        self._bypass = [0, 0, 0]
        """Requests of this window, how many met a cached case, and how many more skip the cache."""
        # What a pickle carries (see __reduce__): set by load(); a Rules built from a Rulebook has no files.
        self._origin: _Origin | None = None

    @functools.cached_property
    def _counted_key_function(self) -> Callable[[object], Any]:
        """The case key that also counts the keys it read (see :meth:`check_json`): made when JSON text is
        first checked, since a check of a parsed request never needs it."""
        return build_key_function(self.book.vocabulary, self._buckets, counted=True, read=self.read_paths)

    @property
    def vocabulary(self) -> Vocabulary:
        return self.book.vocabulary

    @property
    def info(self) -> RulebookInfo:
        """The rule-set names and the content hash of the files these rules came from."""
        return self.book.info

    def _describe_date(self, path: str, day: datetime.date) -> str:
        plan = self._buckets.get(path)
        return plan.describe(day) if plan is not None else day.isoformat()

    def check(self, request: object) -> Decision:
        """Decide one request (a parsed JSON object).

        Never raises for a bad request: it is denied with status ``error``, its ``errors`` saying why.
        """
        try:
            key = self._key(request)
            cached = self._cache.get(key) if key is not None else None
        except TypeError:  # an unhashable value: decide it the long way
            key, cached = None, None
        decision = cached if cached is not None else self._decide_and_remember(request, key)
        return _with_id(decision, request)

    def check_json(self, text: bytes | str) -> Decision:
        """Decide one request given as JSON text (UTF-8 bytes or a string), parsed strictly (see
        :mod:`~disclosure_rules.reading.jsontext`).

        Malformed JSON, a repeated key or ``NaN`` is denied with status ``error``, as an invalid request is.
        """
        # The strict parser notices repeated keys through a Python call per object, which costs a third of
        # the parse. Parse without it when the text shows it need not: the case key counts the keys of
        # every object it reads (n), and each key of the text is followed by one colon, so the text has at
        # least as many colons as keys. n equal to the number of colons means every object was read and no
        # key repeated (a repeat leaves the objects fewer keys than the text has).
        try:
            if isinstance(text, bytes) and len(text) <= MAX_REQUEST_BYTES:
                request = loads_trusting_keys(text)
                counted = self._counted_key_function(request)
                if counted is not None and counted[1] == text.count(b":"):
                    key = counted[0]
                    decision = self._cache.get(key)
                    if decision is None:
                        decision = self._decide_and_remember(request, key)
                    return _with_id(decision, request)
        except (ValueError, TypeError, RecursionError):
            pass  # bad JSON, or an unhashable key: the strict way says what is wrong, or decides
        try:
            return self.check(loads_strict(text))
        except JsonInputError as exc:
            return self.invalid([exc.diagnostic])

    def check_many(self, requests: Iterable[object]) -> Iterator[Decision]:
        """Decide each request in turn, yielding decisions in order; memory does not grow with the input."""
        key_of = self._key
        get = self._cache.get
        fresh = self._request_decider.decide
        state = self._bypass
        seen, hits, skip = state
        try:
            for request in requests:
                # A cache that is not hit is not filled (see intake.cases.build_record_functions): a batch of
                # new cases is decided without the key, and a window is sampled again now and then.
                if skip:
                    skip -= 1
                    key, decision = None, None
                else:
                    seen += 1
                    if seen == BYPASS_WINDOW:
                        skip = skipped_after(hits)
                        seen = hits = 0
                    try:
                        key = key_of(request)
                        decision = get(key) if key is not None else None
                    except TypeError:
                        key, decision = None, None
                    hits += decision is not None
                if decision is None:
                    decision = fresh(request, key)
                # Decisions are shared by a case; the id is the request's own, on a copy sharing the rest.
                if request.__class__ is dict and "id" in request:  # type: ignore[operator]
                    decision = _with_id(decision, request)
                yield decision
        finally:  # the counts carry over to the next call, as a batch may come in chunks
            state[:] = seen, hits, skip

    def records(self, columns: Mapping[str, str]) -> RecordChecker:
        """A checker for flat records, each column standing for one request path.

        ``columns`` maps a column name to a field (``"date"``), a fact (``"facts.request.signed_by"``) or
        ``"chain"``. A row is decided as the request made by putting each value at its path; an error names
        the row's column. See :mod:`disclosure_rules.records`.

        Raises :class:`~disclosure_rules.records.ColumnsError` if a column names no request path, two
        columns give the same path, or no column gives a required field.
        """
        return RecordChecker(
            self.vocabulary,
            self._buckets,
            columns,
            check=self.check,
            invalid=self.invalid,
            cache_size=self._cache_size,
            read=self.read_paths,
            decide=self._decide_environment,
            shared_set=self._reader.shared_set,
            rows=self._row_decider,
        )

    def _row_decider(
        self,
        columns: Mapping[str, str],
        read: Callable[[object], dict[str, Any] | None],
        fallback: Callable[[object, Any], Decision],
        keep: Callable[[Any, Decision], None] | None,
    ) -> Callable[[object, Any], Decision] | None:
        """The generated function that decides a row of a new case (see :mod:`.decisions.rows`), or None where
        a column gives the chain."""
        # Imported here: a cold `check` of one request never needs it.
        from .decisions.rows import RowDecider, supported

        if not supported(self.vocabulary, columns):
            return None
        decider = RowDecider(
            self.compiled, self._explainer, columns, self._buckets, read, fallback, keep, self._reader.shared_set
        )
        return decider.decide_row

    def decide_uncached(self, request: object) -> Decision:
        """Validate, evaluate and explain ``request`` without the case cache (what a cache miss does)."""
        return _with_id(self._decide(request), request)

    def _decide(self, request: object) -> Decision:
        # The case's decision, without the request's id: what the cache may hold.
        try:
            env = self._quick_read(request)
            if env is None:  # not plainly valid: the reader says what is wrong, if anything
                env, errors = self._reader.read(request)
                if errors:
                    return self._explainer.error(errors)
        except RecursionError:
            return self._explainer.error([Diagnostic("too_deep", "the request is nested too deeply", path="$")])
        return self._decide_environment(env)

    def _decide_environment(self, env: dict[str, Any]) -> Decision:
        """The decision on a valid request's environment (as the reader builds it), without an id."""
        try:
            verdict = decide(self.compiled, env, env["date"])
            return self._explainer.decision(verdict, verdict.env)
        except RecursionError:
            return self._explainer.error([Diagnostic("too_deep", "the request is nested too deeply", path="$")])
        except Exception as exc:
            return self._explainer.error(
                [Diagnostic("evaluation_error", f"the rules could not be evaluated: {type(exc).__name__}: {exc}")]
            )

    def environment(self, request: object) -> Mapping[str, Any] | None:
        """The values the rules read from ``request`` (with ``chain.received_under`` decided), or None if it is
        invalid: what the documentation evaluates each part of a condition on."""
        env, errors = self._reader.read(request)
        if errors:
            return None
        return decide(self.compiled, env, env["date"]).env

    def invalid(self, errors: list[Diagnostic]) -> Decision:
        """The decision for input that could not be read at all (e.g. malformed JSON): deny, status ``error``."""
        return self._explainer.error(errors)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by rule-set content, so that a worker process or another machine (Dask, ``--jobs``) rebuilds
        the same rules without the original directory: the bundled rules as their content hash (the worker's
        bundled rules must be the same), any other directory as its files' bytes. Unpickling checks the
        content hash, and a worker loads the same content once however many times it is unpickled."""
        origin = self._origin
        if origin is None:
            raise TypeError("only rules made by disclosure_rules.load() can be pickled (their files are known)")
        return (_unpickle_rules, (origin.files, self.info.hash, __version__, self._cache_size))

    def __dask_tokenize__(self) -> tuple[str, str, int]:
        """Dask names tasks by their arguments: the content hash names these rules, cheaper than pickling."""
        return ("disclosure_rules.Rules", self.info.hash, self._cache_size)

    @functools.cached_property
    def _request_decider(self) -> RequestDecider:
        """What decides a new case of a batch by its rules' signature (see :mod:`.decisions.rows`): made when a
        batch first needs it, so that a cold ``check`` of one request never builds it."""
        from .decisions.rows import RequestDecider  # imported here: a cold `check` never needs it

        keep = self._keep if self._cache_size else None
        return RequestDecider(
            self.compiled, self._explainer, self._quick_read, self._decide_and_remember, keep, self._reader.shared_set
        )

    def _keep(self, key: Any, decision: Decision) -> None:
        """Remember a case's decision under its key (the cache must be on)."""
        cache = self._cache
        if len(cache) >= self._cache_size:
            # Start over rather than evict the oldest: with steady eviction, finding the oldest key of a dict
            # means scanning past every key deleted before it.
            cache.clear()
        cache[key] = decision

    def _decide_and_remember(self, request: object, key: Any) -> Decision:
        decision = self._decide(request)
        if key is not None and decision.status != "error" and self._cache_size:
            self._keep(key, decision)
        return decision


@attrs.frozen
class _Origin:
    files: dict[str, bytes] | None
    """The rule files' bytes by file name; None for the bundled rules."""


def _content_hash(files: Mapping[str, bytes]) -> str:
    """The loader's content hash (``RulebookInfo.hash``) of these files: over each name and its bytes, in
    the loader's order."""
    digest = hashlib.sha256()
    for name in sorted(files, key=lambda n: Path(n)):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return "sha256:" + digest.hexdigest()


_UNPICKLED: dict[tuple[str, int], Rules] = {}
"""Rules rebuilt in this process from a pickle, by content hash and cache size: a Dask worker unpickles the
rules with every task, and loads them once."""


def _unpickle_rules(files: dict[str, bytes] | None, expected: str, version: str, cache_size: int) -> Rules:
    known = _UNPICKLED.get((expected, cache_size))
    if known is not None:
        return known
    if version != __version__:
        # Another version of the engine may decide the same rules differently: refuse, never guess.
        raise LoadError(
            [
                Diagnostic(
                    "version_differs",
                    f"these rules were pickled by disclosure-rules {version}, and this process has {__version__}",
                )
            ]
        )
    if files is None:
        rules = load(cache_size=cache_size)
    else:
        import tempfile  # only here: it costs a cold start about 10 ms

        with tempfile.TemporaryDirectory(prefix="disclosure-rules-") as directory:
            for name, data in files.items():
                if Path(name).name != name:  # a pickle is data: it names files, never paths
                    raise LoadError([Diagnostic("no_rules", f"a pickled rule file is named `{name}`, not a name")])
                (Path(directory) / name).write_bytes(data)
            rules = load(directory, cache_size=cache_size)
        rules._origin = _Origin(files)
    if rules.info.hash != expected:
        where = "the bundled rules here" if files is None else "the pickled rule files"
        raise LoadError(
            [
                Diagnostic(
                    "hash_differs",
                    f"{where} have content hash {rules.info.hash}, not {expected} as the pickled rules had",
                    help="install the same disclosure-rules (and rules) on every worker",
                )
            ]
        )
    _UNPICKLED[(expected, cache_size)] = rules
    return rules


def _with_id(decision: Decision, request: object) -> Decision:
    """``decision`` for ``request``, carrying its ``id`` (a valid one: an invalid id is an error decision)."""
    request_id = request_id_of(request)
    if request_id is None or not is_request_id(request_id):
        return decision
    return decision.with_id(request_id)  # type: ignore[arg-type]


def load(path: str | Path | None = None, *, cache_size: int | None = None) -> Rules:
    """Load a rule directory (default: the bundled rules) and compile it.

    ``cache_size`` bounds how many decided cases are kept (0 turns the cache off); by default, as many as
    fit in about 64 MB. When full, the cache starts over.

    Raises :class:`~disclosure_rules.diagnostics.LoadError` listing every problem if any file does not load.
    Rules that loaded are kept, checked, in the user's cache directory, keyed by the files' content (see
    :mod:`~disclosure_rules.rulebook.persist`), so the next process reads them at once.
    """
    directory = Path(path) if path is not None else bundled_rules_path()
    book, generated = load_cached(directory, _load_rulebook, _generate)
    rules = Rules(book, cache_size=cache_size)
    if isinstance(generated, Generated):
        use_generated(rules.compiled, generated)
    if path is None:
        rules._origin = _Origin(None)
    else:
        # Read again for pickling; a file changed since it was loaded shows as a hash that differs, and
        # then these rules cannot be pickled (their files are no longer known). Imported here, as the loader is.
        from .reading.yamlsource import YamlError, read_source
        from .rulebook.loader import rule_files

        try:
            files = {p.name: read_source(p) for p in rule_files(directory)}
        except (OSError, YamlError):
            files = None
        if files is not None and _content_hash(files) == rules.info.hash:
            rules._origin = _Origin(files)
    return rules


def _generate(book: Rulebook) -> Generated:
    # Kept with the rule book in the cache: generating and compiling it is a fifth of a cold `check`.
    return build_generated(compile_rulebook(book))


def _load_rulebook(directory: Path) -> Rulebook:
    # Imported here: the loader brings the YAML reader and pyparsing, which a cached rule set never needs.
    from .rulebook.loader import load_rulebook

    return load_rulebook(directory)


__all__ = ["LoadError", "Rules", "bundled_rules_path", "load"]
