"""Hostile rule directories and files (issue 9): a rule directory loads completely or not at all, and every
file that does not load fails with a positioned :class:`LoadError`, quickly, never another exception."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import time
import tracemalloc
from pathlib import Path
from typing import Any, cast

import pytest

import disclosure_rules
from disclosure_rules import LoadError
from disclosure_rules.cli import EXIT_RULES, main

from .conftest import EXAMPLES, ROOT, mini_request, write_rules

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


def _after() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(AFTER_INJUNCTION.read_text()))


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


# -- issue 9, failure 5: load() raised exceptions other than its own ----------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "code"),
    [
        ("court-orders.yaml", "from: 2025-11-21", "from: 2025-02-30", "bad_value"),
        ("court-orders.yaml", "from: 2025-11-21", "from: 0000-01-01", "bad_value"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: court-orders\nnote: 2025-13-01", "bad_value"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: !!bool maybe", "bad_value"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: !!int x", "bad_value"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: !!timestamp ...", "bad_value"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: !!float .nan", "bad_value"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: court\x1borders", "yaml_syntax"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: court\x00orders", "yaml_syntax"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: " + "[" * 500 + "]" * 500, "too_deep"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset:\n" + "- " * 500 + "x", "too_deep"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: [" + "1," * 150_000 + "1]", "too_large"),
        ("court-orders.yaml", "ruleset: court-orders", "ruleset: !!python/object/apply:os.system ['true']", None),
    ],
)
def test_load_raises_only_load_error_positioned(
    tmp_path: Path, file: str, old: str, new: str, code: str | None
) -> None:
    directory = bundled_copy(tmp_path)
    path = directory / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    errors = load_error(directory).diagnostics
    assert all(e.position is not None and Path(e.position.file).name == file for e in errors), errors
    if code is not None:
        assert errors[0].code == code, errors


def test_load_effective_until_the_last_date_overflowed_plan_buckets(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    path = directory / "court-orders.yaml"
    path.write_text(path.read_text().replace("{from: 2025-11-21}", "{from: 2025-11-21, until: 9999-12-31}", 1))
    rules = disclosure_rules.load(directory)
    assert rules.check(_after()).decision == "deny"
    late = dict(_after(), date="9999-12-31")
    assert rules.check(late).decision == "deny"


def test_load_condition_of_500_nots_recursion_error(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    path = directory / "court-orders.yaml"
    path.write_text(path.read_text().replace('- holder == "IRS"', "- " + "not " * 500 + 'holder == "IRS"', 1))
    errors = load_error(directory).diagnostics
    assert [e.code for e in errors] == ["condition_syntax"]
    assert "nests too deeply" in errors[0].message and errors[0].position is not None


def test_load_condition_with_a_huge_integer_does_not_advise_python(tmp_path: Path) -> None:
    directory = bundled_copy(tmp_path)
    path = directory / "court-orders.yaml"
    path.write_text(path.read_text().replace('- holder == "IRS"', "- date == " + "9" * 5000, 1))
    (error,) = load_error(directory).diagnostics
    assert "set_int_max_str_digits" not in str(error) and error.position is not None


@pytest.mark.parametrize("bad", ["effective: {from: 2025-02-30}", "note: 2025-13-01"])
def test_scenario_file_with_an_impossible_date_exits_1_not_70(tmp_path: Path, bad: str) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text(f"scenarios: one\n{bad}\ncases: []\n")
    out, err = io.StringIO(), io.StringIO()
    code = main(["test", "--rules", str(ROOT / "rules"), str(scenario)], stdout=out, stderr=err)
    assert code == 1
    assert "one.yaml:2:" in err.getvalue() and "error[bad_value]" in err.getvalue()


# -- issue 9, failure 6: size limits enforced after the damage ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ruleset: [" + ",".join(["1"] * 400_000) + "]",  # 800 KB: 400,000 values
        "ruleset: [" + ",".join(["1"] * 400_000) + "]\nruleset: 1\n",  # the repeated key sent it to PyYAML
        "ruleset:\n" + "- 1\n" * 200_000,
        "ruleset: [" + ",".join(["1"] * 400_000) + "\n",  # a syntax error at the end of a large file
    ],
)
def test_flow_list_of_many_items_is_refused_quickly(tmp_path: Path, text: str) -> None:
    directory = bundled_copy(tmp_path)
    (directory / "big.yaml").write_text(text)
    started = time.process_time()
    errors = load_error(directory).diagnostics
    assert time.process_time() - started < 2
    assert all(e.position is not None for e in errors)
    if "\nruleset: 1" not in text:
        return  # memory is measured (slowly, under tracemalloc) for the case that took 2.1 GB
    tracemalloc.start()
    try:
        load_error(directory)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20


def _definition_chain(count: int) -> str:
    """A rule set whose definitions each use the one before, written last first."""
    items = [
        f"  d{i}:\n    label: d{i}\n    when: {'facts.consent' if i == 0 else f'd{i - 1} and not facts.order'}"
        for i in reversed(range(count))
    ]
    return (
        "ruleset: s\ntitle: T\nsource: S\ndefinitions:\n"
        + "\n".join(items)
        + f"\nrules:\n  - {{id: r1, title: R, kind: permit, citation: C, when: d{count - 1}, reason: Yes.}}\n"
    )


def test_load_a_chain_of_thousands_of_definitions_recursion_error(tmp_path: Path) -> None:
    directory = write_rules(tmp_path / "rules", _definition_chain(3_000))
    started = time.process_time()
    (error,) = load_error(directory).diagnostics
    assert time.process_time() - started < 5
    assert error.code == "too_deep" and "the definition `d50` nests 151 levels deep" in error.message
    assert error.position is not None


def test_a_chain_within_the_limit_loads_and_decides(tmp_path: Path) -> None:
    rules = disclosure_rules.load(write_rules(tmp_path / "rules", _definition_chain(49)))
    assert rules.check(mini_request(facts={"consent": True, "order": False})).status == "permitted"
    assert rules.check(mini_request(facts={})).status == "indeterminate"
