"""OpenTelemetry traces from scheduler events: `OpenTelemetryObserver`.

Needs the `otel` extra (`pip install 'cronkit[otel]'`) and, to export anything, an SDK
tracer provider set up by the program.

```python
from opentelemetry.sdk.trace import TracerProvider
from cronkit import App, LogObserver
from cronkit.tracing import OpenTelemetryObserver

app = App(observers=[LogObserver(), OpenTelemetryObserver(TracerProvider())])
```
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final, final

try:
    from opentelemetry import trace
    from opentelemetry.context import Context
except ImportError as exc:
    raise ImportError(
        "cronkit.tracing needs the opentelemetry-api package; "
        "install it with: pip install 'cronkit[otel]'"
    ) from exc

from cronkit import __version__
from cronkit._enums import RunStatus, TriggerSource
from cronkit._events import RunCompleted, RunStarted, SchedulerEvent, SchedulerStopped

__all__ = ["SPAN_NAME", "OpenTelemetryObserver"]

SPAN_NAME: Final = "cronkit.run"
"""The name of every run's span."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NANOSECOND_UNITS: Final = timedelta(microseconds=1)
_ERRORS: Final = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})
_WANTED: Final[frozenset[type[SchedulerEvent]]] = frozenset(
    {RunStarted, RunCompleted, SchedulerStopped}
)

_RunKey = tuple[str, datetime, TriggerSource]


def _ns(instant: datetime) -> int:
    """Nanoseconds since the Unix epoch, exact to the microsecond."""
    return (instant - _EPOCH) // _NANOSECOND_UNITS * 1000


@final
class OpenTelemetryObserver:
    """A `SchedulerObserver` that records one `cronkit.run` span per run.

    The span starts at `RunStarted.at` and ends at the matching `RunCompleted.at` (matched by
    job, scheduled instant and source). It carries `cronkit.job_id`, `cronkit.scheduled_at`
    (ISO 8601), `cronkit.source`, `cronkit.attempt`, `cronkit.fencing_token` (when the run
    holds a lease) and `cronkit.status`. A failed or timed-out run sets the span status to
    ERROR with the run's error and records its exception (or, without the exception object,
    an `exception` event with its `exception.stacktrace`). A run stopped before it started
    gets a zero-length span at its completion. Spans are roots: a run belongs to no request.

    A span still open when its job's scheduler stops (its run never completed) is ended
    there, with status ERROR, so that nothing is kept.

    Args:
        tracer_provider: where spans go; None is OpenTelemetry's global tracer provider.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer("cronkit", __version__, tracer_provider=tracer_provider)
        self._open: dict[_RunKey, list[trace.Span]] = {}

    @property
    def open_spans(self) -> int:
        """How many runs have started and not completed."""
        return sum(len(spans) for spans in self._open.values())

    def wants(self, kind: type[SchedulerEvent]) -> bool:
        """Run starts and completions, and the scheduler's stop (to end leftover spans)."""
        return kind in _WANTED

    def on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, RunCompleted):
            self._completed(event)
        elif isinstance(event, SchedulerStopped):
            self._stopped(event)

    def _start(
        self,
        event: RunStarted | RunCompleted,
        fencing_token: int | None,
    ) -> trace.Span:
        span = self.tracer.start_span(
            SPAN_NAME,
            context=Context(),
            start_time=_ns(event.at),
            attributes={
                "cronkit.job_id": event.job_id,
                "cronkit.scheduled_at": event.scheduled_at.isoformat(),
                "cronkit.source": event.source.value,
                "cronkit.attempt": getattr(event, "attempt", 1),
            },
        )
        if fencing_token is not None:
            span.set_attribute("cronkit.fencing_token", fencing_token)
        return span

    def _started(self, event: RunStarted) -> None:
        key = (event.job_id, event.scheduled_at, event.source)
        self._open.setdefault(key, []).append(self._start(event, event.fencing_token))

    def _completed(self, event: RunCompleted) -> None:
        key = (event.job_id, event.scheduled_at, event.source)
        spans = self._open.get(key)
        if spans:
            span = spans.pop(0)
            if not spans:
                del self._open[key]
        else:
            span = self._start(event, None)
        end = _ns(event.at)
        span.set_attribute("cronkit.status", event.status.value)
        if event.status in _ERRORS:
            span.set_status(trace.StatusCode.ERROR, event.error)
            exception = getattr(event, "exception", None)
            traceback = getattr(event, "traceback", None)
            if exception is not None:
                span.record_exception(exception, timestamp=end)
            elif traceback is not None:
                span.add_event(
                    "exception",
                    {"exception.message": event.error or "", "exception.stacktrace": traceback},
                    timestamp=end,
                )
        span.end(end_time=end)

    def _stopped(self, event: SchedulerStopped) -> None:
        end = _ns(event.at)
        for key in [key for key in self._open if key[0] == event.job_id]:
            for span in self._open.pop(key):
                span.set_status(
                    trace.StatusCode.ERROR,
                    f"the run did not complete: its scheduler stopped ({event.reason.value})",
                )
                span.end(end_time=end)
