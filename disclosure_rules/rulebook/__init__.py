"""The rule book: the vocabulary and the rules loaded from YAML into checked, frozen data (the model),
the literate statute beside each rule, and the loaded book kept on disk for the next cold start.

Modules are imported by their own names (``from disclosure_rules.rulebook import ...``); this package
re-exports nothing, so that importing one stage loads no other.
"""
