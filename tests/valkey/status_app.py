"""An App for `cronkit status` and `cronkit jobs` against Valkey: hourly jobs, none run here.

The tests store (or leave out, or corrupt) each job's state in Valkey and read it back with
`--valkey-url`; nothing is ever started.
"""

from __future__ import annotations

from cronkit import App

app = App()


async def never() -> None:
    """Not run by the tests: they only read and list."""


for job_id in ("succeeded", "failed", "missing", "corrupt"):
    app.interval(hours=1, id=job_id)(never)
