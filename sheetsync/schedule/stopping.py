"""Stopping now: a stop that cannot wait for the running job (its grace period is over, or a second
signal came) ends the process within `exit_after` seconds, whatever the job's threads are doing.

Raising SystemExit in the main thread unwinds the job, and the Scheduler records it `interrupted`.
But a thread waiting on an HTTP answer cannot be interrupted: the fetch pool waits for it while
unwinding, and the interpreter joins it again at exit, for as long as the request's timeout and
retries last. So `HardStop.begin()` also starts a watchdog that, if the process has not ended after
`exit_after` seconds, records every run still in progress as interrupted (freeing its locks) and
ends the process. Nothing is half-written: outputs are written atomically, at the end of a run.

    stopper = HardStop(scheduler, end_process=end_process)
    stopper.begin(128 + signal.SIGTERM)   # in the signal handler, then raise SystemExit
    ...
    stopper.done(code)                    # when the main thread got out: ends the process at once
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

STOPPED_NOW = "the run was stopped before it finished (signal; the grace period was over or a second signal came)"


def end_process(code: int) -> None:
    """Flush what was printed and end the process now: worker threads blocked on a request do not hold it."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)


class HardStop:
    """The watchdog of a stop that does not wait (see the module docstring). Thread-safe."""

    def __init__(
        self,
        scheduler: Any,
        *,
        exit_after: float = 2.0,
        end_process: Callable[[int], None] | None = None,
        on_end: Callable[[int], None] = lambda code: None,
    ) -> None:
        self.scheduler = scheduler
        self.exit_after = exit_after  # seconds the main thread gets to unwind the job by itself
        self.end_process = end_process  # None (tests in-process): record, but leave the process alone
        self.on_end = on_end  # called once, before the process ends (e.g. the last log line)
        self.code: int | None = None
        self._unwound = threading.Event()
        self._lock = threading.Lock()
        self._ended = False

    @property
    def begun(self) -> bool:
        return self.code is not None

    def begin(self, code: int) -> None:
        """Start the watchdog (once); the caller then raises SystemExit in the main thread."""
        with self._lock:
            if self.code is not None:
                return
            self.code = code
        threading.Thread(target=self._watch, name="sheetsync-stop", daemon=True).start()

    def done(self, code: int) -> None:
        """The main thread got out of the job: end now (threads left with a request in flight die with it)."""
        self._unwound.set()
        self._end(code)

    def _watch(self) -> None:
        if self._unwound.wait(self.exit_after):
            return
        self.scheduler.interrupt_running(STOPPED_NOW)
        self._end(self.code if self.code is not None else 1)

    def _end(self, code: int) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self.on_end(code)
        if self.end_process is not None:
            self.end_process(code)
