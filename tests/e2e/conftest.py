"""The e2e fixture: the whole local system (real ``app.py``) on free ports, time x3600.

    def test_something(local_system):
        token = local_system.token("C-1001", "customers")
        response = local_system.http("POST", "/complaints", token=token, json_body={...})
        local_system.wait_for(lambda: ..., timeout=10)
        local_system.sfn.list_executions(stateMachineArn=local_system.env["LIFECYCLE_STATE_MACHINE_ARN"])

Module-scoped: one system per test module (moto is process-wide, so a system must not outlive
its module and leak into the tests that use ``mock_aws`` themselves). A module may set
``LOCAL_TIME_SCALE = <N>`` to run its system at another scale, and override the
``local_extra_env`` fixture to give its system more environment (e.g. ``CONSOLE_ORIGIN``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import pytest

from local.runtime import LocalSystem
from local.testing import HttpResponse, http, wait_until
from tests.e2e.helpers import HeldTimers, agents_act_first

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIME_SCALE = 3600.0  # an SLA hour per wall-clock second


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            # SLA time runs x3600 or faster here: on a loaded 2-core machine a scheduling hiccup
            # of a fraction of a second is hours of system time. One rerun, reported by pytest
            # as "rerun", keeps that noise from failing CI; a real failure fails twice.
            item.add_marker(pytest.mark.flaky(reruns=1))


class E2ESystem:
    """What an e2e test needs of the running system."""

    def __init__(self, system: LocalSystem, events: list[str]) -> None:
        self.system = system
        self.events = events  # console lines of the lifecycle events, in order

    @property
    def api_url(self) -> str:
        return self.system.api_url

    @property
    def aws_url(self) -> str:
        return self.system.aws_url

    @property
    def env(self) -> dict[str, str]:
        return self.system.env

    @property
    def names(self) -> dict[str, str]:
        return self.system.names

    @property
    def import_queue_url(self) -> str:
        return self.system.import_queue_url

    def token(self, user: str, group: str | list[str]) -> str:
        return self.system.token(user, group)

    def client(self, service: str) -> Any:
        """boto3 client on the moto endpoint (``http://127.0.0.1:<aws port>``)."""
        return self.system.client(service)

    @cached_property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    @cached_property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @cached_property
    def sqs(self) -> Any:
        return self.client("sqs")

    @cached_property
    def sns(self) -> Any:
        return self.client("sns")

    @cached_property
    def lambda_(self) -> Any:
        return self.client("lambda")

    def http(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """``method`` ``api_url + path``; kwargs of :func:`local.testing.http` (token, json_body ...)."""
        return http(method, self.api_url + path, **kwargs)

    def wait_for(self, condition: Callable[[], T], timeout: float = 20.0, what: str = "") -> T:
        """Poll ``condition`` every ~30 ms until truthy (returned) or fail after ``timeout`` s."""
        return wait_until(condition, timeout=timeout, what=what)


@pytest.fixture(scope="module")
def local_extra_env() -> dict[str, str]:
    """Environment the module's system gets on top of its own (override in a module)."""
    return {}


@pytest.fixture(scope="module")
def local_system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 local_extra_env: dict[str, str]) -> Iterator[E2ESystem]:
    if not (REPO_ROOT / "app.py").is_file():
        pytest.skip("app.py is not there yet")
    scale = float(getattr(request.module, "LOCAL_TIME_SCALE", DEFAULT_TIME_SCALE))
    events: list[str] = []
    system = LocalSystem(
        port=0,
        aws_port=0,
        time_scale=scale,
        secret_path=tmp_path_factory.mktemp("local") / "secret",
        event_sink=events.append,
        extra_env=local_extra_env,
    )
    with system:
        yield E2ESystem(system, events)


@pytest.fixture
def held_timers(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldTimers]:
    """Complaints the test holds here see their timeout step run only once released (see
    :func:`tests.e2e.helpers.agents_act_first`); all are released when the test ends."""
    with agents_act_first(monkeypatch) as held:
        yield held
