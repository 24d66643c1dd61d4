"""What the command line shows a person at a terminal, and only there: the width text wraps to, a progress
line for a long batch, and the one-line summary that ends a batch.

The progress line is built in rather than taken from rich or tqdm: it is one line of text rewritten in place
on standard error, a dozen lines of code, and not worth a dependency every install (and every audit of a tool
that handles tax data) would carry. It is drawn only when standard error is a terminal, so a log never holds it.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import IO

PROGRESS_EVERY_SECONDS = 0.25
PROGRESS_CHECK_LINES = 1024
"""Look at the clock once per this many lines: a batch decides a million lines in seconds, and asking the time
for each one would cost more than the line itself."""


def is_terminal(stream: object) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (OSError, ValueError):  # a closed stream
        return False


def text_width(stream: object) -> int | None:
    """The width to wrap text to: the terminal's, or None (no wrapping) when the output is not a terminal,
    since a program or a pager reading it wraps it itself, or wants one line per item."""
    if not is_terminal(stream):
        return None
    return max(40, shutil.get_terminal_size().columns)


class Progress:
    """``N requests (P%)`` rewritten in place on standard error while a batch from a file is decided."""

    def __init__(self, stream: IO[str], source: IO[bytes] | None) -> None:
        self.stream = stream
        self.enabled = is_terminal(stream)
        self.size = _size(source) if self.enabled else None
        self.source = source
        self.shown = False
        self.last = time.monotonic()

    def update(self, count: int) -> None:
        if not self.enabled or count % PROGRESS_CHECK_LINES:
            return
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        share = ""
        if self.size and self.source is not None:
            try:
                share = f" ({min(100, 100 * self.source.tell() // self.size)}%)"
            except (OSError, ValueError):
                share = ""
        self._write(f"\rdisclosure-rules: {count:,} requests decided{share}\x1b[K")
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self._write("\r\x1b[K")
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False


def _size(source: IO[bytes] | None) -> int | None:
    """The size of a regular file being read, for the percentage; None for a pipe."""
    try:
        return os.fstat(source.fileno()).st_size or None if source is not None else None
    except (OSError, ValueError, AttributeError):
        return None


def batch_summary(total: int, denied: int, errors: int, seconds: float) -> str:
    """The line that ends a batch: how many of each outcome, and how long it took."""
    permitted = total - denied - errors
    return (
        f"disclosure-rules: {total:,} request{'s' if total != 1 else ''} in {seconds:.2f} s: "
        f"{permitted:,} permitted, {denied:,} denied, {errors:,} error{'s' if errors != 1 else ''}"
    )


def source_excerpt(line: str, column: int, number: int) -> str:
    """The offending source line under an error, with a caret at ``column`` (counted from 1, as the error
    names it): the author sees the mistake without opening the file."""
    text = line.rstrip("\r\n").expandtabs(1)
    gutter = f"{number} | "
    caret = " " * (len(gutter) - 2) + "| " + " " * max(0, min(column, len(text) + 1) - 1) + "^"
    return f"{gutter}{text}\n{caret}"
