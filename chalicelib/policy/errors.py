"""Policy errors that name the key ops got wrong.

pydantic reports *where* (a location tuple) and *what*; this module turns each error into one
line an ops engineer can act on, e.g.
``escalation.levels[1].next_window_fraction: must be in (0, 1], got 1.5``.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

Loc = Sequence[str | int]


class PolicyError(ValueError):
    """The policy is invalid. ``problems`` holds one ``key: what is wrong`` line per problem."""

    def __init__(self, problems: Sequence[str], *, source: str = "ServiceLevelPolicy") -> None:
        self.problems = list(problems)
        self.source = source
        count = "1 problem" if len(self.problems) == 1 else f"{len(self.problems)} problems"
        super().__init__(f"{source}: invalid service-level policy ({count}):\n" + "\n".join(f"  {p}" for p in self.problems))


class CalendarError(ValueError):
    """A working-time computation that cannot finish (a calendar closed for decades)."""


def problem(key: str | int, why: str) -> PydanticCustomError:
    """An error raised inside a validator, pointing at ``key`` below the validated value
    (``"mon-fri[0]"``, ``"levels[2].repeat"`` or ``""`` for the value itself)."""
    return PydanticCustomError("policy", "{why}", {"why": why, "key": str(key)})


def key_path(loc: Loc) -> str:
    """``("escalation", "levels", 1, "alert")`` -> ``escalation.levels[1].alert``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _join(path: str, sub: str) -> str:
    if not sub:
        return path
    if not path:
        return sub
    return path + sub if sub.startswith("[") else f"{path}.{sub}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_MESSAGES = {
    "missing": "missing (required)",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "date_from_datetime_parsing": "must be a date like 2027-02-05",
    "date_parsing": "must be a date like 2027-02-05",
    "date_type": "must be a date like 2027-02-05",
    "decimal_parsing": "must be an amount like \"5.00\"",
    "decimal_type": "must be an amount like \"5.00\"",
    "decimal_max_places": "must have at most 2 decimal places",
    "greater_than_equal": "must not be negative",
}


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


def keys_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the model allows at ``loc`` (the object that holds ``loc[-1]``)."""
    current: Any = root
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) in (list, dict):
            current = get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _message(err: ErrorDetails, root: type[BaseModel]) -> tuple[str, str]:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal[")))]
    path = key_path(loc)
    kind = err["type"]
    if kind == "policy":
        ctx = err.get("ctx") or {}
        return _join(path, str(ctx.get("key", ""))), str(ctx.get("why", err["msg"]))
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(name, keys_at(root, loc), n=1, cutoff=0.6)
        return path, "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind == "missing":
        return path, _MESSAGES[kind]
    text = _MESSAGES.get(kind) or err["msg"][0].lower() + err["msg"][1:]
    return path, f"{text}, got {_shown(err.get('input'))}"


def from_validation_error(exc: ValidationError, root: type[BaseModel], *, source: str) -> PolicyError:
    lines = []
    for err in exc.errors(include_url=False):
        path, text = _message(err, root)
        line = f"{path}: {text}" if path else text
        if line not in lines:
            lines.append(line)
    return PolicyError(lines, source=source)
