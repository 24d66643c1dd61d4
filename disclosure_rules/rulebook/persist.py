"""A loaded rule set kept on disk, so that a cold start reads one file instead of parsing YAML and conditions.

Loading the bundled rules (reading the YAML, parsing every condition with pyparsing, type-checking it)
takes most of a one-request ``check``. The checked :class:`~disclosure_rules.rulebook.model.Rulebook` is plain
frozen data, so it is pickled, with the code generated from it (:mod:`.codegen`, whose compiling was a
fifth of a cold start), into the user's cache directory (``$XDG_CACHE_HOME/disclosure-rules``, or
``~/.cache/disclosure-rules``; ``DISCLOSURE_RULES_CACHE_DIR`` overrides it, and ``off`` turns it off).

The file's name is a hash of everything the loaded rules depend on: each rule file's name and bytes, the
directory they are in (diagnostics and rule pages name their files), this package's version, the name, size
and modification time of each of its own source files (an editable install changes its code without a new
version, and an old pickle of a changed class would load without its new attributes) and the Python version.
So a cached rule set is never stale: a changed file is a different name. A file that cannot
be read, does not unpickle, or holds anything but a rule book of that hash is ignored and the rules are
loaded from their sources, as if there were no cache; failing to write it is not an error either. Rules
that do not load are never cached (their errors are reported from the sources each time).

The cache directory is the user's own: whoever can write there can already run code as the user (a pickle
is code, as is the ``.bashrc`` beside it), so the cache trusts it as it trusts the installed package.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from ..version import __version__
from .model import Rulebook

ENV_VAR = "DISCLOSURE_RULES_CACHE_DIR"
FORMAT = b"disclosure-rules rulebook 2"
MAX_KEYED_BYTES = 8 * 2**20
"""A rule file larger than this is not cached (the loader refuses far smaller ones)."""


def cache_dir() -> Path | None:
    """Where compiled rule sets are kept, or None when caching is turned off."""
    configured = os.environ.get(ENV_VAR)
    if configured is not None:
        return None if configured in ("", "off") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "disclosure-rules"


def _is_rule_file(path: Path) -> bool:
    # As `yamlsource.is_yaml_name`, which this module does not import (it would import the YAML parser);
    # tests/test_persist.py checks that the two agree.
    return path.suffix.lower() in (".yaml", ".yml") and not path.name.startswith(".")


def content_key(directory: Path) -> str | None:
    """The hash naming the cached form of the rules in ``directory``, or None if a file cannot be read
    (the loader then says why)."""
    digest = hashlib.sha256(FORMAT + b"\0" + __version__.encode() + b"\0" + sys.version.encode() + b"\0")
    digest.update(_code_stamp())
    try:
        digest.update(str(directory.resolve()).encode() + b"\0")
        for path in sorted(p for p in directory.iterdir() if _is_rule_file(p)):
            raw = _regular_file_bytes(path)
            if raw is None:
                return None
            digest.update(path.name.encode() + b"\0" + raw + b"\0")
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


@functools.cache
def _code_stamp() -> bytes:
    """The package's own source files as they are installed: name, size and modification time of each."""
    package = Path(__file__).resolve().parent.parent
    stamp = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.update(f"{path.relative_to(package)}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return stamp.digest()


def _regular_file_bytes(path: Path) -> bytes | None:
    """The bytes of a regular file of a sensible size, or None for anything else (the loader reports it).
    Looked at before opening, and opened without blocking: opening a FIFO waits for a writer."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        return None
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_KEYED_BYTES:
            return None
        return f.read(MAX_KEYED_BYTES + 1)


def load_cached(
    directory: Path, load: Callable[[Path], Rulebook], derive: Callable[[Rulebook], object] = lambda book: None
) -> tuple[Rulebook, object]:
    """The rule book of ``directory`` and what ``derive`` makes of it: from the cache if it holds this
    content, else ``load(directory)`` (which raises on rules that do not load) and ``derive(book)``, then kept
    for next time. What is derived is kept with the book it was derived from, in one file, so the two always
    belong together; its caller checks its type."""
    where = cache_dir()
    key = content_key(directory) if where is not None else None
    if where is None or key is None:
        book = load(directory)
        return book, derive(book)
    target = where / f"{key}.pickle"
    stored = _read(target, key)
    if stored is None:
        book = load(directory)
        stored = (book, derive(book))
        _write(where, target, key, stored)
    return stored


def _read(target: Path, key: str) -> tuple[Rulebook, object] | None:
    try:
        with open(target, "rb") as f:
            stored = pickle.load(f)
    except Exception:  # missing, unreadable, truncated or from another version: load from the sources
        return None
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == key and isinstance(stored[1], Rulebook)):
        return None
    return stored[1], stored[2]


def _write(where: Path, target: Path, key: str, stored: tuple[Rulebook, object]) -> None:
    try:
        where.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a file, and two writers both leave a whole one.
        import tempfile  # only here: it costs a cold start about 10 ms

        fd, temporary = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump((key, *stored), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except Exception:  # a read-only or full disk, a book that does not pickle: load from the sources next time
        return


__all__ = ["cache_dir", "content_key", "load_cached"]
