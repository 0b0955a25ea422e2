"""`SchedulerConfig` and `SchedulerReport`: what the engine is told and what it tells back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo

from cronkit._cron import resolve_zone
from cronkit._enums import SkipReason, StopReason, TerminalStatePolicy, coerce_enum
from cronkit._exceptions import ConfigurationError
from cronkit._state import JobState, RunRecord, is_count

__all__ = ["SchedulerConfig", "SchedulerReport"]


@dataclass(frozen=True, slots=True, init=False)
class SchedulerConfig:
    """Settings shared by every job a `Scheduler` runs.

    Args:
        timezone: zone for cron schedules and windows that name none (IANA name or tzinfo).
        history_limit: how many `RunRecord`s a report keeps (0 keeps none).
        terminal_state_policy: `RETAIN` or `DELETE` the stored state of a finished job.
        missed_after: an occurrence seen later than this after its instant counts as missed.
    """

    timezone: tzinfo
    history_limit: int
    terminal_state_policy: TerminalStatePolicy
    missed_after: timedelta

    def __init__(
        self,
        timezone: str | tzinfo = "UTC",
        history_limit: int = 32,
        terminal_state_policy: TerminalStatePolicy | str = TerminalStatePolicy.RETAIN,
        missed_after: timedelta = timedelta(seconds=1),
    ) -> None:
        if not is_count(history_limit):
            raise ConfigurationError(
                f"history_limit={history_limit!r} must be a whole number >= 0 (0 keeps no history)"
            )
        if not isinstance(missed_after, timedelta) or missed_after < timedelta(0):
            raise ConfigurationError(
                f"missed_after={missed_after!r} must be a timedelta >= 0, e.g. timedelta(seconds=1)"
            )
        object.__setattr__(self, "timezone", resolve_zone(timezone))
        object.__setattr__(self, "history_limit", history_limit)
        object.__setattr__(
            self,
            "terminal_state_policy",
            coerce_enum(
                TerminalStatePolicy, terminal_state_policy, parameter="terminal_state_policy"
            ),
        )
        object.__setattr__(self, "missed_after", missed_after)


@dataclass(frozen=True, slots=True)
class SchedulerReport:
    """What one job did: its latest state, its bounded history and how it ended.

    Attributes:
        job_id: the job.
        state: the latest job state (as stored, unless `DELETE` removed it at the end).
        history: executed runs in completion order, the newest `history_limit` of them.
        last_skip_reason: the reason of the latest occurrence consumed without running.
        stop_reason: why `run()` returned; None while it is still running.
        runs: how many runs executed (history may hold fewer).
        skipped: how many occurrences and triggers were skipped, for any reason.
    """

    job_id: str
    state: JobState
    history: tuple[RunRecord, ...]
    last_skip_reason: SkipReason | None
    stop_reason: StopReason | None
    runs: int
    skipped: int
