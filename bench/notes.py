"""Analyses of missed targets, shown in `RESULTS.md` next to the profile taken in the run."""

from __future__ import annotations

NOTES: dict[str, str] = {}
