"""Integration events: what the platform's systems hear of a complaint (docs/integration.md).

* ``events``  the published contract (detail-types and their detail models, pure) and how a
  timeline item of the tickets table becomes events
* ``outbox``  the ``integration`` function: the tickets table's stream (the timeline items
  are the outbox, written in the transaction of the change they record) -> the event bus,
  in order, retried until delivered; attachments of a filed complaint kept
"""
