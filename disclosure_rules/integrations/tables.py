"""Tables of flat records in and out: CSV (the standard library) and Parquet (pyarrow), read and written a
batch of rows at a time so that memory does not grow with the table.

A CSV cell is text; it is given the JSON type of the path its column maps to: ``true``/``false`` for a
boolean, a number for a number, members separated by ``;`` for a set (``irs_records;ssa_records``), JSON text
for a ``chain``; an empty cell leaves its path out. A cell that does not read as its type is passed on as text,
and the checker reports it at its column. Parquet cells have their types already (a date as its ISO day).

Parquet needs pyarrow: ``pip install "disclosure-rules[parquet]"``.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..rulebook.vocabulary import Vocabulary

TABLE_BATCH_ROWS = 4_096
"""Rows read, decided and written at once."""

DECISION_COLUMNS = ("decision", "status", "rule", "reason")


class TableError(Exception):
    """A table cannot be read or written as one: not CSV or Parquet, a mapped column absent, pyarrow absent."""


def table_format(path: str) -> str:
    """``csv`` or ``parquet``, by the file name's extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise TableError(f"`{path}` is neither a .csv nor a .parquet file")


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise TableError('Parquet needs pyarrow: pip install "disclosure-rules[parquet]"') from None
    return pyarrow


def _cell_reader(vocabulary: Vocabulary, target: str) -> Any:
    if target == "chain":

        def chain(text: str) -> object:
            try:
                return json.loads(text)
            except ValueError:
                return text

        return chain
    slot = vocabulary.fields.get(target) or vocabulary.facts.get(target)
    kind = slot.type.kind if slot is not None else "text"
    if kind == "bool":
        return lambda text: {"true": True, "false": False}.get(text.strip().lower(), text)
    if kind == "number":

        def number(text: str) -> object:
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    return text

        return number
    if kind == "set":
        return lambda text: [part.strip() for part in text.split(";")]
    return lambda text: text


class Table:
    """The header of a table and its rows in batches; each row as the input's cells and the record to decide."""

    def __init__(self, path: str, columns: Mapping[str, str], vocabulary: Vocabulary) -> None:
        self.path = path
        self.format = table_format(path)
        self.columns = dict(columns)
        self.vocabulary = vocabulary
        self.header: list[str] = []
        self.schema: Any = None

    def batches(self) -> Iterator[list[tuple[list[object], dict[str, object]]]]:
        """Batches of (the row's cells in header order, the record of its mapped cells). Raises
        :class:`TableError` if a mapped column is absent, :class:`OSError` if the file cannot be read."""
        return self._csv() if self.format == "csv" else self._parquet()

    def _check_header(self) -> None:
        absent = [column for column in self.columns if column not in self.header]
        if absent:
            names = ", ".join(f"`{c}`" for c in absent)
            raise TableError(f"{self.path}: the table has no column {names}, which the column mapping names")
        clash = [c for c in DECISION_COLUMNS if c in self.header]
        if clash:
            raise TableError(f"{self.path}: the table already has a column `{clash[0]}`, which the output adds")

    def _csv(self) -> Iterator[list[tuple[list[object], dict[str, object]]]]:
        with open(self.path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            self.header = next(reader, [])
            self._check_header()
            readers = {
                i: (name, _cell_reader(self.vocabulary, self.columns[name]))
                for i, name in enumerate(self.header)
                if name in self.columns
            }
            batch: list[tuple[list[object], dict[str, object]]] = []
            for cells in reader:
                record = {
                    name: read(cells[i]) for i, (name, read) in readers.items() if i < len(cells) and cells[i] != ""
                }
                batch.append((list(cells), record))
                if len(batch) >= TABLE_BATCH_ROWS:
                    yield batch
                    batch = []
            if batch:
                yield batch

    def _parquet(self) -> Iterator[list[tuple[list[object], dict[str, object]]]]:
        pa = _pyarrow()
        try:
            file = pa.parquet.ParquetFile(self.path)
        except pa.ArrowException as exc:
            raise TableError(f"{self.path}: not a Parquet file ({exc})") from None
        self.schema = file.schema_arrow
        self.header = list(self.schema.names)
        self._check_header()
        mapped = [(i, name) for i, name in enumerate(self.header) if name in self.columns]
        for batch in file.iter_batches(batch_size=TABLE_BATCH_ROWS):
            cells_by_column = [column.to_pylist() for column in batch.columns]
            rows = []
            for r in range(batch.num_rows):
                cells = [column[r] for column in cells_by_column]
                record = {name: _parquet_value(cells[i]) for i, name in mapped if cells[i] is not None}
                rows.append((cells, record))
            yield rows


def _parquet_value(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN: no value
        return None
    return value


class TableWriter:
    """Writes the input's rows with the decision columns added, as CSV (to a file or a stream) or Parquet."""

    def __init__(self, table: Table, path: str | None, stream: IO[str] | None = None) -> None:
        self.table = table
        self.format = table_format(path) if path is not None else "csv"
        self.path = path
        self._file: IO[str] | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._stream = stream

    def write(self, rows: Sequence[tuple[list[object], tuple[str, str, str | None, str]]]) -> None:
        if self.format == "csv":
            self._write_csv(rows)
        else:
            self._write_parquet(rows)

    def _write_csv(self, rows: Sequence[tuple[list[object], tuple[str, str, str | None, str]]]) -> None:
        if self._csv is None:
            if self.path is not None:
                self._file = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
                target: IO[str] = self._file
            else:
                assert self._stream is not None
                target = self._stream
            self._csv = csv.writer(target, lineterminator="\n")
            self._csv.writerow([*self.table.header, *DECISION_COLUMNS])
        for cells, added in rows:
            self._csv.writerow([_csv_text(c) for c in cells] + [a if a is not None else "" for a in added])

    def _write_parquet(self, rows: Sequence[tuple[list[object], tuple[str, str, str | None, str]]]) -> None:
        pa = _pyarrow()
        assert self.path is not None
        if self._parquet is None:
            schema = self.table.schema
            if schema is None:  # CSV in, Parquet out: the cells are text
                schema = pa.schema([(name, pa.string()) for name in self.table.header])
            for name in DECISION_COLUMNS:
                schema = schema.append(pa.field(name, pa.string()))
            self._schema = schema
            self._parquet = pa.parquet.ParquetWriter(self.path, schema)
        width = len(self.table.header)
        data: list[list[object]] = [[] for _ in range(width + len(DECISION_COLUMNS))]
        for cells, added in rows:
            for i in range(width):
                data[i].append(cells[i] if i < len(cells) else None)
            for j, value in enumerate(added):
                data[width + j].append(value)
        arrays = [pa.array(values, type=field.type) for values, field in zip(data, self._schema, strict=True)]
        self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def close(self) -> None:
        if self._csv is None and self._parquet is None:
            self.write([])  # an empty table still gets its header
        if self._file is not None:
            self._file.close()
        if self._parquet is not None:
            self._parquet.close()


def _csv_text(cell: object) -> object:
    if isinstance(cell, (list, dict)):
        return json.dumps(cell, ensure_ascii=False)
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return cell


__all__ = ["DECISION_COLUMNS", "Table", "TableError", "TableWriter", "table_format"]
