"""The SLA policy simulator (``python -m local simulate``, docs/simulate.md): a load of
complaints through the real lifecycle steps and policy model on in-memory adapters, driven by
an interpreter of the state-machine definition on a virtual clock.

- ``asl.py``: the Amazon States Language interpreter (yields when time must pass; counts
  billed transitions and Lambda invocations);
- ``engine.py``: the discrete-event loop (the virtual clock, executions, agents, customers);
- ``store.py``: the in-memory ticket store with its team queues indexed;
- ``people.py``: staffing (agents per team or by shift, handling times) and customers;
- ``load.py``: reading a load file, making a synthetic week;
- ``figures.py``: the figures of a policy and the difference of two;
- ``html.py``: the HTML report with charts;
- ``command.py``: the command line.
"""
