"""The on-disk cache of loaded rule sets: used when it holds this content, ignored when it does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import disclosure_rules
from disclosure_rules import checker
from disclosure_rules.checker import bundled_rules_path
from disclosure_rules.diagnostics import LoadError
from disclosure_rules.rulebook import persist
from disclosure_rules.rulebook.loader import rule_files

from .conftest import example


@pytest.fixture
def rules_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(persist.ENV_VAR, str(tmp_path / "cache"))
    target = tmp_path / "rules"
    shutil.copytree(bundled_rules_path(), target)
    return target


def _cached(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("*.pickle"))


def _same(a: disclosure_rules.Rules, b: disclosure_rules.Rules) -> bool:
    # Vocabularies compare by identity, so two loads are compared by what they say and decide.
    request = example("irs-ice-address-request.json")
    denied = {**request, "purpose": "civil_immigration_enforcement"}
    return (
        a.info == b.info and a.book.rules == b.book.rules and all(a.check(r) == b.check(r) for r in (request, denied))
    )


def test_a_second_load_reads_the_cache_and_decides_the_same(
    rules_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = disclosure_rules.load(rules_copy)
    assert len(_cached(tmp_path)) == 1

    def no_sources(directory: Path) -> None:
        raise AssertionError("loaded from the sources")

    monkeypatch.setattr(checker, "_load_rulebook", no_sources)
    assert _same(disclosure_rules.load(rules_copy), first)


def test_the_generated_code_is_kept_with_its_rule_book_and_decides_as_the_closures(
    rules_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from disclosure_rules.engine import codegen, evaluator

    disclosure_rules.load(rules_copy)

    def no_generating(*args: object) -> None:
        raise AssertionError("generated again")

    monkeypatch.setattr(codegen, "build", no_generating)
    monkeypatch.setattr(checker, "build_generated", no_generating)
    cached = disclosure_rules.load(rules_copy)
    assert evaluator._memos(cached.compiled).generated is not None  # the kept code, loaded with the book
    for name in (
        "irs-ice-address-request.json",
        "ssa-mixed-origin-address-to-ice.json",
        "ice-matched-addresses-to-operators-after-dmass-order.json",
    ):
        request = example(name)
        for variant in (
            request,
            {**request, "purpose": "civil_immigration_enforcement"},
            {**request, "date": "2025-11-20"},  # before the D.D.C. order, after every hop
        ):
            env, errors = cached._reader.read(variant)
            assert not errors
            day = env["date"]
            generated = evaluator.decide(cached.compiled, env, day)
            reference = evaluator.decide_reference(cached.compiled, env, day)
            assert generated == reference
            assert dict(generated.states) == dict(reference.states)


def test_kept_code_of_another_kind_is_generated_again(rules_copy: Path, tmp_path: Path) -> None:
    import pickle

    expected = disclosure_rules.load(rules_copy)
    (cached,) = _cached(tmp_path)
    key, book, _generated = pickle.loads(cached.read_bytes())
    cached.write_bytes(pickle.dumps((key, book, "not generated code")))
    assert _same(disclosure_rules.load(rules_copy), expected)


def test_a_changed_file_is_a_new_entry_never_a_stale_one(rules_copy: Path, tmp_path: Path) -> None:
    disclosure_rules.load(rules_copy)
    vocabulary = rules_copy / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text() + "\n# changed\n")
    changed = disclosure_rules.load(rules_copy)
    assert len(_cached(tmp_path)) == 2
    assert changed.info.hash != disclosure_rules.load().info.hash


def test_a_corrupt_or_foreign_cache_file_is_ignored(rules_copy: Path, tmp_path: Path) -> None:
    expected = disclosure_rules.load(rules_copy)
    (cached,) = _cached(tmp_path)
    for junk in (b"", b"not a pickle", json.dumps([1]).encode(), cached.read_bytes()[:100]):
        cached.write_bytes(junk)
        assert _same(disclosure_rules.load(rules_copy), expected)


def test_rules_that_do_not_load_are_not_cached(rules_copy: Path, tmp_path: Path) -> None:
    (rules_copy / "broken.yaml").write_text("ruleset: [\n")
    with pytest.raises(LoadError):
        disclosure_rules.load(rules_copy)
    assert _cached(tmp_path) == []


def test_an_unwritable_cache_or_off_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(persist.ENV_VAR, str(blocker / "cache"))
    assert disclosure_rules.load().check(example("irs-ice-address-request.json")).permitted
    monkeypatch.setenv(persist.ENV_VAR, "off")
    assert persist.cache_dir() is None


def test_the_cache_key_reads_the_files_the_loader_reads(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.YML", ".hidden.yaml", "c.txt", "d.yaml~"):
        (tmp_path / name).write_text("")
    assert [p for p in sorted(tmp_path.iterdir()) if persist._is_rule_file(p)] == rule_files(tmp_path)


def test_a_fifo_among_the_rule_files_is_never_opened_for_the_key(rules_copy: Path) -> None:
    import os

    os.mkfifo(rules_copy / "waiting.yaml")
    assert persist.content_key(rules_copy) is None
    with pytest.raises(LoadError):
        disclosure_rules.load(rules_copy)
