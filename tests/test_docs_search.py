"""The docs site's search finds citations as lawyers type them (issue 13): "6103(i)(2)", "§ 6103(i)(2)" and
"(i)(2)" split into words that the § 6103(i)(2) rule page holds, with the separator mkdocs.yml configures."""

from __future__ import annotations

import re
from pathlib import Path

from disclosure_rules.checker import load
from disclosure_rules.docsgen import generate

from .conftest import ROOT


def _separator() -> re.Pattern[str]:
    found = re.search(r"^\s*separator: '(.*)'$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE)
    assert found, "mkdocs.yml configures the search separator"
    return re.compile(found.group(1).replace("''", "'"))


def _words(text: str) -> set[str]:
    return {word.lower() for word in _separator().split(text) if word}


def test_a_citation_as_typed_is_found_on_its_rule_page(tmp_path: Path) -> None:
    assert "stopWordFilter" not in (ROOT / "mkdocs.yml").read_text().split("pipeline:")[1].split("\n")[0]
    assert load().book.rules["irc-6103-i-2"]
    site, _ = generate(str(tmp_path), str(ROOT / "rules"))
    page = _words(site.pages["rules/irc-6103-i-2.md"])
    for query in ["6103(i)(2)", "§ 6103(i)(2)", "(i)(2)", "26 U.S.C. § 6103(i)(2)"]:
        assert _words(query) and _words(query) <= page, query
