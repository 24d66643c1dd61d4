"""``disclosure_rules.dask``: the Dask integration under its short name (see
:mod:`disclosure_rules.integrations.dask`). Needs ``pip install "disclosure-rules[dask]"``."""

from .integrations.dask import decide, decide_partition

__all__ = ["decide", "decide_partition"]
