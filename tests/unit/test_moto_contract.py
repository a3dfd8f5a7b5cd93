"""The contract between the local engine (``local/moto/``) and the moto it patches.

Each patch declares the moto attributes it replaces or reads (``local.moto.TARGETS``). This
test says, for the pinned moto version, that every one of them still exists, with the
parameters the patch was written against, and - where a patch replaces a method with an
adapted copy of moto's body - that moto's body is still the one that was copied. After a moto
upgrade, this is the test that fails, naming what moved and why the patch needs it; read
``docs/local-engine.md``, adapt the patch, then update the target.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import moto
import pytest

import local.moto
from local.moto._targets import Target, callable_of, plain_signature, source_digest

REPO = Path(__file__).resolve().parents[2]


def _pinned_moto() -> str:
    text = (REPO / "requirements-dev.txt").read_text(encoding="utf-8")
    found = re.search(r"^moto(?:\[[^\]]*\])?==(\S+)", text, re.MULTILINE)
    assert found, "requirements-dev.txt must pin moto with =="
    return found.group(1)


def test_the_patches_are_written_for_the_pinned_and_installed_moto() -> None:
    pinned = _pinned_moto()
    assert pinned == local.moto.MOTO_VERSION, (
        f"requirements-dev.txt pins moto {pinned} but local/moto/ was written for {local.moto.MOTO_VERSION}: "
        "run this test module against the new version, adapt what it reports, then update MOTO_VERSION"
    )
    assert moto.__version__ == pinned, f"moto {moto.__version__} is installed, requirements-dev.txt pins {pinned}"


@pytest.mark.parametrize("target", local.moto.TARGETS, ids=str)
def test_patched_moto_attribute_is_where_the_patch_expects_it(target: Target) -> None:
    try:
        attribute = target.original()
    except (ImportError, AttributeError) as missing:
        pytest.fail(f"moto {moto.__version__} has no {target} ({missing}); the local engine needs it: {target.why}")
    if target.same_as is not None:
        assert attribute is target.same_as.original(), (
            f"{target} is no longer {target.same_as} (moto imports it by name); the patch of the latter "
            f"would miss it: {target.why}"
        )
    if target.signature is not None:
        function = callable_of(attribute)
        assert callable(function), f"{target} is not callable any more: {target.why}"
        assert plain_signature(function) == target.signature, (
            f"{target} changed its parameters: {plain_signature(function)} (the patch expects {target.signature}); "
            f"the patch: {target.why}"
        )
    if target.source_digest is not None:
        digest = source_digest(callable_of(attribute))
        assert digest == target.source_digest, (
            f"moto changed the body of {target} (digest {digest}, the patch copied {target.source_digest}): "
            f"compare the adapted copy in local/moto/ with moto's new code. The patch: {target.why}"
        )


def test_every_target_says_why_and_is_declared_once() -> None:
    names = [str(t) for t in local.moto.TARGETS]
    assert len(names) == len(set(names)), "a moto attribute is declared by two patches: give it one home"
    assert all(t.why for t in local.moto.TARGETS)
    assert all(t.signature is not None or t.same_as is not None or not inspect.isfunction(callable_of(t.original()))
               for t in local.moto.TARGETS), "a patched function must name the parameters it was written against"


def test_moto_is_patched_only_in_local_moto() -> None:
    # A patch of moto outside local/moto/ would escape this contract.
    offenders = []
    for path in sorted((REPO / "local").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.parent.name != "moto" and re.search(r"mock\.patch(\.object)?\(", text):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == [], f"moto patched outside local/moto/: {offenders}"
