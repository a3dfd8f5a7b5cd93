"""A daemon thread that runs ``_run`` until ``stop()`` — what every local poller shares."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Subclasses implement ``_run`` and check ``self._stop`` between polls."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end after its current poll (``stop`` then waits for it)."""
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
