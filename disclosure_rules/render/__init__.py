"""Renderers: a decision (or a rulebook) in, a string out. They never read files or print."""
