"""Reports for ops and supervisors, kept as per-day aggregates of the tickets:

- :mod:`~chalicelib.reports.aggregates` — how a ticket counts, where the counts live (pure);
- :mod:`~chalicelib.reports.figures` — the summary and hotspot figures from the counts (pure);
- :mod:`~chalicelib.reports.dynamodb` — the counts in the tickets table, fed by its stream;
- :mod:`~chalicelib.reports.memory` — the same counts in memory;
- :mod:`~chalicelib.reports.handlers` — the ``analytics`` function and ``GET /reports/*``.
"""
