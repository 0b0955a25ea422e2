"""`cronkit.tracing`: one OpenTelemetry span per run (SPEC §14.4)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from cronkit import (
    App,
    InMemoryExecutionGuard,
    RunCompleted,
    RunSkipped,
    RunStarted,
    RunStatus,
    SchedulerStopped,
    StopReason,
    TriggerEmitted,
    TriggerSource,
)
from cronkit.testing import FakeClock
from cronkit.tracing import OpenTelemetryObserver
from tests.app_fixtures.harness import finish, start
from tests.engine_helpers import T0, at


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def divide(numerator: int, denominator: int) -> float:
    return numerator / denominator


def ns(text: str) -> int:
    return int(at(text).timestamp()) * 1_000_000_000


def by_job(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    spans: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        assert span.attributes is not None
        spans.setdefault(str(span.attributes["cronkit.job_id"]), []).append(span)
    return spans


def started(job_id: str = "j", *, source: TriggerSource = TriggerSource.SCHEDULE) -> RunStarted:
    return RunStarted(
        job_id=job_id, at=T0, scheduled_at=T0, catch_up=False, source=source, fencing_token=None
    )


def completed(
    job_id: str = "j",
    status: RunStatus = RunStatus.SUCCESS,
    *,
    error: str | None = None,
    traceback: str | None = None,
    after: float = 1.0,
) -> RunCompleted:
    return RunCompleted(
        job_id=job_id,
        at=T0 + timedelta(seconds=after),
        scheduled_at=T0,
        status=status,
        error=error,
        duration=timedelta(seconds=after),
        source=TriggerSource.SCHEDULE,
        traceback=traceback,
    )


async def test_one_span_per_run_with_its_attributes_and_times(
    clock: FakeClock, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    observer = OpenTelemetryObserver(provider)
    app = App(clock=clock, observers=[observer])

    @app.interval(seconds=10, max_runs=2, id="fine")
    async def fine() -> None:
        await clock.sleep(3)

    await finish(app, await start(app))
    [first, second] = by_job(exporter)["fine"]
    assert first.name == "cronkit.run"
    assert first.parent is None
    assert dict(first.attributes or {}) == {
        "cronkit.job_id": "fine",
        "cronkit.scheduled_at": "2025-01-01T00:00:10+00:00",
        "cronkit.source": "schedule",
        "cronkit.attempt": 1,
        "cronkit.status": "success",
    }
    assert (first.start_time, first.end_time) == (
        ns("2025-01-01T00:00:10Z"),
        ns("2025-01-01T00:00:13Z"),
    )
    assert first.status.status_code is StatusCode.UNSET
    assert not first.events
    assert (second.attributes or {})["cronkit.scheduled_at"] == "2025-01-01T00:00:20+00:00"
    assert observer.open_spans == 0


async def test_a_failed_run_sets_error_and_records_its_exception(
    clock: FakeClock, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app = App(clock=clock, observers=[OpenTelemetryObserver(provider)])

    @app.interval(seconds=10, max_runs=1, id="broken")
    async def broken() -> None:
        divide(1, 0)

    await finish(app, await start(app))
    [span] = by_job(exporter)["broken"]
    assert (span.attributes or {})["cronkit.status"] == "failed"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ZeroDivisionError: division by zero"
    [event] = span.events
    assert event.name == "exception"
    assert event.timestamp == span.end_time
    attributes = event.attributes or {}
    assert attributes["exception.type"] == "ZeroDivisionError"
    assert attributes["exception.message"] == "division by zero"
    assert "in divide" in str(attributes["exception.stacktrace"])


async def test_a_timed_out_run_is_an_error_with_where_it_was(
    clock: FakeClock, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app = App(clock=clock, observers=[OpenTelemetryObserver(provider)])

    async def wait_for_the_network() -> None:
        await clock.sleep(60)

    @app.interval(seconds=100, max_runs=1, id="slow", timeout=timedelta(seconds=5))
    async def slow() -> None:
        await wait_for_the_network()

    await finish(app, await start(app))
    [span] = by_job(exporter)["slow"]
    assert (span.attributes or {})["cronkit.status"] == "timed_out"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "TimeoutError: run exceeded 0:00:05"
    assert span.end_time is not None
    assert span.start_time is not None
    assert span.end_time - span.start_time == 5_000_000_000
    [event] = span.events
    attributes = event.attributes or {}
    assert attributes["exception.type"] == "TimeoutError"
    assert "in wait_for_the_network" in str(attributes["exception.stacktrace"])


async def test_guarded_and_manual_runs(
    clock: FakeClock, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app = App(
        clock=clock, guard=InMemoryExecutionGuard(), observers=[OpenTelemetryObserver(provider)]
    )

    @app.interval(seconds=10, id="guarded")
    async def guarded() -> None:
        pass

    task = await start(app)
    await clock.advance(15)
    app.handle("guarded").trigger_now()
    await clock.settle()
    app.shutdown()
    await finish(app, task)
    [scheduled, manual] = by_job(exporter)["guarded"]
    assert isinstance((scheduled.attributes or {})["cronkit.fencing_token"], int)
    assert (manual.attributes or {})["cronkit.source"] == "manual"
    assert (manual.attributes or {})["cronkit.scheduled_at"] == "2025-01-01T00:00:15+00:00"


def test_a_run_stopped_before_it_started_gets_a_span_at_its_completion(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    observer = OpenTelemetryObserver(provider)
    observer.on_event(completed(status=RunStatus.CANCELLED, error="shut down"))
    [span] = exporter.get_finished_spans()
    assert span.start_time == span.end_time == ns("2025-01-01T00:00:01Z")
    assert (span.attributes or {})["cronkit.status"] == "cancelled"
    assert "cronkit.fencing_token" not in (span.attributes or {})
    assert span.status.status_code is StatusCode.UNSET
    assert observer.open_spans == 0


def test_a_traceback_without_the_exception_is_an_exception_event(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    observer = OpenTelemetryObserver(provider)
    observer.on_event(started())
    text = "Traceback (most recent call last):\n  ...\nValueError: bad\n"
    observer.on_event(completed(status=RunStatus.FAILED, error="ValueError: bad", traceback=text))
    [span] = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    [event] = span.events
    assert event.name == "exception"
    assert dict(event.attributes or {}) == {
        "exception.message": "ValueError: bad",
        "exception.stacktrace": text,
    }


def test_a_failure_without_details_sets_only_the_status(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    observer = OpenTelemetryObserver(provider)
    observer.on_event(started())
    observer.on_event(completed(status=RunStatus.FAILED))
    [span] = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert not span.events


def test_parallel_runs_of_one_occurrence_end_in_order(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    observer = OpenTelemetryObserver(provider)
    observer.on_event(started())
    observer.on_event(started())
    assert observer.open_spans == 2
    observer.on_event(completed(after=1))
    assert observer.open_spans == 1
    observer.on_event(completed(after=2))
    assert observer.open_spans == 0
    ends = [span.end_time for span in exporter.get_finished_spans()]
    assert ends == [ns("2025-01-01T00:00:01Z"), ns("2025-01-01T00:00:02Z")]


def test_spans_left_open_end_when_their_scheduler_stops(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    observer = OpenTelemetryObserver(provider)
    observer.on_event(started("a"))
    observer.on_event(started("a", source=TriggerSource.MANUAL))
    observer.on_event(started("b"))
    stop_at = T0 + timedelta(seconds=9)
    observer.on_event(SchedulerStopped(job_id="a", at=stop_at, reason=StopReason.SHUTDOWN))
    assert observer.open_spans == 1
    spans = exporter.get_finished_spans()
    assert len(spans) == 2
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        assert (
            span.status.description == "the run did not complete: its scheduler stopped (shutdown)"
        )
        assert span.end_time == ns("2025-01-01T00:00:09Z")
        assert "cronkit.status" not in (span.attributes or {})


def test_wants_run_events_and_the_stop_only(provider: TracerProvider) -> None:
    observer = OpenTelemetryObserver(provider)
    assert all(observer.wants(kind) for kind in (RunStarted, RunCompleted, SchedulerStopped))
    assert not observer.wants(TriggerEmitted)
    assert not observer.wants(RunSkipped)
    observer.on_event(
        TriggerEmitted(
            job_id="j", at=T0, scheduled_at=T0, catch_up=False, source=TriggerSource.SCHEDULE
        )
    )
    assert observer.open_spans == 0


def test_without_a_provider_the_global_one_is_used() -> None:
    observer = OpenTelemetryObserver()
    observer.on_event(started())
    observer.on_event(completed())
    assert observer.open_spans == 0


def test_without_opentelemetry_the_import_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cronkit.tracing

    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ImportError, match=r"pip install 'cronkit\[otel\]'"):
        importlib.reload(cronkit.tracing)
    monkeypatch.undo()
    importlib.reload(cronkit.tracing)
