"""A typical user module, checked by `mypy --strict` in `tests/test_typing.py`.

It is never imported by the tests; mypy reads it. The `reveal_type` calls must show each
decorated function's own signature.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Annotated

from cronkit import App, Depends, JobTimeWindow, RunContext


class Db:
    def query(self, sql: str) -> list[str]:
        return [sql]


class Cache:
    def get(self, key: str) -> str | None:
        return None


async def get_db() -> AsyncIterator[Db]:
    yield Db()


def get_cache() -> Iterator[Cache]:
    yield Cache()


app = App(timezone="Europe/Berlin")


@app.cron("30 2 * * *", missed="skip", window=JobTimeWindow("mon-fri"))
async def nightly(ctx: RunContext, db: Annotated[Db, Depends(get_db)]) -> None:
    db.query(f"-- run {ctx.trigger_count}")


@app.interval(minutes=5, overlap="queue_one", max_runs=10)
def refresh(cache: Cache = Depends(get_cache), retries: int = 3) -> str | None:
    return cache.get("key")


@app.at("2026-12-24T18:00:00+01:00", timeout=timedelta(minutes=1))
async def once(me: App) -> int:
    return len(me.jobs)


reveal_type(nightly)  # noqa: F821
reveal_type(refresh)  # noqa: F821
reveal_type(once)  # noqa: F821
