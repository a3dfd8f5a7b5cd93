"""The discrete-event simulation: one policy (a state-machine definition) on one load.

A virtual clock jumps from event to event (a heap ordered by time, then by the order events
were scheduled — so the same inputs always run the same way). The complaint system is the
real one on in-memory adapters (:func:`chalicelib.adapters.memory.memory_services`): intake
and the marketplace importer file the complaints, each execution of the definition is run by
:mod:`local.simulate.asl` calling the real ``lifecycle_step`` work
(:func:`chalicelib.steps.run`, which sends the notifications too), agents and customers act
through :mod:`chalicelib.actions` — the functions the API routes call — which resume the
waiting execution through the ``Workflow`` port with its task token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import heapq
import importlib
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib import actions, intake, models
from chalicelib.adapters.memory import MemoryWorkflow, memory_services
from chalicelib.clock import iso
from chalicelib.ids import imported_complaint_id
from chalicelib.lifecycle import ActionNotAllowed
from chalicelib.marketplaces import map_record
from chalicelib.models import Caller, ComplaintIn, ContactIn, RatingIn, ResolveIn, Status
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from infra.resources import ASL_FUNCTION_PLACEHOLDERS
from local.simulate.asl import TIMED_OUT, Callback, Counters, Execution, ExecutionFailed, Interpreter, Resumed, Sleep
from local.simulate.load import Arrival
from local.simulate.people import Customers, Staffing
from local.simulate.store import SimulationStore

ACTIONABLE = (Status.AWAITING_CONTACT, Status.IN_PROGRESS)
# The work each Lambda function of the definition does, as ``module:function(services, event)``
# (what its entry point in app.py calls with the deployed services).
REPLY_TEXT = "照片已经补充 / here is the photo"
SERVICE_FUNCTIONS = {"lifecycle_step": "chalicelib.steps:run"}


@dataclass
class _Running:
    execution: Execution
    waiting: Callback | None = None
    done: bool = False


@dataclass
class Result:
    """What one simulated policy left behind, for :mod:`local.simulate.figures`."""

    services: Services
    complaint_ids: list[str]
    counters: Counters
    failed: dict[str, str] = field(default_factory=dict)  # complaint id -> the execution's error
    horizon: datetime | None = None


class SimulatedWorkflow(MemoryWorkflow):
    """The ``Workflow`` port of a simulation: a start or an accepted resume becomes an event
    of the loop (never a call back into a running step)."""

    def __init__(self, on_start: Callable[[str], None], on_answer: Callable[[str, str, Resumed], None]) -> None:
        super().__init__()
        self._on_start, self._on_answer = on_start, on_answer
        self._owner: dict[str, str] = {}

    def start(self, complaint_id: str) -> str:
        first = complaint_id not in self.starts
        arn = super().start(complaint_id)
        if first:
            self._on_start(complaint_id)
        return arn

    def wait(self, complaint_id: str) -> str:
        token = super().wait(complaint_id)
        self._owner[token] = complaint_id
        return token

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        if not super().resume(token, output):
            return False
        self._on_answer(self._owner.pop(token), token, Resumed(output=output))
        return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        """SendTaskFailure: the execution's wait ends with ``error`` (its Catch decides)."""
        with self._lock:
            known = self._waiting.pop(token, None) is not None
        if not known:
            return False
        self._on_answer(self._owner.pop(token), token, Resumed(error=error, cause=cause))
        return True

    def time_out(self, token: str) -> None:
        super().time_out(token)
        self._owner.pop(token, None)


class Simulation:
    """Runs ``arrivals`` through ``definition`` with the given people; :meth:`run` once."""

    def __init__(self, definition: Mapping[str, Any], arrivals: list[Arrival], *, staffing: Staffing,
                 customers: Customers, horizon: datetime,
                 progress: Callable[[int], object] | None = None) -> None:
        self.now_s = 0
        self._now = datetime.fromtimestamp(0, UTC)
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.arrivals, self.staffing, self.customers = arrivals, staffing, customers
        self.horizon_s = int(horizon.timestamp())
        self.progress = progress
        self.workflow = SimulatedWorkflow(self._started, self._answered)
        ids = (f"CMP-SIM-{n:06d}" for n in itertools.count(1))
        base = memory_services(clock=self.clock, sleep=lambda _s: None, new_id=lambda: next(ids))
        self.store = SimulationStore()
        self.services = dataclasses.replace(base, store=self.store, workflow=self.workflow)
        self.counters = Counters()
        self.interpreter = Interpreter(
            definition, counters=self.counters, placeholders=ASL_FUNCTION_PLACEHOLDERS, new_token=self.workflow.wait,
            functions={name: self._function(name) for name in set(ASL_FUNCTION_PLACEHOLDERS.values())})
        self._running: dict[str, _Running] = {}
        self._ids: list[str] = []
        self._arrival_of: dict[str, Arrival] = {}
        self._failed: dict[str, str] = {}
        self._claimed: set[str] = set()
        self._busy: dict[str, int] = {team: 0 for team in staffing.teams}
        self._asked: set[str] = set()  # complaints whose customer was asked for something
        self._surveys_seen: dict[str, str] = {}  # complaint -> survey sent_at already answered / scheduled

    def _function(self, name: str) -> Callable[[Any], Any]:
        """What the Lambda function ``name`` runs, on this simulation's services."""
        module_name, _, attribute = SERVICE_FUNCTIONS[name].partition(":")
        run: Callable[[Services, Any], Any] | None = None

        def call(event: Any) -> Any:
            nonlocal run
            if run is None:
                run = getattr(importlib.import_module(module_name), attribute)
            return run(self.services, event)

        return call

    # -- the clock and the heap ------------------------------------------------------------------
    def clock(self) -> datetime:
        return self._now

    def at(self, when_s: int, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (when_s, next(self._seq), action))

    def run(self) -> Result:
        for arrival in self.arrivals:
            self.at(int(arrival.at.timestamp()), functools.partial(self._arrive, arrival))
        start = int(self.arrivals[0].at.timestamp()) if self.arrivals else self.horizon_s
        for team in self.staffing.teams:
            for change in self.staffing.changes(team, start, self.horizon_s):
                self.at(change, functools.partial(self._pick, team))
        while self._heap and self._heap[0][0] <= self.horizon_s:
            when, _, action = heapq.heappop(self._heap)
            if when != self.now_s:
                self.now_s, self._now = when, datetime.fromtimestamp(when, UTC)
            action()
        return Result(self.services, list(self._ids), self.counters, dict(self._failed),
                      datetime.fromtimestamp(self.horizon_s, UTC))

    # -- complaints arrive ------------------------------------------------------------------------
    def _arrive(self, arrival: Arrival) -> None:
        store = self.services.store
        if arrival.profile:
            store.put_profile(arrival.customer_id, {**arrival.profile, "updated_at": iso(self._now)})
        if arrival.source:
            record = map_record(arrival.source, arrival.line, arrival.record)
            ticket = intake.new_ticket(
                record.complaint, complaint_id=imported_complaint_id(record.source, record.external_id),
                received_by=f"import:{record.source}", source=record.source, at=self._now,
                external_id=record.external_id, batch_id=f"SIM-{arrival.line}", raised_at=record.raised_at)
            complaint_id = ticket.complaint_id
            self._arrival_of[complaint_id] = arrival
            if not intake.register(self.services, ticket):
                return  # the same dispute twice: the importer creates nothing the second time
        else:
            complaint = ComplaintIn.model_validate(arrival.record)
            complaint_id = self.services.new_id()
            self._arrival_of[complaint_id] = arrival
            ticket = intake.new_ticket(complaint, complaint_id=complaint_id, at=self._now,
                                       received_by=f"customer:{complaint.customer_id}")
            intake.register(self.services, ticket)
        self._ids.append(complaint_id)
        if arrival.script:
            self._scripted(complaint_id, arrival, int(ticket.raised_at.timestamp()))
        if self.progress:
            self.progress(1)

    # -- executions --------------------------------------------------------------------------------
    def _started(self, complaint_id: str) -> None:
        execution = self.interpreter.execute(complaint_id, {"complaint_id": complaint_id}, self.clock)
        self._running[complaint_id] = _Running(execution)
        self.at(self.now_s, lambda: self._advance(complaint_id, None))

    def _answered(self, complaint_id: str, token: str, answer: Resumed) -> None:
        self.at(self.now_s, lambda: self._deliver(complaint_id, token, answer))

    def _deliver(self, complaint_id: str, token: str, answer: Resumed) -> None:
        running = self._running[complaint_id]
        if running.done or running.waiting is None or running.waiting.token != token:
            return  # that wait already ended (the timer won)
        if answer is TIMED_OUT:
            self.workflow.time_out(token)
        self._advance(complaint_id, answer)

    def _advance(self, complaint_id: str, answer: Resumed | None) -> None:
        running = self._running[complaint_id]
        running.waiting = None
        try:
            request = running.execution.send(answer)
        except StopIteration:
            running.done = True
            return
        except ExecutionFailed as exc:
            running.done = True
            self._failed[complaint_id] = f"{exc.error}: {exc.cause}"
            return
        if isinstance(request, Sleep):
            self.at(self.now_s + math.ceil(request.seconds), lambda: self._advance(complaint_id, None))
            return
        running.waiting = request
        if request.timeout_s is not None:
            token = request.token
            self.at(self.now_s + math.ceil(request.timeout_s), lambda: self._deliver(complaint_id, token, TIMED_OUT))
        self._observe(complaint_id)

    def _observe(self, complaint_id: str) -> None:
        """The workflow waits: does a customer have a survey to answer, an agent a ticket?"""
        ticket = self.store.peek(complaint_id)
        if ticket is None:
            return
        if ticket.status is Status.RESOLVED and ticket.survey is not None:
            sent = iso(ticket.survey.sent_at)
            if self._surveys_seen.get(complaint_id) != sent:
                self._surveys_seen[complaint_id] = sent
                self._survey_sent(ticket)
        elif ticket.status in ACTIONABLE and ticket.team and complaint_id not in self._claimed:
            self._pick(ticket.team)

    # -- customers ----------------------------------------------------------------------------------
    def _survey_sent(self, ticket: Ticket) -> None:
        arrival = self._arrival_of[ticket.complaint_id]
        answer = self.customers.answer(arrival, ticket)
        if answer is None:
            return
        delay_s, score = answer
        caller = Caller(username=ticket.complaint.customer_id, groups=frozenset({"customers"}))

        def rate() -> None:
            with contextlib.suppress(ActionNotAllowed):  # the survey expired first: too late
                actions.rate(self.services, ticket.complaint_id, caller, RatingIn(score=score))

        self.at(self.now_s + delay_s, rate)

    # -- agents ---------------------------------------------------------------------------------------
    def _scripted(self, complaint_id: str, arrival: Arrival, raised_s: int) -> None:
        """A scripted agent acts on this complaint at the given times; the teams' agents leave it."""
        self._claimed.add(complaint_id)
        agent = Caller(username="SIM-script", groups=frozenset({"agents"}))
        for after_s, action in arrival.script:
            def act(action: str = action) -> None:
                with contextlib.suppress(ActionNotAllowed):
                    if action == "contact":
                        actions.contact(self.services, complaint_id, agent, ContactIn())
                    else:
                        actions.resolve(self.services, complaint_id, agent, ResolveIn(resolution=arrival.resolution))

            self.at(max(raised_s + after_s, self.now_s), act)

    def _pick(self, team: str) -> None:
        """Free agents of ``team`` take the soonest-due tickets nobody holds (the store's queue)."""
        if team not in self._busy:
            return
        while self._busy[team] < self.staffing.on_duty(team, self._now):
            ticket = self._next_in_queue(team)
            if ticket is None:
                return
            self._work(team, ticket)

    def _next_in_queue(self, team: str) -> Ticket | None:
        """The first ticket of the team's queue (the store's order) that nobody holds."""
        for complaint_id in self.store.queue_order(team):
            if complaint_id in self._claimed:
                continue
            ticket = self.store.peek(complaint_id)
            if ticket is not None and ticket.status in ACTIONABLE:
                return ticket
        return None

    def _ask(self, complaint_id: str, agent: Caller, arrival: Arrival) -> bool:
        """Pause the complaint to ask its customer (if the service layer can): True if paused.
        A customer who replies does so after a while; one who does not leaves it to the
        policy's pause timeout."""
        pause, pause_in = getattr(actions, "pause", None), getattr(models, "PauseIn", None)
        reply, reply_in = getattr(actions, "reply", None), getattr(models, "ReplyIn", None)
        if pause is None or pause_in is None:
            return False
        self._asked.add(complaint_id)
        try:
            pause(self.services, complaint_id, agent, pause_in(note="asked the customer for a photo"))
        except ActionNotAllowed:
            return False
        delay_s = self.customers.reply_delay(arrival, complaint_id)
        if delay_s is not None and reply is not None and reply_in is not None:
            customer = Caller(username=arrival.customer_id, groups=frozenset({"customers"}))

            def answer() -> None:
                with contextlib.suppress(ActionNotAllowed):  # the pause timed out first
                    reply(self.services, complaint_id, customer, reply_in(text=REPLY_TEXT))

            self.at(self.now_s + delay_s, answer)
        return True

    def _work(self, team: str, ticket: Ticket) -> None:
        complaint_id = ticket.complaint_id
        self._claimed.add(complaint_id)
        self._busy[team] += 1
        agent = Caller(username=f"SIM-{team}", groups=frozenset({"agents"}))
        contact_s, resolve_s = self.staffing.handling(team, complaint_id, ticket.reopen_count)
        arrival = self._arrival_of[complaint_id]

        def done() -> None:
            self._claimed.discard(complaint_id)
            self._busy[team] -= 1
            self._pick(team)

        def resolve() -> None:
            with contextlib.suppress(ActionNotAllowed):  # closed meanwhile
                actions.resolve(self.services, complaint_id, agent, ResolveIn(resolution=arrival.resolution))
            done()

        def contact() -> None:
            with contextlib.suppress(ActionNotAllowed):  # already contacted, or closed meanwhile
                actions.contact(self.services, complaint_id, agent, ContactIn())
            if arrival.needs_info and complaint_id not in self._asked and self._ask(complaint_id, agent, arrival):
                done()  # the complaint waits for its customer; the agent takes the next one
                return
            self.at(self.now_s + resolve_s, resolve)

        if ticket.status is Status.AWAITING_CONTACT:
            self.at(self.now_s + contact_s, contact)
        else:
            self.at(self.now_s + contact_s + resolve_s, resolve)

