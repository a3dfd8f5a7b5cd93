"""What every patch of this package touches inside moto, declared once, checked by one test.

Each service module lists its :class:`Target`\\ s; :data:`local.moto.TARGETS` collects them and
``tests/unit/test_moto_contract.py`` checks, for the pinned moto version, that each one still
exists, still has the signature the patch was written against, and - where a patch *replaces*
a moto method with an adapted copy of its body - that the body is still the one that was
copied (a digest of its source). A moto upgrade that moves any of them fails that one test,
naming the target and the reason for the patch, instead of breaking the local system in some
distant e2e test.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock


@dataclass(frozen=True)
class Target:
    """One attribute of moto a patch replaces or reads.

    ``owner``: dotted path of the module or class holding it; ``name``: the attribute; ``why``:
    the reason for the patch; ``signature``: the parameters of a callable as moto ships it
    (:func:`plain_signature`; None for a plain attribute); ``source_digest``: for a method
    replaced by an adapted copy, :func:`source_digest` of moto's version; ``same_as``: another
    target this attribute must be (a function another module imported by name).
    """

    owner: str
    name: str
    why: str
    signature: str | None = None
    source_digest: str | None = None
    same_as: Target | None = None

    def __str__(self) -> str:
        return f"{self.owner}.{self.name}"

    def owner_object(self) -> Any:
        try:
            return importlib.import_module(self.owner)
        except ModuleNotFoundError:
            module_name, _, class_name = self.owner.rpartition(".")
            return getattr(importlib.import_module(module_name), class_name)

    def original(self) -> Any:
        """The attribute as moto has it now (``inspect.getattr_static``: no descriptor binding)."""
        return inspect.getattr_static(self.owner_object(), self.name)

    @contextmanager
    def replaced_by(self, new: Any) -> Iterator[None]:
        """``mock.patch.object`` on the target while the block runs."""
        with mock.patch.object(self.owner_object(), self.name, new):
            yield


def plain_signature(function: Any) -> str:
    """``(self, env, timeout=None)``: names, kinds and defaults of the parameters, without the
    annotations (moto's vary between postponed strings and objects)."""
    signature = inspect.signature(function)
    parameters = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def source_digest(function: Any) -> str:
    """First 12 hex digits of the SHA-256 of ``function``'s dedented source."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(function)))
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def callable_of(attribute: Any) -> Any:
    """The function behind a static attribute (staticmethod/classmethod unwrapped)."""
    if isinstance(attribute, staticmethod | classmethod):
        return attribute.__func__
    return attribute
