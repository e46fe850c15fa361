"""Stopping a push cleanly: SIGINT (Ctrl-C) and SIGTERM (how cron, systemd and Kubernetes stop a job)
let the request in flight finish, so its outcome is recorded and written, instead of killing it midway."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """A context manager that turns SIGINT and SIGTERM into a flag (`received` names the first signal).

    Handlers are installed only in the main thread (Python delivers signals there); elsewhere the
    manager does nothing and `received` stays None. The previous handlers are restored on exit."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in HANDLED:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(number).name
            print(f"{self.received}: stopping after the request in flight...", file=sys.stderr, flush=True)

    def stop(self, name: str = "SIGTERM") -> None:
        """Ask for a stop as a signal would (for tests and embedding)."""
        self.received = self.received or name
