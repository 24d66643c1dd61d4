"""Hostile rule directories and files (issue 9): a rule directory loads completely or not at all, and every
file that does not load fails with a positioned :class:`LoadError`, quickly, never another exception."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

import disclosure_rules
from disclosure_rules import LoadError
from disclosure_rules.cli import EXIT_RULES, main

from .conftest import EXAMPLES, ROOT

AFTER_INJUNCTION = EXAMPLES / "irs-ice-address-request-after-injunction.json"


def bundled_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", directory, ignore=shutil.ignore_patterns("tests"))
    return directory


def load_error(directory: Path) -> LoadError:
    with pytest.raises(LoadError) as caught:
        disclosure_rules.load(directory)
    return caught.value


def only_error(directory: Path, code: str, name: str) -> str:
    """The one load error's text, which must have the code and be positioned in the file ``name``."""
    (error,) = load_error(directory).diagnostics
    assert error.code == code
    assert error.position is not None and Path(error.position.file).name == name
    return str(error)


# -- issue 9, failure 2: a rule file that is not a regular file was skipped without a word -------------


def _replace_court_orders(directory: Path, kind: str) -> None:
    target = directory / "court-orders.yaml"
    target.unlink()
    if kind == "dangling symlink":
        target.symlink_to(directory / "no-such-file.yaml")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(target))
    elif kind == "device":
        target.symlink_to("/dev/null")
    elif kind == "unreadable":
        target.write_text("ruleset: x\n")
        target.chmod(0)


@pytest.mark.parametrize("kind", ["dangling symlink", "fifo", "directory", "socket", "device", "unreadable"])
def test_rule_file_not_regular_skipped_permits_after_injunction(tmp_path: Path, kind: str) -> None:
    directory = bundled_copy(tmp_path)
    _replace_court_orders(directory, kind)
    if kind == "unreadable" and os.access(directory / "court-orders.yaml", os.R_OK):
        pytest.skip("running as a user who can read any file")
    text = only_error(
        directory, "io" if kind in ("dangling symlink", "unreadable") else "not_a_file", "court-orders.yaml"
    )
    assert "court-orders.yaml:1:1: error[" in text
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", "--rules", str(directory), str(AFTER_INJUNCTION)], stdout=out, stderr=err)
    assert code == EXIT_RULES
    assert out.getvalue() == ""
    assert "court-orders.yaml:1:1" in err.getvalue()


def test_a_dangling_symlink_says_where_it_points(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    _replace_court_orders(directory, "dangling symlink")
    assert "it is a symbolic link to" in only_error(directory, "io", "court-orders.yaml")


def test_rule_file_yml_extension_ignored(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    (directory / "court-orders.yaml").rename(directory / "court-orders.YML")
    rules = disclosure_rules.load(directory)
    assert "court-orders" in rules.info.names
    assert rules.check(_after()).decision == "deny"


def _after() -> object:
    return json.loads(AFTER_INJUNCTION.read_text())


def test_rule_file_yml_with_a_syntax_error_is_a_load_error(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    (directory / "extra.yml").write_text("ruleset: [\n")
    assert only_error(directory, "yaml_syntax", "extra.yml")


def test_hidden_and_other_files_are_not_rule_files(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    (directory / ".#court-orders.yaml").symlink_to("user@host.1234")  # an editor's lock file
    (directory / "README.md").write_text("not a rule file")
    (directory / "notes.yaml.bak").write_text("ruleset: [")
    assert disclosure_rules.load(directory).check(_after()).decision == "deny"


def test_rule_file_too_large_refused_before_reading(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    big = directory / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(1_200_000_000)  # sparse: reading it whole would take 1.2 GB
    text = only_error(directory, "file_too_large", "big.yaml")
    assert "1,200,000,000 bytes" in text


def test_syntax_error_in_vocabulary_does_not_also_say_there_is_no_vocabulary(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    vocabulary = directory / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text().replace("enums:", "enums: [", 1))
    errors = load_error(directory).diagnostics
    assert all(e.position is not None for e in errors), errors
    assert not any(e.code == "no_vocabulary" for e in errors)
