"""An App whose one job reads the metrics the CLI serves for it (`--metrics-port`)."""

from __future__ import annotations

import os
import urllib.request

from cronkit import App

app = App()
scraped: list[str] = []


@app.at("2025-01-01T00:00:00Z", id="scrape", missed="catch_up_once")
def scrape() -> None:
    port = int(os.environ["CRONKIT_TEST_METRICS_PORT"])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        scraped.append(answer.read().decode())
