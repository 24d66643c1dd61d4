"""The types of values that requests carry and conditions compare.

A vocabulary declares enumerations (``agency``, ``origin``...); every field and
fact then has one of these types: ``bool``, ``date``, ``number``, ``text``, an
enumeration, or ``set of`` an enumeration.
"""

from __future__ import annotations

import functools
from typing import Literal

import attrs

Kind = Literal["bool", "date", "number", "text", "enum", "set"]
SCALAR_KINDS: tuple[str, ...] = ("bool", "date", "number", "text")


@attrs.frozen
class Type:
    kind: Kind
    enum: str | None = None

    @property
    def is_set(self) -> bool:
        return self.kind == "set"

    def element(self) -> Type:
        """The type of one member of a set (a set of ``agency`` has members of type ``agency``)."""
        return _enum_type(self.enum) if self.kind == "set" else self

    def set_of(self) -> Type:
        return Type("set", self.enum) if self.kind == "enum" else self

    def __str__(self) -> str:
        if self.kind == "enum":
            return str(self.enum)
        if self.kind == "set":
            return f"set of {self.enum}"
        return self.kind


@functools.lru_cache(maxsize=1_024)
def _enum_type(enum: str | None) -> Type:
    # One shared value per enumeration: validation asks for a set's member type once per value it reads.
    return Type("enum", enum)


BOOL = Type("bool")
DATE = Type("date")
NUMBER = Type("number")
TEXT = Type("text")
