"""`schedule serve`: the scheduler in one long-lived process (a container), ticking once a minute.

Each tick is `Scheduler.run_due()`: the same due, catch-up, lock, quota and history rules as the
one-shot `run-due` a cron job calls. Between ticks the loop sleeps to the next minute boundary.

Stopping (SIGTERM from `docker stop`/Kubernetes, SIGINT from Ctrl-C): when idle the loop ends at
once; during a job, no new job starts and the running one has `grace` seconds to finish; then (or
at a second signal) SystemExit is raised inside it, which the Scheduler records as `interrupted`
(locks freed; outputs are written atomically at the end, so they are either fully written or
untouched), and `stopping.HardStop` ends the process within `exit_after` seconds even when a thread
of the job waits on an HTTP answer.

`HealthServer` answers on 127.0.0.1: `/healthz` (the process is alive) and `/readyz` (the state store
opens and answers, and the loop ticked recently or is running a job).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sheetsync.errors import ConfigError, ExitCode
from sheetsync.schedule.history import RunRecord
from sheetsync.schedule.runner import Scheduler
from sheetsync.schedule.stopping import HardStop

Event = dict[str, Any]
TICK_SECONDS = 60


@dataclass
class ServeLoop:
    """Calls run_due once a minute until stopped. `clock` and `wait` are injectable for tests."""

    scheduler: Scheduler
    grace: float = 30.0  # seconds a running job may take to finish after a stop signal
    jobs: int = 1
    log: Callable[[Event], None] = lambda event: None
    wait: Callable[[float], None] | None = None  # sleep this many seconds (default: real time, stop-aware)
    stale_after: timedelta = timedelta(minutes=3)  # readiness: the longest quiet time between ticks
    exit_after: float = 2.0  # a stop that does not wait: seconds the job gets to unwind before the process ends
    end_process: Callable[[int], None] | None = None  # the CLI passes stopping.end_process; tests None
    stopping: bool = False
    busy: bool = False
    last_tick: datetime | None = None
    stop_signal: int | None = None
    _timer_armed: bool = field(default=False, repr=False)
    _hard_stop: HardStop | None = field(default=None, repr=False)
    _said_stopped: threading.Lock = field(default_factory=threading.Lock, repr=False)  # held once said

    def __post_init__(self) -> None:
        # each run is logged as soon as it is recorded, so one interrupted by a stop is logged too
        self.scheduler.recorded = lambda run: self.log({"event": "run", **run_summary(run)})

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.scheduler.clock

    def serve(self, until: datetime | None = None) -> int:
        """Tick until stopped (or until the clock passes `until`). Exit code: 0, or 128+signal if a
        job had to be interrupted."""
        self.log({"event": "serve_started", "jobs": [j.name for j in self.scheduler.schedule.jobs]})
        code = 0
        try:
            while not self.stopping and (until is None or self.clock() < until):
                self.tick()
                if not self.stopping:
                    (self.wait or self._sleep)(self.seconds_to_next_tick())
        except SystemExit as stop:  # the grace period ran out (or a second signal): the job is recorded interrupted
            code = int(stop.code or ExitCode.INTERRUPTED)
        finally:
            self._disarm()
        if self._hard_stop is not None:
            self._hard_stop.done(code)  # ends the process (threads may still wait on a request)
        self._stopped(code)
        return code

    def tick(self) -> list[RunRecord]:
        self.last_tick, self.busy = self.clock(), True
        try:
            return self.scheduler.run_due(jobs=self.jobs)  # each run logged as recorded (__post_init__)
        finally:
            self.busy, self.last_tick = False, self.clock()
            self._disarm()

    def seconds_to_next_tick(self) -> float:
        now = self.clock().timestamp()
        return TICK_SECONDS - now % TICK_SECONDS

    def ready(self) -> tuple[bool, str]:
        """Whether the loop is alive and ticking (the store is checked by the health server); a loop that
        is stopping is not ready, so an orchestrator stops routing to it."""
        if self.stopping:
            return False, "stopping"
        if self.busy:
            return True, "running a job"
        if self.last_tick is None:
            return False, "no tick yet"
        quiet = self.clock() - self.last_tick
        if quiet > self.stale_after:
            return False, f"last tick {int(quiet.total_seconds())} s ago"
        return True, f"last tick {int(quiet.total_seconds())} s ago"

    # ---- stopping
    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the loop gracefully (call from the main thread)."""
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)

    def on_signal(self, signum: int, frame: Any = None) -> None:
        """First signal: start no new job; the running one has `grace` seconds. Second: stop now."""
        if self.stopping and self.busy:
            self.stop_now(signum, "second signal")
        self.stopping, self.stop_signal = True, signum
        self.scheduler.stop.set()
        if not self.busy:
            self.log({"event": "stopping", "signal": signum})
            return
        self.log({"event": "stopping", "signal": signum, "grace_seconds": self.grace})

        def out_of_grace(_signum: int, _frame: Any) -> None:
            self.stop_now(signum, "grace period over")

        signal.signal(signal.SIGALRM, out_of_grace)
        signal.setitimer(signal.ITIMER_REAL, max(self.grace, 0.001))
        self._timer_armed = True

    def stop_now(self, signum: int, why: str) -> None:
        """Interrupt the running job now (raises SystemExit in the main thread; a watchdog makes sure
        the process ends within `exit_after` seconds even if a thread waits on a request)."""
        self._disarm()
        code, self.stop_signal = 128 + signum, signum  # the signal that ended it (a second one, say)
        if self._hard_stop is None:
            self.log({"event": "stopping_now", "signal": signum, "reason": why})
            self._hard_stop = HardStop(
                self.scheduler, exit_after=self.exit_after, end_process=self.end_process, on_end=self._stopped
            )
        self._hard_stop.begin(code)
        raise SystemExit(code)

    def _stopped(self, code: int) -> None:
        if self._said_stopped.acquire(blocking=False):  # once, from whichever thread ends the process
            self.log({"event": "serve_stopped", "signal": self.stop_signal, "exit_code": code})

    def _disarm(self) -> None:
        if self._timer_armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._timer_armed = False

    def _sleep(self, seconds: float) -> None:
        """Real sleep in short slices, so a stop signal is seen within half a second."""
        end = time.monotonic() + seconds
        while not self.stopping and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))


def run_summary(run: RunRecord) -> Event:
    """The fields of a run worth a log line (the whole record is in `schedule history --json`)."""
    data = run.to_json()
    keep = ("job", "id", "trigger", "slot", "outcome", "seconds", "requests", "outputs", "reason", "error", "warnings")
    return {key: data.get(key) for key in keep if data.get(key) not in (None, [], {})}


def json_logger(write: Callable[[str], None], clock: Callable[[], datetime]) -> Callable[[Event], None]:
    """One JSON object per line: {"time": ISO 8601 UTC, "event": ..., ...}."""

    def log(event: Event) -> None:
        write(json.dumps({"time": clock().isoformat(), **event}, default=str))

    return log


def text_logger(write: Callable[[str], None]) -> Callable[[Event], None]:
    """People's lines; run lines are already printed by the Scheduler's report."""

    def log(event: Event) -> None:
        kind = event.get("event")
        if kind == "serve_started":
            write(f"serving {len(event['jobs'])} job(s): {', '.join(event['jobs'])}; Ctrl-C or SIGTERM stops")
        elif kind == "stopping":
            grace = event.get("grace_seconds")
            write("stopping" + (f": the running job has {grace:g} s to finish" if grace is not None else ""))
        elif kind == "stopping_now":
            write(f"stopping now ({event['reason']}): the running job is recorded interrupted")
        elif kind == "health":
            write(f"health checks on {event['url']} and /readyz")
        elif kind == "serve_stopped":
            write(f"stopped (exit code {event['exit_code']})")

    return log


class HealthServer:
    """`/healthz` and `/readyz` over HTTP on `host:port` (port 0: any free port), in a daemon thread."""

    def __init__(self, loop: ServeLoop, store_probe: Callable[[], None], port: int, host: str = "127.0.0.1") -> None:
        self.loop, self.store_probe = loop, store_probe
        try:
            self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as exc:  # port taken, address not on this machine, no permission
            raise ConfigError(f"--health-port {port}: cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sheetsync-health", daemon=True)

    def __enter__(self) -> HealthServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, path: str) -> tuple[int, Event]:
        if path == "/healthz":
            return 200, {"status": "alive"}
        if path != "/readyz":
            return 404, {"error": f"no {path}; try /healthz or /readyz"}
        try:
            self.store_probe()
        except Exception as exc:  # any failure to reach the store means not ready
            return 503, {"status": "not ready", "store": f"unreachable: {type(exc).__name__}"}
        ticking, why = self.loop.ready()
        return (200 if ticking else 503), {"status": "ready" if ticking else "not ready", "store": "ok", "loop": why}


def _handler(server: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = server.answer(self.path.split("?")[0])
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: not logged
            pass

    return Handler
