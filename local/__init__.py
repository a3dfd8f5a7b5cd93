"""The local system: the whole product in one Python process on moto (dev only, never deployed).

``python -m local serve`` runs it for people; :class:`local.runtime.LocalSystem` runs it for
tests. What it runs and how: ``docs/local.md``.
"""
