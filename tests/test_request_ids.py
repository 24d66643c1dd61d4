"""A request's `id` in batches: echoed on every output line, never deciding anything, and the shortcuts that
keep a batch with an id per line as fast as one without (a case rendered once, a line keyed without its id)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import attrs
import pytest

import disclosure_rules
from disclosure_rules.cli import EXIT_BAD_INPUT, _with_id_line, main
from disclosure_rules.render.json import render_json

from .conftest import example

RULES = disclosure_rules.load()
REQUEST = example("irs-ice-address-request.json")
IDS: list[Any] = ["person-0000001", 'ünïcode "quoted" \\ id', 7, -12, 1.5, 1e300, True, False, "", "a" * 1000]


@pytest.mark.parametrize("request_id", IDS)
def test_an_id_put_in_front_of_a_rendered_line_is_the_line_rendered_with_it(request_id: Any) -> None:
    base = RULES.check(REQUEST)
    with_id = base.with_id(request_id)
    for trace in (False, True):
        line = render_json(base, trace=trace, indent=None) + "\n"
        expected = render_json(with_id, trace=trace, indent=None) + "\n"
        assert _with_id_line(line, request_id, "json") == expected
        assert _with_id_line(line.encode(), request_id, "json") == expected.encode()
    text = f"{base.decision}\t{base.status}\t{base.rule}\n"
    assert (
        _with_id_line(text, request_id, "text") == text[:-1] + "\t" + json.dumps(request_id, ensure_ascii=False) + "\n"
    )


def test_with_id_copies_every_field() -> None:
    decision = RULES.check(REQUEST)
    names = [f.name for f in attrs.fields(type(decision)) if f.name not in ("id", "explanation")]
    markers: dict[str, Any] = {name: ("marker", name) for name in names}
    marked = attrs.evolve(decision, **markers)
    copy = marked.with_id("x")
    assert [getattr(copy, name) for name in names] == [("marker", name) for name in names]
    assert copy.explanation is decision.explanation
    assert copy.id == "x"
    assert decision.with_id("x").with_id(None) == decision


def _stream(lines: list[bytes], *args: str, binary: bool) -> tuple[int, list[str], str]:
    raw = io.BytesIO()
    out: io.TextIOBase = io.TextIOWrapper(raw, encoding="utf-8") if binary else io.StringIO()
    err = io.StringIO()
    code = main(["check", "--jsonl", "-", *args], stdin=io.BytesIO(b"".join(lines)), stdout=out, stderr=err)  # type: ignore[arg-type]
    out.flush()
    text = raw.getvalue().decode() if binary else out.getvalue()  # type: ignore[attr-defined]
    return code, text.splitlines(), err.getvalue()


def _line(request: dict[str, Any]) -> bytes:
    return json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _alone(line: bytes, *args: str) -> list[str]:
    return _stream([line], *args, binary=False)[1]


def _placeless(printed: str) -> Any:
    """An error line's document without the line number it names, which differs in a batch."""
    doc = json.loads(re.sub(r"<stdin>:\d+:", "<stdin>:N:", printed))
    doc.pop("line")
    for error in doc["errors"]:
        error.pop("line", None)
    return doc


ID_LAST = _line({**REQUEST, "id": "b"})
HOSTILE = [
    # A valid line whose id comes last, then the same line with another id in front: a repeated key, which
    # must not meet the first line's decision.
    ID_LAST,
    b'{"id":"a",' + ID_LAST[1:],
    # The same request and id, with the key repeated later: a repeated key is an error, never decided.
    b'{"id":"a",' + _line({**REQUEST, "id": "b"})[1:],
    # An object with a key `id` inside the request: an unknown fact, whatever the id in front.
    b'{"id":"a",' + _line({**REQUEST, "facts": {**REQUEST["facts"], "id": 1}})[1:],
    # Broken JSON after a plain id: the error names the place in this line.
    b'{"id":"a",' + _line(REQUEST)[1:-3] + b"\n",
    # An id as a number, and one with characters the quick path does not take (the full path does).
    b'{"id":12,' + _line(REQUEST)[1:],
    b'{"id":"a b",' + _line(REQUEST)[1:],
    b'{"id":-0,' + _line(REQUEST)[1:],
]


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_batch_with_an_id_per_line_prints_what_each_line_gets_alone(binary: bool, fmt: str) -> None:
    lines = []
    for number, purpose in enumerate(["nontax_criminal_investigation", "civil_immigration_enforcement"] * 3):
        lines.append(_line({"id": f"p-{number}", **REQUEST, "purpose": purpose}))
        lines.append(_line({"id": number, **REQUEST, "purpose": purpose}))
    lines += [*HOSTILE, _line({"id": "p-0", **REQUEST}), *HOSTILE]
    code, out, _err = _stream(lines, "--format", fmt, binary=binary)
    assert code == EXIT_BAD_INPUT  # some lines are errors
    assert len(out) == len(lines)
    for line, printed in zip(lines, out, strict=True):
        alone = _alone(line, "--format", fmt)
        if fmt == "json" and '"line"' in printed:  # an error line names its line number in the batch
            assert _placeless(printed) == _placeless(alone[0]), line
        else:
            assert [printed] == alone, line
    ids = [json.loads(p).get("id") for p in out] if fmt == "json" else None
    if ids is not None:
        assert ids[:12] == [v for n in range(6) for v in (f"p-{n}", n)]
