"""Parse untrusted JSON text strictly: one clear error with a position, never a traceback.

Python's ``json`` accepts ``NaN`` and ``Infinity`` and lets a repeated key
silently win; both are refused here, because two readers of the same request
must not see two different requests. Deep nesting and huge numbers, which make
the standard parser raise other exceptions, become errors too.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..diagnostics import Diagnostic, Position

MAX_REQUEST_BYTES = 1_000_000


class JsonInputError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


class _DuplicateKey(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise ValueError(f"`{name}` is not valid JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constants)
_DECODER_LAST_KEY_WINS = json.JSONDecoder(parse_constant=_no_constants)


def loads_trusting_keys(text: bytes) -> Any:
    """Parse UTF-8 JSON as :func:`loads_strict` does, except that a repeated key is not noticed (the last one
    wins): about a third faster, for a caller that proves otherwise that no key repeats. Raises ValueError
    (including :class:`UnicodeDecodeError`) or RecursionError on bad input; call :func:`loads_strict` then,
    for the error to report.
    """
    return _DECODER_LAST_KEY_WINS.decode(text.decode("utf-8"))


def loads_strict(text: str | bytes, where: str = "") -> Any:
    """Parse one JSON document; raise :class:`JsonInputError` naming the problem and its place."""
    prefix = f"{where}:" if where else ""
    if len(text) > MAX_REQUEST_BYTES:
        raise JsonInputError(
            Diagnostic(
                "too_large", f"the request has {len(text):,} bytes; the limit is {MAX_REQUEST_BYTES:,}", path="$"
            )
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(
                Diagnostic("encoding", f"{prefix}the input is not UTF-8 (byte {exc.start})", path="$")
            ) from None
    _refuse_what_the_parser_misnames(text, prefix)
    try:
        return _within_key_limit(_DECODER.decode(text))
    except json.JSONDecodeError as exc:
        if where:
            place = Position(where, exc.lineno, exc.colno)
            raise JsonInputError(Diagnostic("json_syntax", exc.msg.lower(), position=place, path="$")) from None
        raise JsonInputError(
            Diagnostic("json_syntax", f"{exc.lineno}:{exc.colno}: {exc.msg.lower()}", path="$")
        ) from None
    except _DuplicateKey as exc:
        raise JsonInputError(
            Diagnostic("duplicate_key", f"the key `{exc.args[0]}` appears twice in one object", path="$")
        ) from None
    except RecursionError:
        raise JsonInputError(Diagnostic("too_deep", "the JSON is nested too deeply", path="$")) from None
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        raise JsonInputError(Diagnostic("json_value", f"{prefix}{_value_problem(exc)}", path="$")) from None


MAX_REQUEST_KEYS = 10_000
"""The most keys, in all its objects, that one request may have (a real one has a few dozen). Each key a
vocabulary does not declare costs a search for the closest declared name, so a megabyte of unknown keys
would otherwise take seconds to report."""


def _within_key_limit(value: Any) -> Any:
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            if count > MAX_REQUEST_KEYS:
                raise JsonInputError(
                    Diagnostic("too_large", f"the request has more than {MAX_REQUEST_KEYS:,} keys", path="$")
                )
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def _refuse_what_the_parser_misnames(text: str, prefix: str) -> None:
    """Blank input and a byte order mark, which the parser reports as "expecting value" at 1:1."""
    if not text.strip(" \t\r\n"):
        raise JsonInputError(Diagnostic("empty", "the request is empty (nothing but white space)", path="$"))
    if text.startswith("\ufeff"):
        raise JsonInputError(
            Diagnostic(
                "json_syntax",
                f"{prefix}1:1: the text starts with a byte order mark (BOM), which JSON does not allow",
                path="$",
                help="save it as UTF-8 without a BOM",
            )
        )


def _value_problem(exc: ValueError) -> str:
    """The parser's complaint about a value, in this project's words (not advice to call a Python function)."""
    text = str(exc)
    if "int_max_str_digits" in text or "integer string conversion" in text:
        return f"a number has more than {sys.get_int_max_str_digits():,} digits"
    return text.lower()
