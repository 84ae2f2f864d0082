"""Replies of one type held by column: the result rows of a large run, in a fifth of the memory.

A day of ten thousand households reads back about a million settlement statements and
700,000 orders to write its result files. As one dict per reply they took about a
kilobyte each (the dict, and a separate int object for every amount and a separate str
for every address); here each field is a column: whole numbers packed in an
``array('q')`` (8 bytes a value), anything else (text, None, booleans, numbers beyond 64
bits) in a list whose equal strings are one object. A row is a read-only view by field
name (`TableRow`), made when it is asked for; its values are the replies' own values, of
the same types, so every file and figure made from them is unchanged.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import msgspec


class ReplyTable(Sequence["TableRow"]):
    """Replies of one Struct type (`fields` in its field order), one column per field."""

    __slots__ = ("_columns", "_length", "_strings", "fields")

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self._columns: dict[str, array[int] | list[Any]] = {f: array("q") for f in self.fields}
        self._strings: dict[str, str] = {}
        self._length = 0

    @classmethod
    def of(cls, reply_type: type[msgspec.Struct]) -> ReplyTable:
        return cls(reply_type.__struct_fields__)

    def extend(self, replies: Iterable[msgspec.Struct]) -> None:
        """Append replies (each with at least `fields`), column by column."""
        batch = list(replies)
        if not batch:
            return
        for name in self.fields:
            values = list(map(operator.attrgetter(name), batch))
            column = self._columns[name]
            if isinstance(column, array):
                if all(type(v) is int for v in values):
                    try:
                        column.extend(values)
                        continue
                    except OverflowError:  # beyond 64 bits: array.extend kept those before it
                        del column[self._length :]
                column = self._columns[name] = list(column)
            strings = self._strings
            column.extend(strings.setdefault(v, v) if type(v) is str else v for v in values)
        self._length += len(batch)

    def dicts(self) -> Iterator[dict[str, Any]]:
        """Every row as a new dict of its fields, in order (cheaper than a `TableRow` per row
        when every field is read, as when writing a CSV file)."""
        fields = self.fields
        for values in zip(*(self._columns[name] for name in fields), strict=True):
            yield dict(zip(fields, values, strict=True))

    def value(self, name: str, index: int) -> Any:
        """The value of field `name` in row `index` (KeyError if not a field)."""
        return self._columns[name][index]

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> TableRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[TableRow]: ...

    def __getitem__(self, index: int | slice) -> TableRow | list[TableRow]:
        if isinstance(index, slice):
            return [TableRow(self, i) for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError(f"row {index} of {self._length}")
        return TableRow(self, index % self._length)

    def __iter__(self) -> Iterator[TableRow]:
        for index in range(self._length):
            yield TableRow(self, index)


class TableRow(Mapping[str, Any]):
    """One row of a `ReplyTable`, read by field name like the dict of the reply's fields."""

    __slots__ = ("_index", "_table")

    def __init__(self, table: ReplyTable, index: int) -> None:
        self._table = table
        self._index = index

    def __getitem__(self, name: str) -> Any:
        return self._table.value(name, self._index)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.fields)

    def __len__(self) -> int:
        return len(self._table.fields)

    def __repr__(self) -> str:
        return f"TableRow({dict(self)!r})"
