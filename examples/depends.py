"""Depends: a generator resource, a cached dependency, an app-scoped client, RunContext.

Run it with `python -m cronkit examples.depends:app` or `python examples/depends.py`; it ends
by itself after about 2 seconds.

- `get_settings` is a plain dependency. Cached (the default): one call per run, shared by
  every consumer in that run.
- `get_connection` is a generator: the code after `yield` runs after each run, and the run's
  exception is thrown in at the `yield`, so it can roll back on failure.
- `api_client` is app-scoped: created once when the App starts, shared by every run of every
  job, closed when the App shuts down.
- `RunContext` and `App` are injected by annotation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from cronkit import App, Depends, RunContext


@dataclass
class Settings:
    dsn: str
    region: str


def get_settings() -> Settings:
    print("  settings loaded")
    return Settings(dsn="postgres://db/orders", region="eu")


@dataclass
class Connection:
    dsn: str
    changes: list[str] = field(default_factory=list)


def get_connection(settings: Annotated[Settings, Depends(get_settings)]) -> Iterator[Connection]:
    connection = Connection(settings.dsn)
    print(f"  connection opened to {connection.dsn}")
    try:
        yield connection
    except Exception as error:  # the run failed: its exception arrives here
        print(f"  rolled back {len(connection.changes)} change(s) after {error!r}")
        raise
    else:
        print(f"  committed {len(connection.changes)} change(s)")
    finally:
        print("  connection closed")


@dataclass
class ApiClient:
    region: str
    calls: int = 0

    async def fetch_orders(self) -> list[str]:
        self.calls += 1
        return [f"order-{self.calls}a", f"order-{self.calls}b"]


async def api_client(app: App) -> AsyncIterator[ApiClient]:
    client = ApiClient(region=str(app.config.timezone))
    print(f"api client created (zone {client.region})")
    yield client
    print(f"api client closed after {client.calls} call(s)")


app = App()  # the default LogObserver logs each event on the "cronkit" logger


@app.interval(seconds=1, max_runs=2, id="sync-orders")
async def sync_orders(
    ctx: RunContext,
    connection: Annotated[Connection, Depends(get_connection)],
    client: Annotated[ApiClient, Depends(api_client, scope="app")],
    settings: Settings = Depends(get_settings),  # the same object get_connection received
) -> None:
    print(f"sync-orders run #{ctx.trigger_count} in region {settings.region}")
    for order in await client.fetch_orders():
        connection.changes.append(order)


@app.interval(seconds=1.5, max_runs=1, id="purge")
def purge(connection: Connection = Depends(get_connection)) -> None:
    """A plain function (worker thread); its connection was opened on the event loop."""
    print("purge run: deleting stale orders")
    connection.changes.append("delete stale")
    raise RuntimeError("disk full")  # recorded as a failed run; the App goes on


if __name__ == "__main__":
    app.run()
