"""Decisions: what a verdict means for the person asking, in words; the reason, citations and obligations at
once, and the chain, `missing`, trace and provenance when first read.

Modules are imported by their own names (``from disclosure_rules.decisions import ...``); this package
re-exports nothing, so that importing one stage loads no other.
"""
