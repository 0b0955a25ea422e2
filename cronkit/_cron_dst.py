"""Occurrences of an expanded cron pattern in one time zone, with the DST rules of SPEC §2.1.

Everything here is integer arithmetic on POSIX seconds (`u`, UTC) and on *wall seconds*
(`w`, seconds since 1970-01-01T00:00 local wall time); `u = w - offset`.

The UTC time line is cut into *blocks*, each holding its occurrences as a sorted tuple:

- a **regular day** is a local date whose wall clock runs without a jump from the previous
  evening to the next midnight. Its block is the UTC span of that date and its occurrences are
  `midnight_utc + seconds_of_day` for the pattern's times: no zone lookup per occurrence, and
  the same tuple is shared by every regular day.
- a **stretch** is a maximal run of the other (irregular) dates around a transition. Each
  matching wall time of the stretch is placed by `tzinfo.utcoffset` with `fold` 0 and 1:
  once when it exists once; at its first pass only (pinned) or at both passes (cadence) when
  the clock falls back; at the end of the gap (pinned; several matches in one gap collapse into
  one) or nowhere (cadence) when the clock springs forward.

Blocks never overlap and follow each other in UTC order, so the next occurrence is a bisection
in the block holding the instant, and counting a range adds up whole blocks. Works with any
PEP 495 tzinfo (`zoneinfo`, pendulum, dateutil, fixed offsets). Regular days are recognised by
probing the offset every six hours, so two transitions less than six hours apart that cancel
each other would go unnoticed: in the tz database the closest two transitions since 1900
are four days apart. Dates run from year 2 to year 9998.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import NamedTuple, final

__all__ = ["CronPattern", "ZonePlan"]

DAY = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MIN_DAY = date(2, 1, 1).toordinal()
MAX_DAY = date(9998, 12, 31).toordinal()
MAX_YEAR = 9998
_SECOND = timedelta(seconds=1)
_ZERO = timedelta(0)
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CACHED_BLOCKS = 8192
_EVENING = timedelta(hours=18)
_QUARTERS = (timedelta(hours=6), timedelta(hours=12), timedelta(hours=18))
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """Number of days of `month` (1-12) in `year` (proleptic Gregorian)."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


@dataclass(frozen=True, slots=True)
class CronPattern:
    """The expanded fields of a cron expression, as the evaluator needs them.

    Attributes:
        times: the matching wall times of a day, as sorted seconds after midnight.
        months: allowed months, 1-12.
        days: allowed days of the month, 1-31.
        weekdays: allowed days of the week, 0-6 with 0 = Sunday.
        days_restricted: the day-of-month field restricts (croniter: it is not `*`).
        weekdays_restricted: the day-of-week field restricts. When both restrict, a date
            matches if either does (Vixie cron).
        pinned: SPEC §2.1 classification; `False` is cadence.
    """

    times: tuple[int, ...]
    months: frozenset[int]
    days: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool
    pinned: bool

    def day_matches(self, day: int, weekday: int) -> bool:
        """Whether day-of-month `day` with cron weekday `weekday` passes the day fields."""
        if self.days_restricted and self.weekdays_restricted:
            return day in self.days or weekday in self.weekdays
        if self.days_restricted:
            return day in self.days
        return not self.weekdays_restricted or weekday in self.weekdays

    def date_matches(self, ordinal: int) -> bool:
        """Whether the local date with proleptic Gregorian `ordinal` matches."""
        when = date.fromordinal(ordinal)
        # date.fromordinal(1) is a Monday, so `ordinal % 7` is the cron weekday (0 = Sunday).
        return when.month in self.months and self.day_matches(when.day, ordinal % 7)

    def next_date(self, ordinal: int) -> int | None:
        """The first matching date at or after `ordinal`, or None past year 9998."""
        when = date.fromordinal(min(max(ordinal, MIN_DAY), MAX_DAY + 1))
        year, month, day = when.year, when.month, when.day
        while year <= MAX_YEAR:
            if month in self.months:
                first = date(year, month, 1).toordinal()
                for candidate in range(day, days_in_month(year, month) + 1):
                    if self.day_matches(candidate, (first + candidate - 1) % 7):
                        return first + candidate - 1
            year, month, day = (year + 1, 1, 1) if month == 12 else (year, month + 1, 1)
        return None


class _Block(NamedTuple):
    """A span `[start, end)` of UTC seconds and its occurrences `base + s for s in secs`."""

    start: int
    end: int
    base: int
    secs: tuple[int, ...]
    first_day: int
    last_day: int


@final
class ZonePlan:
    """The occurrences of one `CronPattern` in one zone, with per-day caches.

    Instances are cheap to query many times; build one per (pattern, zone) and keep it.
    """

    __slots__ = ("_blocks", "_fixed", "_last", "_regular", "pattern", "zone")

    def __init__(self, pattern: CronPattern, zone: tzinfo) -> None:
        self.pattern = pattern
        self.zone = zone
        fixed = zone.utcoffset(None) if isinstance(zone, timezone) else None
        self._fixed = None if fixed is None else fixed // _SECOND
        self._regular: dict[int, int | None] = {}
        self._blocks: dict[int, _Block] = {}
        self._last: _Block | None = None

    # -- queries ---------------------------------------------------------------------------

    def next_after(self, after: int) -> int | None:
        """The first occurrence strictly after UTC second `after`, or None past year 9998."""
        block = self._block_at(after)
        while block is not None:
            secs = block.secs
            if secs:
                index = bisect_right(secs, after - block.base)
                if index < len(secs):
                    return block.base + secs[index]
            block = self._block_after(block)
        return None

    def count(self, first: int, now: int, limit: int | None) -> tuple[int, int]:
        """Count `first` plus the occurrences in `(first, now]`, at most `limit` in all.

        Returns:
            The count and the newest counted instant (`first` when nothing else is due).
        """
        count, last = 1, first
        if limit == 1:
            return count, last
        block = self._block_at(first)
        while block is not None and block.start <= now:
            secs, base = block.secs, block.base
            low = bisect_right(secs, first - base)
            high = bisect_right(secs, now - base)
            if high > low:
                if limit is not None and count + high - low >= limit:
                    return limit, base + secs[low + limit - count - 1]
                count += high - low
                last = base + secs[high - 1]
            if block.end > now:
                break
            block = self._block_after(block)
        return count, last

    # -- blocks ----------------------------------------------------------------------------

    def _block_at(self, instant: int) -> _Block | None:
        """The block holding UTC second `instant` (or the first one after it)."""
        last = self._last
        if last is not None and last.start <= instant < last.end:
            return last
        day = self._local_day(instant)
        if day > MAX_DAY:
            return None
        block = self._block_for_day(max(day, MIN_DAY))
        self._last = block
        return block

    def _block_after(self, block: _Block) -> _Block | None:
        day = self.pattern.next_date(block.last_day + 1)
        return None if day is None else self._block_for_day(day)

    def _block_for_day(self, day: int) -> _Block:
        block = self._blocks.get(day)
        if block is not None:
            return block
        if len(self._blocks) >= _MAX_CACHED_BLOCKS:
            self._blocks.clear()
            self._regular.clear()
        offset = self._regular_offset(day)
        if offset is None:
            block = self._stretch(day)
            for member in range(block.first_day, block.last_day + 1):
                self._blocks[member] = block
            return block
        start = (day - EPOCH_ORDINAL) * DAY - offset
        secs = self.pattern.times if self.pattern.date_matches(day) else ()
        block = _Block(start, start + DAY, start, secs, day, day)
        self._blocks[day] = block
        return block

    def _stretch(self, day: int) -> _Block:
        """The block of the maximal run of irregular dates around `day`."""
        first = last = day
        while first > MIN_DAY and self._regular_offset(first - 1) is None:
            first -= 1
        while last < MAX_DAY and self._regular_offset(last + 1) is None:
            last += 1
        # The neighbours are regular, so their midnights exist once.
        start = (first - EPOCH_ORDINAL) * DAY - self._offset(first, 0, 0)
        end = (last + 1 - EPOCH_ORDINAL) * DAY - self._offset(last + 1, 0, 0)
        found: set[int] = set()
        for member in range(first, last + 1):
            if self.pattern.date_matches(member):
                found.update(self._place_day(member))
        secs = tuple(sorted(u for u in found if start <= u < end))
        return _Block(start, end, 0, secs, first, last)

    def _place_day(self, day: int) -> list[int]:
        """The instants of the matching wall times of local date `day`, by the §2.1 rules."""
        pinned = self.pattern.pinned
        midnight = datetime.fromordinal(day)
        wall_midnight = (day - EPOCH_ORDINAL) * DAY
        placed: list[int] = []
        gap: tuple[int, int, int] | None = None  # (transition, wall start, wall end)
        for seconds in self.pattern.times:
            wall = midnight + timedelta(seconds=seconds)
            before = self._utcoffset(wall)
            after = self._utcoffset(wall.replace(fold=1))
            w = wall_midnight + seconds
            if before == after:
                placed.append(w - before)
            elif before > after:  # repeated: first pass, then second pass
                placed.append(w - before)
                if not pinned:
                    placed.append(w - after)
            elif pinned:  # missing: the end of the gap
                if gap is None or not gap[1] <= w < gap[2]:
                    transition = self._transition(w - after, w - before, after)
                    gap = (transition, transition + before, transition + after)
                placed.append(gap[0])
        return placed

    # -- the zone --------------------------------------------------------------------------

    def _utcoffset(self, wall: datetime) -> int:
        return (self.zone.utcoffset(wall) or _ZERO) // _SECOND

    def _offset(self, day: int, hour: int, fold: int) -> int:
        wall = datetime.fromordinal(day) + timedelta(hours=hour)
        return self._utcoffset(wall.replace(fold=fold))

    def _offset_at(self, instant: int) -> int:
        local = (_UTC_EPOCH + timedelta(seconds=instant)).astimezone(self.zone)
        return (local.utcoffset() or _ZERO) // _SECOND

    def _regular_offset(self, day: int) -> int | None:
        """The UTC offset of local date `day` if its wall clock runs without a jump, else None.

        Probes the previous evening, the day every six hours and both midnights at both folds:
        any transition from the previous evening to the next midnight changes an offset.
        """
        if self._fixed is not None:
            return self._fixed
        if day in self._regular:
            return self._regular[day]
        evening = datetime.fromordinal(day - 1) + _EVENING
        midnight = datetime.fromordinal(day)
        next_midnight = datetime.fromordinal(day + 1)
        utcoffset = self.zone.utcoffset
        reference = utcoffset(evening)
        regular = (
            utcoffset(midnight) == reference
            and utcoffset(midnight.replace(fold=1)) == reference
            and all(utcoffset(midnight + quarter) == reference for quarter in _QUARTERS)
            and utcoffset(next_midnight) == reference
            and utcoffset(next_midnight.replace(fold=1)) == reference
        )
        offset = (reference or _ZERO) // _SECOND if regular else None
        self._regular[day] = offset
        return offset

    def _local_day(self, instant: int) -> int:
        if self._fixed is not None:
            return (instant + self._fixed) // DAY + EPOCH_ORDINAL
        try:
            local = (_UTC_EPOCH + timedelta(seconds=instant)).astimezone(self.zone)
        except OverflowError:
            return MIN_DAY - 1 if instant < 0 else MAX_DAY + 1
        return local.toordinal()

    def _transition(self, low: int, high: int, new_offset: int) -> int:
        """The first UTC second in `(low, high]` whose offset is `new_offset`."""
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset_at(middle) == new_offset:
                high = middle
            else:
                low = middle
        return high
