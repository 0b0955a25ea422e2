"""A module that imports a package that does not exist: an import error *inside* the module."""

from __future__ import annotations

import cronkit_no_such_package  # type: ignore[import-not-found]  # noqa: F401
