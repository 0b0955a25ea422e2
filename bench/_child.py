"""Entry point of one measurement in its own process: `python -m bench._child '<json>'`.

The JSON names a function (`"module:function"`) and its keyword arguments. The function (sync
or async; an async one runs on a fresh default event loop) returns a JSON-able dict, which is
printed on the last line of stdout after `MARKER`. The parent (`bench._harness`) reads it.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
from typing import Any

MARKER = "BENCH-RESULT "


def call(target: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Import `module:function` and call it with `kwargs`."""
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    if inspect.iscoroutinefunction(function):
        result = asyncio.run(function(**kwargs))
    else:
        result = function(**kwargs)
    if not isinstance(result, dict):
        raise TypeError(f"{target} returned {result!r}, not a dict")
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = call(spec["target"], spec.get("kwargs", {}))
    sys.stdout.flush()
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
