"""Every exit path of the command line (issue 9): exit code 0 only when every request was read, decided,
written and permitted; a closed pipe or a full disk is exit code 74 with a message, never 0 and never 70;
output is UTF-8 and valid JSON whatever a request holds."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO

import pytest

from disclosure_rules.cli import EXIT_BAD_INPUT, EXIT_DENY, EXIT_OUTPUT, EXIT_PERMIT, main

from .conftest import EXAMPLES, ROOT

PERMIT = EXAMPLES / "irs-ice-address-request.json"
AFTER = EXAMPLES / "irs-ice-address-request-after-injunction.json"


def one_line(path: Path) -> str:
    return json.dumps(json.loads(path.read_text()))


class Failing(io.TextIOWrapper):
    """A standard output whose writes fail, as a closed pipe's or a full disk's do."""

    def __init__(self, error: OSError, after: int = 0) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8")
        self.error = error
        self.left = after

    def write(self, text: str) -> int:
        self._maybe_fail()
        return super().write(text)

    def flush(self) -> None:
        self._maybe_fail()
        super().flush()

    @property
    def buffer(self) -> Any:  # the byte layer fails the same way
        outer = self

        class _Buffer:
            def write(self, data: bytes) -> int:
                outer._maybe_fail()
                return len(data)

            def flush(self) -> None:
                outer._maybe_fail()

        return _Buffer()

    def _maybe_fail(self) -> None:
        if self.left <= 0:
            raise self.error
        self.left -= 1


def run_with(stdout: TextIO, *argv: str, stdin: bytes = b"") -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(stdin), stdout=stdout, stderr=err)
    return code, err.getvalue()


# -- issue 9, failure 3: a denial exited 0 when standard output closed early --------------------------


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), OSError(28, "No space left on device")])
@pytest.mark.parametrize(
    "argv",
    [
        ["check", str(AFTER)],
        ["check", str(PERMIT)],
        ["check", "--format", "json", str(AFTER)],
        ["check", "--jsonl", "-"],
        ["test", str(ROOT / "rules" / "tests" / "court-orders.yaml")],
        ["--help"],
        ["--version"],
    ],
)
def test_broken_pipe_exit_permit_on_a_denial(error: OSError, argv: list[str]) -> None:
    stdin = (one_line(AFTER) + "\n" + one_line(PERMIT) + "\n").encode()
    for after in (0, 1):
        code, err = run_with(Failing(error, after), *argv, stdin=stdin)
        assert code == EXIT_OUTPUT, (argv, after, err)
        assert error.strerror is not None
        assert "cannot write the output" in err and error.strerror in err
        assert "internal error" not in err


def _denials(tmp_path: Path, count: int = 5_000) -> Path:
    path = tmp_path / "denials.jsonl"
    path.write_text((one_line(AFTER) + "\n") * count)
    return path


def test_broken_pipe_exit_permit_jsonl_piped_to_head(tmp_path: Path) -> None:
    """``check --jsonl denials.jsonl | head -1``, in real processes."""
    command = [sys.executable, "-m", "disclosure_rules", "check", "--jsonl", str(_denials(tmp_path))]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # what `head -1` does after its line
        err = process.stderr.read().decode()
        code = process.wait()
    assert json.loads(first)["decision"] == "deny"
    assert code == EXIT_OUTPUT, err
    assert "cannot write the output (Broken pipe)" in err
    assert "Traceback" not in err and "Exception ignored" not in err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("jsonl", [False, True])
def test_write_error_dev_full_is_exit_74(tmp_path: Path, jsonl: bool) -> None:
    argv = ["--jsonl", str(_denials(tmp_path, 10))] if jsonl else [str(PERMIT)]
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "disclosure_rules", "check", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            check=False,
        )
    assert result.returncode == EXIT_OUTPUT
    assert b"cannot write the output (No space left on device)" in result.stderr
    assert b"Traceback" not in result.stderr


class _BrokenInput(io.BytesIO):
    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        if not line:
            raise OSError(5, "Input/output error")
        return line


def test_a_read_error_part_way_through_the_requests_is_bad_input_not_a_permit() -> None:
    out, err = io.StringIO(), io.StringIO()
    stdin = _BrokenInput((one_line(PERMIT) + "\n").encode())
    code = main(["check", "--jsonl", "-"], stdin=stdin, stdout=out, stderr=err)
    assert code == EXIT_BAD_INPUT
    assert [json.loads(line)["decision"] for line in out.getvalue().splitlines()] == ["permit"]
    assert "<stdin>:2: error[io]: cannot read the requests: Input/output error" in err.getvalue()


def test_every_request_written_and_permitted_is_exit_0_and_a_denial_2() -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert run_with(out, "check", "--jsonl", "-", stdin=(one_line(PERMIT) + "\n").encode())[0] == EXIT_PERMIT
    assert run_with(out, "check", str(AFTER))[0] == EXIT_DENY


# -- issue 9, failure 4: a lone surrogate escape stopped the stream (exit 70) or wrote a raw 0xFF byte ---


def _surrogate_request() -> str:
    return one_line(PERMIT).replace('"recipient": "ICE"', '"recipient": "\\udcff"')


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_lone_surrogate_in_a_quoted_value_single_request(fmt: str) -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape")  # as under a C locale
    code, err = run_with(out, "check", "-", "--format", fmt, stdin=_surrogate_request().encode())
    out.flush()
    assert code == EXIT_BAD_INPUT
    text = raw.getvalue().decode("utf-8")  # strictly: no raw 0xFF byte
    if fmt == "json":
        assert json.loads(text)["errors"][0]["message"] == "`\udcff` is not a value of `agency`"
    assert "\\udcff" in err


def test_lone_surrogate_in_a_quoted_value_stream_goes_on() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    stdin = (_surrogate_request() + "\n" + one_line(PERMIT) + "\n").encode()
    code, err = run_with(out, "check", "--jsonl", "-", stdin=stdin)
    out.flush()
    records = [json.loads(line) for line in raw.getvalue().decode("utf-8").splitlines()]
    assert [r["status"] for r in records] == ["error", "permitted"]
    assert code == EXIT_BAD_INPUT
    assert "internal error" not in err


def test_lone_surrogate_single_request_real_process_writes_utf8() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "disclosure_rules", "check", "-", "--format", "json"],
        input=_surrogate_request().encode(),
        capture_output=True,
        cwd=ROOT,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    json.loads(result.stdout.decode("utf-8"))
