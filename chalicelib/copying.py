"""Deep copies of the domain's models that share what cannot change.

Every rule works on its own copy of the ticket (``model_copy(deep=True)``) and the store
hands out copies. pydantic's deep copy runs :func:`copy.deepcopy` over every field, which
rebuilds each ``datetime``, ``Decimal``, enum member and frozen model through
``__reduce_ex__``: most of the cost of a copy, for values nobody can modify.
:func:`copy_model` copies the containers and the mutable models and shares the rest: the
same result for every reader and writer of the copy, in a fraction of the time
(``bench/simulate.py``).
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

IMMUTABLE: tuple[type, ...] = (str, int, float, bool, bytes, type(None), datetime, date, time, timedelta, tzinfo, Decimal,
                               Enum, frozenset)
SHARED, LIST, DICT, MODEL, OTHER = range(5)
_KINDS: dict[type, int] = {list: LIST, dict: DICT}  # each type's kind, decided once


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        if issubclass(cls, IMMUTABLE) or (issubclass(cls, BaseModel) and cls.model_config.get("frozen")):
            kind = SHARED
        else:
            kind = MODEL if issubclass(cls, BaseModel) else OTHER
        _KINDS[cls] = kind
    return kind


def _deep(value: Any) -> Any:
    """A deep copy of ``value``: new lists, dicts and non-frozen models all the way down;
    immutable values and frozen models shared; anything else by :func:`copy.deepcopy`."""
    kind = _kind(type(value))
    if kind is SHARED:
        return value
    if kind is LIST:
        return [_deep(v) for v in value]
    if kind is DICT:
        return {k: _deep(v) for k, v in value.items()}
    if kind is MODEL:
        return copy_model(value)
    return copy.deepcopy(value)


def copy_model(model: M) -> M:
    """``model`` with every field deep-copied as :func:`_deep` does (the attributes pydantic's
    ``__deepcopy__`` sets, without its generic walk)."""
    cls = type(model)
    new = cls.__new__(cls)
    object.__setattr__(new, "__dict__", {k: _deep(v) for k, v in model.__dict__.items()})
    object.__setattr__(new, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    extra = model.__pydantic_extra__
    object.__setattr__(new, "__pydantic_extra__", None if extra is None else _deep(extra))
    private = model.__pydantic_private__
    object.__setattr__(new, "__pydantic_private__", None if private is None else _deep(private))
    return new
