"""The engine: conditions compiled to predicates (closures, the reference) and to one generated function
per rule set, provenance through the chain of hops, and the evaluator that gives the verdict.

Modules are imported by their own names (``from disclosure_rules.engine import ...``); this package
re-exports nothing, so that importing one stage loads no other.
"""
