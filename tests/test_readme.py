"""The README's two commands are the ones CI runs."""

from __future__ import annotations

import re

from .conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_starts_with_the_two_commands() -> None:
    first, second = readme_commands()
    assert "pip install ." in first and "disclosure-rules check examples/" in first
    assert '".[test]"' in second and "pytest" in second


def test_ci_runs_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    for command in readme_commands():
        assert command in ci
