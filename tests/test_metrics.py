"""`cronkit.metrics`: Prometheus metrics of an App's runs, skips, guard and store (SPEC §14.4)."""

from __future__ import annotations

import importlib
import sys
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from cronkit import (
    App,
    ExecutionGuardContended,
    ExecutionGuardLost,
    ExecutionGuardReleaseFailed,
    ExecutionGuardRenewed,
    ExecutionGuardRenewFailed,
    ExecutionGuardUnavailable,
    InMemoryExecutionGuard,
    RunCompleted,
    RunSkipped,
    RunStarted,
    SchedulerEvent,
    SchedulerPaused,
    SkipReason,
    StoreDegraded,
    StoreRecovered,
    TriggerEmitted,
    TriggerSource,
)
from cronkit.metrics import PrometheusObserver, start_metrics_server
from cronkit.testing import FakeClock
from tests.app_fixtures.harness import finish, start
from tests.engine_helpers import T0


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def divide(numerator: int, denominator: int) -> float:
    return numerator / denominator


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_runs_durations_and_lateness_by_job_and_status(
    clock: FakeClock, registry: CollectorRegistry
) -> None:
    app = App(clock=clock, observers=[PrometheusObserver(registry)])

    @app.interval(seconds=10, max_runs=2, id="fine")
    async def fine() -> None:
        await clock.sleep(3)

    @app.interval(seconds=10, max_runs=1, id="broken")
    async def broken() -> None:
        divide(1, 0)

    @app.interval(seconds=100, max_runs=1, id="slow", timeout=timedelta(seconds=5))
    async def slow() -> None:
        await clock.sleep(60)

    await finish(app, await start(app))
    assert value(registry, "cronkit_runs_total", job="fine", status="success") == 2
    assert value(registry, "cronkit_runs_total", job="broken", status="failed") == 1
    assert value(registry, "cronkit_runs_total", job="slow", status="timed_out") == 1
    assert value(registry, "cronkit_runs_total", job="fine", status="failed") is None
    assert value(registry, "cronkit_run_duration_seconds_count", job="fine") == 2
    assert value(registry, "cronkit_run_duration_seconds_sum", job="fine") == 6
    assert value(registry, "cronkit_run_duration_seconds_bucket", job="fine", le="2.5") == 0
    assert value(registry, "cronkit_run_duration_seconds_bucket", job="fine", le="5.0") == 2
    assert value(registry, "cronkit_run_duration_seconds_sum", job="slow") == 5
    assert value(registry, "cronkit_start_lateness_seconds_count", job="fine") == 2
    assert value(registry, "cronkit_start_lateness_seconds_sum", job="fine") == 0


async def test_lateness_counts_schedule_sourced_runs_only(
    clock: FakeClock, registry: CollectorRegistry
) -> None:
    app = App(clock=clock, observers=[PrometheusObserver(registry)])

    @app.interval(seconds=10, id="tick")
    async def tick() -> None:
        pass

    task = await start(app)
    await clock.advance(15)
    app.handle("tick").trigger_now()
    await clock.settle()
    app.shutdown()
    await finish(app, task)
    assert value(registry, "cronkit_runs_total", job="tick", status="success") == 2
    assert value(registry, "cronkit_start_lateness_seconds_count", job="tick") == 1


def test_lateness_is_the_start_after_the_scheduled_instant(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry)
    for seconds_late in (0.25, 2.0):
        observer.on_event(
            RunStarted(
                job_id="late",
                at=T0 + timedelta(seconds=seconds_late),
                scheduled_at=T0,
                catch_up=False,
                source=TriggerSource.SCHEDULE,
                fencing_token=None,
            )
        )
    assert value(registry, "cronkit_start_lateness_seconds_sum", job="late") == 2.25
    assert value(registry, "cronkit_start_lateness_seconds_bucket", job="late", le="0.25") == 1
    assert value(registry, "cronkit_start_lateness_seconds_bucket", job="late", le="1.0") == 1
    assert value(registry, "cronkit_start_lateness_seconds_bucket", job="late", le="5.0") == 2


async def test_skips_count_every_occurrence_by_reason(
    clock: FakeClock, registry: CollectorRegistry
) -> None:
    app = App(clock=clock, observers=[PrometheusObserver(registry)])

    @app.interval(seconds=10, id="paused", missed="skip")
    async def paused() -> None:
        pass

    @app.interval(seconds=10, id="busy", overlap="forbid")
    async def busy() -> None:
        await clock.sleep(25)

    task = await start(app)
    app.handle("paused").pause()
    await clock.advance(31)
    app.handle("paused").resume()
    await clock.settle()
    app.shutdown()
    await finish(app, task)
    assert value(registry, "cronkit_skips_total", job="paused", reason="missed") == 3
    assert value(registry, "cronkit_skips_total", job="busy", reason="overlap") == 2
    assert value(registry, "cronkit_runs_total", job="busy", status="success") == 1


async def test_guard_events_of_an_app_with_a_guard(
    clock: FakeClock, registry: CollectorRegistry
) -> None:
    app = App(clock=clock, guard=InMemoryExecutionGuard(), observers=[PrometheusObserver(registry)])

    @app.interval(seconds=10, max_runs=2, id="guarded")
    async def guarded() -> None:
        pass

    await finish(app, await start(app))
    assert value(registry, "cronkit_guard_events_total", job="guarded", event="acquired") == 2
    assert value(registry, "cronkit_guard_events_total", job="guarded", event="released") == 2


@pytest.mark.parametrize(
    ("kind", "fields", "name"),
    [
        (ExecutionGuardContended, {"reason": SkipReason.CONTENDED}, "contended"),
        (ExecutionGuardRenewed, {}, "renewed"),
        (ExecutionGuardRenewFailed, {"error": "OSError: down"}, "renew_failed"),
        (ExecutionGuardLost, {"action": "cancel"}, "lost"),
        (ExecutionGuardReleaseFailed, {"error": "OSError: down"}, "release_failed"),
        (ExecutionGuardUnavailable, {"error": "OSError: down"}, "unavailable"),
    ],
    ids=["contended", "renewed", "renew_failed", "lost", "release_failed", "unavailable"],
)
def test_each_guard_event_has_its_label(
    registry: CollectorRegistry, kind: type[SchedulerEvent], fields: dict[str, Any], name: str
) -> None:
    observer = PrometheusObserver(registry)
    event = kind(job_id="j", at=T0, scheduled_at=T0, resource_id="j", **fields)  # type: ignore[call-arg]
    observer.on_event(event)
    observer.on_event(event)
    assert value(registry, "cronkit_guard_events_total", job="j", event=name) == 2


def test_store_degraded_gauge_follows_the_store(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry)
    assert value(registry, "cronkit_store_degraded") == 0
    observer.on_event(StoreDegraded(job_id="j", at=T0, error="ConnectionError: refused"))
    assert value(registry, "cronkit_store_degraded") == 1
    observer.on_event(StoreRecovered(job_id="j", at=T0, written_back=3))
    assert value(registry, "cronkit_store_degraded") == 0


def test_wants_only_the_events_it_counts(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry)
    for kind in (RunStarted, RunCompleted, RunSkipped, ExecutionGuardLost, StoreDegraded):
        assert observer.wants(kind)
    for kind in (TriggerEmitted, SchedulerPaused):
        assert not observer.wants(kind)
    observer.on_event(SchedulerPaused(job_id="j", at=T0))  # ignored
    assert value(registry, "cronkit_runs_total", job="j", status="success") is None


def test_custom_buckets(registry: CollectorRegistry) -> None:
    PrometheusObserver(registry, duration_buckets=(1.0, 60.0), lateness_buckets=(0.5,))
    assert value(registry, "cronkit_run_duration_seconds_bucket", job="j", le="60.0") is None
    names = {metric.name for metric in registry.collect()}
    assert "cronkit_run_duration_seconds" in names


def test_the_default_registry_is_prometheus_clients() -> None:
    observer = PrometheusObserver()
    try:
        assert observer.registry is REGISTRY
        observer.on_event(StoreDegraded(job_id="j", at=T0, error="down"))
        assert REGISTRY.get_sample_value("cronkit_store_degraded") == 1
    finally:
        for collector in (
            observer.runs,
            observer.skips,
            observer.duration,
            observer.lateness,
            observer.guard_events,
            observer.store_degraded,
        ):
            REGISTRY.unregister(collector)


def test_metrics_server_serves_the_registry(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry)
    observer.on_event(RunSkipped(job_id="j", at=T0, scheduled_at=T0, reason=SkipReason.MISSED))
    server, thread = start_metrics_server(0, registry=registry)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert 'cronkit_skips_total{job="j",reason="missed"} 1.0' in body


def test_metrics_server_defaults_to_the_default_registry() -> None:
    server, thread = start_metrics_server(0)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_without_prometheus_client_the_import_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cronkit.metrics

    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImportError, match=r"pip install 'cronkit\[prometheus\]'"):
        importlib.reload(cronkit.metrics)
    monkeypatch.undo()
    importlib.reload(cronkit.metrics)
