"""Prometheus metrics from scheduler events: `PrometheusObserver` and `start_metrics_server`.

Needs the `prometheus` extra (`pip install 'cronkit[prometheus]'`).

```python
from prometheus_client import CollectorRegistry
from cronkit import App, LogObserver
from cronkit.metrics import PrometheusObserver, start_metrics_server

registry = CollectorRegistry()
app = App(observers=[LogObserver(), PrometheusObserver(registry)])
start_metrics_server(9464, registry=registry)  # GET http://127.0.0.1:9464/metrics
```

| metric | type | labels |
|---|---|---|
| `cronkit_runs_total` | counter | `job`, `status` |
| `cronkit_skips_total` | counter (by occurrences skipped) | `job`, `reason` |
| `cronkit_run_duration_seconds` | histogram | `job` |
| `cronkit_start_lateness_seconds` | histogram (schedule-sourced runs) | `job` |
| `cronkit_guard_events_total` | counter | `job`, `event` |
| `cronkit_store_degraded` | gauge (1 while the mirror serves) | — |
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, final

try:
    from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
    from prometheus_client import start_http_server as _start_http_server
except ImportError as exc:
    raise ImportError(
        "cronkit.metrics needs the prometheus-client package; "
        "install it with: pip install 'cronkit[prometheus]'"
    ) from exc

from cronkit._enums import TriggerSource
from cronkit._events import (
    ExecutionGuardAcquired,
    ExecutionGuardContended,
    ExecutionGuardLost,
    ExecutionGuardReleased,
    ExecutionGuardReleaseFailed,
    ExecutionGuardRenewed,
    ExecutionGuardRenewFailed,
    ExecutionGuardUnavailable,
    RunCompleted,
    RunSkipped,
    RunStarted,
    SchedulerEvent,
    StoreDegraded,
    StoreRecovered,
)

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

__all__ = [
    "DURATION_BUCKETS",
    "GUARD_EVENT_NAMES",
    "LATENESS_BUCKETS",
    "PrometheusObserver",
    "start_metrics_server",
]

DURATION_BUCKETS: Final[tuple[float, ...]] = (
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
)  # fmt: skip
"""Default buckets of `cronkit_run_duration_seconds`: 10 ms to an hour."""

LATENESS_BUCKETS: Final[tuple[float, ...]] = (
    0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0,
)  # fmt: skip
"""Default buckets of `cronkit_start_lateness_seconds`: 1 ms to five minutes."""

GUARD_EVENT_NAMES: Final[dict[type[SchedulerEvent], str]] = {
    ExecutionGuardAcquired: "acquired",
    ExecutionGuardContended: "contended",
    ExecutionGuardRenewed: "renewed",
    ExecutionGuardRenewFailed: "renew_failed",
    ExecutionGuardLost: "lost",
    ExecutionGuardReleased: "released",
    ExecutionGuardReleaseFailed: "release_failed",
    ExecutionGuardUnavailable: "unavailable",
}
"""The `event` label of `cronkit_guard_events_total` for each guard event."""


@final
class PrometheusObserver:
    """A `SchedulerObserver` that keeps Prometheus metrics of runs, skips, the guard and store.

    Start lateness (`RunStarted.at - RunStarted.scheduled_at`) is observed for runs a
    schedule started; a manual trigger's `scheduled_at` is the instant it was asked for, so
    it would only pull the distribution towards zero.

    The metrics are registered once, at construction: give each observer its own
    `registry`, or build one observer and share it between Apps (the default registry refuses
    a second set of the same names).

    Args:
        registry: where to register the metrics; None is prometheus_client's `REGISTRY`.
        duration_buckets: bucket bounds of `cronkit_run_duration_seconds`, in seconds.
        lateness_buckets: bucket bounds of `cronkit_start_lateness_seconds`, in seconds.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        duration_buckets: Sequence[float] = DURATION_BUCKETS,
        lateness_buckets: Sequence[float] = LATENESS_BUCKETS,
    ) -> None:
        self.registry = REGISTRY if registry is None else registry
        self.runs = Counter(
            "cronkit_runs_total",
            "Runs that ended, by job and status.",
            ["job", "status"],
            registry=self.registry,
        )
        self.skips = Counter(
            "cronkit_skips_total",
            "Occurrences consumed without running, by job and reason.",
            ["job", "reason"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "cronkit_run_duration_seconds",
            "How long runs took, start to end.",
            ["job"],
            buckets=tuple(duration_buckets),
            registry=self.registry,
        )
        self.lateness = Histogram(
            "cronkit_start_lateness_seconds",
            "How long after its scheduled instant a run started (schedule-sourced runs).",
            ["job"],
            buckets=tuple(lateness_buckets),
            registry=self.registry,
        )
        self.guard_events = Counter(
            "cronkit_guard_events_total",
            "Execution guard events, by job and event.",
            ["job", "event"],
            registry=self.registry,
        )
        self.store_degraded = Gauge(
            "cronkit_store_degraded",
            "1 while the primary state store is failing and the mirror serves, else 0.",
            registry=self.registry,
        )
        self._handlers: dict[type[SchedulerEvent], Callable[[Any], None]] = {
            RunStarted: self._started,
            RunCompleted: self._completed,
            RunSkipped: self._skipped,
            StoreDegraded: self._degraded,
            StoreRecovered: self._recovered,
        }
        for kind in GUARD_EVENT_NAMES:
            self._handlers[kind] = self._guard

    def wants(self, kind: type[SchedulerEvent]) -> bool:
        """Whether `kind` changes a metric (the engine builds no other events for it)."""
        return kind in self._handlers

    def on_event(self, event: SchedulerEvent) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _started(self, event: RunStarted) -> None:
        if event.source is TriggerSource.SCHEDULE:
            lateness = (event.at - event.scheduled_at).total_seconds()
            self.lateness.labels(event.job_id).observe(max(lateness, 0.0))

    def _completed(self, event: RunCompleted) -> None:
        self.runs.labels(event.job_id, event.status.value).inc()
        self.duration.labels(event.job_id).observe(event.duration.total_seconds())

    def _skipped(self, event: RunSkipped) -> None:
        self.skips.labels(event.job_id, event.reason.value).inc(event.count)

    def _guard(self, event: SchedulerEvent) -> None:
        self.guard_events.labels(event.job_id, GUARD_EVENT_NAMES[type(event)]).inc()

    def _degraded(self, event: StoreDegraded) -> None:
        self.store_degraded.set(1)

    def _recovered(self, event: StoreRecovered) -> None:
        self.store_degraded.set(0)


def start_metrics_server(
    port: int, addr: str = "127.0.0.1", registry: CollectorRegistry | None = None
) -> tuple[WSGIServer, threading.Thread]:
    """Serve `registry` (None: the default `REGISTRY`) at `http://addr:port/metrics`.

    The server runs in a daemon thread. Returns the server and its thread; stop it with
    `server.shutdown()` and `server.server_close()`. Port 0 picks a free port
    (`server.server_port`).
    """
    return _start_http_server(port, addr=addr, registry=REGISTRY if registry is None else registry)
