"""`python -m cronkit`: the command line (see `cronkit.cli`)."""

from __future__ import annotations

from cronkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
