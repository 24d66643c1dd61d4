"""Chunks of work decided by worker processes, the results given back in input order, in constant memory.

The parent hands out at most ``in_flight`` chunks at a time and holds the results that are early until
their turn, so memory is bounded by ``in_flight`` chunks however long the input is. A worker that dies (killed,
out of memory) is noticed while waiting and raised as :class:`WorkerDied`: its chunk is never silently missing.

Each worker sends its results back on a pipe of its own. A shared queue would not do: a worker killed in the
middle of writing a result leaves half a message in the pipe, and a reader waiting for the rest would wait
forever while the other workers keep the pipe open. On a pipe of its own, a dead writer is an end of file.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")

POLL_SECONDS = 0.2
"""How often a parent waiting for results looks whether every worker is still alive."""


class WorkerDied(Exception):
    """A worker process ended before its work was done: what it held was not decided."""

    def __init__(self, pid: int | None, exitcode: int | None) -> None:
        how = f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
        super().__init__(f"worker process {pid} died ({how})")
        self.pid = pid
        self.exitcode = exitcode


class WorkerFailed(Exception):
    """A worker raised: a bug, reported with the worker's traceback."""


class _Task(Generic[S, T, R]):
    """What a worker runs: ``setup(state)`` once, which returns the function applied to each chunk."""

    def __init__(self, setup: Callable[[S], Callable[[T], R]], state: S) -> None:
        self.setup = setup
        self.state = state


def _worker(task: _Task[Any, Any, Any], inbox: Any, outbox: Connection) -> None:
    try:
        work = task.setup(task.state)
    except BaseException:
        outbox.send((-1, False, traceback.format_exc()))
        return
    while True:
        item = inbox.get()
        if item is None:
            return
        seq, chunk = item
        try:
            result = (seq, True, work(chunk))
        except BaseException:
            result = (seq, False, traceback.format_exc())
        outbox.send(result)


def _context() -> Any:
    # Fork where there is one: the workers start with the parent's loaded rules and nothing is loaded again.
    # Elsewhere the rules are pickled by content (see Rules.__reduce__) and loaded once per worker.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def ordered_map(
    chunks: Iterable[T],
    setup: Callable[[S], Callable[[T], R]],
    state: S,
    *,
    jobs: int,
    in_flight: int | None = None,
) -> Iterator[R]:
    """``setup(state)(chunk)`` for each chunk, in ``jobs`` worker processes, yielded in the order of ``chunks``.

    ``setup`` must be a module-level function (a spawned worker imports it). Raises :class:`WorkerDied` if a
    worker process ends early and :class:`WorkerFailed` if the work raises; the workers are stopped however the
    iteration ends.
    """
    limit = in_flight if in_flight is not None else 2 * jobs + 2
    context = _context()
    inbox = context.Queue()
    readers: dict[Connection, Any] = {}
    workers = []
    for _ in range(jobs):
        # One pipe at a time, its writing end closed here once the worker holds it: a worker forked later
        # must not inherit it, or the pipe would not end when its own worker dies.
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(_Task(setup, state), inbox, sender), daemon=True)
        process.start()
        sender.close()
        readers[receiver] = process
        workers.append(process)
    done: dict[int, R] = {}
    sent = 0
    given = 0
    source = iter(chunks)
    exhausted = False

    def receive() -> None:
        ready = wait(list(readers), timeout=POLL_SECONDS)
        for receiver in ready:
            assert isinstance(receiver, Connection)
            try:
                seq, ok, value = receiver.recv()
            except (EOFError, OSError):  # the worker died, perhaps half way through a message
                process = readers[receiver]
                process.join(timeout=5)
                raise WorkerDied(process.pid, process.exitcode) from None
            if not ok:
                raise WorkerFailed(value)
            done[seq] = value
        if not ready:
            for process in workers:
                if process.exitcode is not None:
                    raise WorkerDied(process.pid, process.exitcode)

    try:
        while True:
            while not exhausted and sent - given < limit:
                try:
                    chunk = next(source)
                except StopIteration:
                    exhausted = True
                    break
                inbox.put((sent, chunk))
                sent += 1
            if given == sent:
                break
            while given not in done:
                receive()
            yield done.pop(given)
            given += 1
        for _ in workers:
            inbox.put(None)
        for process in workers:
            process.join(timeout=5)
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        inbox.close()
        inbox.cancel_join_thread()
        for receiver in readers:
            receiver.close()


def chunked(items: Iterable[T], size: int, start: int = 1) -> Iterator[tuple[int, list[T]]]:
    """``items`` in lists of ``size``, each with the number of its first item (counting from ``start``)."""
    chunk: list[T] = []
    first = start
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield first, chunk
            first += len(chunk)
            chunk = []
    if chunk:
        yield first, chunk


__all__ = ["WorkerDied", "WorkerFailed", "chunked", "ordered_map"]
