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


def _deep(value: Any) -> Any:
    """A deep copy of ``value``: new lists, dicts, sets and non-frozen models all the way
    down; immutable values and frozen models shared."""
    kind = type(value)
    if kind is list:
        return [_deep(v) for v in value]
    if kind is dict:
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, IMMUTABLE):
        return value
    if isinstance(value, BaseModel):
        return value if value.model_config.get("frozen") else copy_model(value)
    if kind is tuple:
        return tuple(_deep(v) for v in value)
    if kind is set:
        return {_deep(v) for v in value}
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
