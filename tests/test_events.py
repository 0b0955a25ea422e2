"""Observers: LogObserver levels and `wants`, ObserverGroup fan-out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from cronkit._enums import RunStatus, TriggerSource
from cronkit._events import (
    LogObserver,
    ObserverGroup,
    RunCompleted,
    RunStarted,
    SchedulerEvent,
    StoreDegraded,
)

AT = datetime(2025, 1, 1, tzinfo=UTC)


def completed(status: RunStatus) -> RunCompleted:
    return RunCompleted(
        job_id="job",
        at=AT,
        scheduled_at=AT,
        status=status,
        error=None if status is RunStatus.SUCCESS else "RuntimeError: boom",
        duration=timedelta(seconds=1),
        source=TriggerSource.SCHEDULE,
    )


@pytest.mark.parametrize(
    ("event", "level"),
    [
        (completed(RunStatus.SUCCESS), logging.INFO),
        (completed(RunStatus.FAILED), logging.WARNING),
        (StoreDegraded(job_id="job", at=AT, error="ConnectionError: down"), logging.WARNING),
        (
            RunStarted(
                job_id="job",
                at=AT,
                scheduled_at=AT,
                catch_up=False,
                source=TriggerSource.SCHEDULE,
                fencing_token=None,
            ),
            logging.DEBUG,
        ),
    ],
    ids=["success", "failure", "degraded", "started"],
)
def test_log_levels(event: SchedulerEvent, level: int) -> None:
    assert LogObserver.level_of(event) == level


def test_log_observer_wants_only_what_its_logger_would_log() -> None:
    logger = logging.getLogger("cronkit.test.wants")
    logger.setLevel(logging.WARNING)
    observer = LogObserver(logger)
    assert not observer.wants(RunStarted)
    assert observer.wants(RunCompleted)  # a failure is a warning
    assert observer.wants(StoreDegraded)
    logger.setLevel(logging.ERROR)
    assert not observer.wants(RunCompleted)
    logger.setLevel(logging.DEBUG)
    assert observer.wants(RunStarted)


def test_log_observer_logs_with_structured_extra(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cronkit"):
        LogObserver().on_event(completed(RunStatus.FAILED))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.cronkit_event == "RunCompleted"  # type: ignore[attr-defined]
    assert record.cronkit["error"] == "RuntimeError: boom"  # type: ignore[attr-defined]
    assert "job=job" in record.getMessage()


def test_a_group_wants_what_any_observer_wants() -> None:
    quiet = logging.getLogger("cronkit.test.quiet")
    quiet.setLevel(logging.CRITICAL)

    class Everything:
        def on_event(self, event: SchedulerEvent) -> None:
            pass

    assert not ObserverGroup([LogObserver(quiet)]).wants(RunStarted)
    assert ObserverGroup([LogObserver(quiet), Everything()]).wants(RunStarted)
    assert not ObserverGroup().wants(RunStarted)
