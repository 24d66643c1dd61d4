"""Beyond one process and one request at a time: worker processes (``check --jobs``), pandas and Dask
data frames, and CSV and Parquet tables.

Each module imports its optional dependency (``pandas``, ``dask``, ``pyarrow``) itself, so that the core install
stays small: install the extra (``disclosure-rules[dataframe]``, ``[dask]``, ``[parquet]``) to use one.
"""
