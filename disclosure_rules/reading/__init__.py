"""Reading text: YAML rule files kept with the place of every node, the canonical YAML formatter, and
strict JSON (no repeated keys, no NaN). The first stage: everything after it reads what these modules give.

Modules are imported by their own names (``from disclosure_rules.reading import ...``); this package
re-exports nothing, so that importing one stage loads no other.
"""
