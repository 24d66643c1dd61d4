"""MkDocs hook: write the rule pages from the rules at every build (registered in ``mkdocs.yml``).

The pages go to ``docs/generated/`` (git-ignored, never committed): an overview, the vocabulary,
the overview matrix (as of the last date on which the rules change, so that the same rules build the
same site on any day), the JSON schemas, one page per rule set and one per rule, with
worked examples from the scenario tests in ``rules/tests/``. The ``The rules`` entry of the
navigation is replaced by those pages. Only files whose text changed are rewritten, so
``mkdocs serve`` does not rebuild in a loop.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

from disclosure_rules import docsgen, testing
from disclosure_rules.diagnostics import LoadError

GENERATED = "generated"
PLACEHOLDER = f"{GENERATED}/index.md"

log = logging.getLogger("mkdocs.hooks.disclosure_rules")

# The package's docstrings use Sphinx roles (:class:`~pkg.mod.Name`); mkdocstrings leaves the role
# name in the text. Keep only the code, shortened as a leading ~ asks.
_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc):<code>(~?)([^<]+)</code>")


def splice(nav: list[Any], title: str, entries: list[Any]) -> list[Any]:
    """``nav`` with the entry that points at the generated index replaced by the generated section."""
    out: list[Any] = []
    for entry in nav:
        if isinstance(entry, dict) and list(entry.values()) == [PLACEHOLDER]:
            out.append({next(iter(entry)): entries})
        elif entry == PLACEHOLDER:
            out.append({title: entries})
        else:
            out.append(entry)
    return out


def _role(match: re.Match[str]) -> str:
    name = match.group(2).rsplit(".", 1)[-1] if match.group(1) else match.group(2)
    return f"<code>{name}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(_role, html)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    out = Path(config.docs_dir) / GENERATED
    try:
        site, written = docsgen.generate(out, docs_prefix="../")
    except (LoadError, testing.ScenarioError, docsgen.DocsError) as exc:
        raise PluginError(f"the rule pages could not be generated:\n{exc}") from exc
    if config.nav is not None:
        config.nav = splice(config.nav, "The rules", site.nav_under(f"{GENERATED}/"))
    log.info(
        "rule pages: %d files in %s (%d changed, %d removed)",
        len(written.pages),
        out,
        len(written.changed),
        len(written.removed),
    )
    return config
