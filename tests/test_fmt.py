"""`disclosure-rules fmt`: canonical, idempotent, comments kept, and never a change in meaning."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from disclosure_rules.checker import load
from disclosure_rules.cli import main
from disclosure_rules.reading.fmt import canonical, format_text

from .conftest import ROOT

BUNDLED = sorted((ROOT / "rules").rglob("*.yaml"))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_file_is_canonical_and_formatting_is_idempotent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    result = format_text(str(path), text)
    assert result.problem is None and result.text is not None
    assert format_text(str(path), result.text).text == result.text
    assert result.text == text  # CI runs `fmt --check rules/`


def test_formatted_rules_load_to_the_same_rulebook(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", copy)
    for path in copy.rglob("*.yaml"):  # make every file untidy, in ways that mean nothing
        lines = path.read_text(encoding="utf-8").split("\n")
        # CRLF, blank lines around, white space after each top-level line (never inside a block scalar's text)
        untidy = [line + "  " if line[:1].strip() else line for line in lines]
        path.write_bytes(("\n\n" + "\r\n".join(untidy) + "\n\n\n").encode("utf-8"))
    assert run("fmt", "--check", str(copy))[0] == 1
    code, out, _ = run("fmt", str(copy))
    assert code == 0 and "0 already canonical" in out
    assert run("fmt", "--check", str(copy))[0] == 0
    # Formatting gives back each bundled file byte for byte, so the rules load to the bundled Rulebook.
    for path in copy.rglob("*.yaml"):
        assert path.read_text(encoding="utf-8") == (ROOT / "rules" / path.relative_to(copy)).read_text()
    assert sorted(load(copy).book.rules) == sorted(load().book.rules)


def test_comments_and_block_scalar_text_are_kept() -> None:
    text = "# a comment  \na: 1 # why   \n\n\n\nb: |\n  keep  \n\n  this\nc: 2\t\n"
    assert canonical(text) == "# a comment\na: 1 # why\n\nb: |\n  keep  \n\n  this\nc: 2\n"


def test_a_change_in_meaning_is_refused_and_the_file_left_alone() -> None:
    text = 'a: "x\n\n\n  y"\n'  # blank lines inside a quoted string are line breaks: text, not layout
    result = format_text("f.yaml", text)
    assert result.text is None and result.problem is not None and result.problem.code == "fmt_unsafe"


def test_a_file_that_is_not_yaml_is_named_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: [1,\n")
    code, _, err = run("fmt", str(path))
    assert code == 1 and f"{path}:2:1: error[yaml_syntax]" in err
