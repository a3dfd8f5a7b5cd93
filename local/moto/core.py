"""moto's request dispatch without its per-request reflection and global lock.

* Every request ``BaseResponse.call_action`` handles lists the response class's methods with
  ``inspect.getmembers`` (``method_names_from_class``) to find the action's method: the
  names of a class's functions do not change, so they are listed once per class.
* Every request looks its backend up through ``BackendDict.__getitem__``, which takes moto's
  global ``backend_lock`` and scans the list of every backend dict in use, even when the
  account's backend exists long since: it is then returned straight away.

The targets are checked by ``tests/unit/test_moto_contract.py``; see ``docs/local-engine.md``.
"""

from __future__ import annotations

import functools
from contextlib import ExitStack
from typing import Any

from local.moto._targets import Target

METHOD_NAMES = Target("moto.core.responses", "method_names_from_class",
                      "listed once per class, not with inspect.getmembers on every request", "(clazz)")
BACKEND_GETITEM = Target("moto.core.base_backend.BackendDict", "__getitem__",
                         "an existing account's backend without the global lock and the scan of every backend",
                         "(self, account_id)", "b7c5b4bc0fc8")
TARGETS = (METHOD_NAMES, BACKEND_GETITEM)


def patched() -> ExitStack:
    original_names = METHOD_NAMES.original()
    original_getitem = BACKEND_GETITEM.original()

    @functools.cache
    def names(clazz: type) -> frozenset[str]:
        return frozenset(original_names(clazz))

    def method_names_from_class(clazz: type) -> frozenset[str]:
        return names(clazz)

    def getitem(self: dict[str, Any], account_id: str) -> Any:
        try:
            return dict.__getitem__(self, account_id)
        except KeyError:
            return original_getitem(self, account_id)  # creates and registers it, as moto does

    stack = ExitStack()
    stack.enter_context(METHOD_NAMES.replaced_by(method_names_from_class))
    stack.enter_context(BACKEND_GETITEM.replaced_by(getitem))
    stack.callback(names.cache_clear)
    return stack
