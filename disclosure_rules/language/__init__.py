"""The rule language: its syntax tree, the pyparsing grammar that builds it, the type checker, the
reason templates and value types, and the tree written back as text.

Modules are imported by their own names (``from disclosure_rules.language import ...``); this package
re-exports nothing, so that importing one stage loads no other.
"""
