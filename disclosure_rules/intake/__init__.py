"""Requests coming in: validation into the environment the rules read (and its generated quick path),
and the case keys that let a batch decide each case once.

Modules are imported by their own names (``from disclosure_rules.intake import ...``); this package
re-exports nothing, so that importing one stage loads no other.
"""
