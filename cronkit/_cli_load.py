"""The command line's loader: `module:attribute` to an `App`, with a distinct error per case."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from typing import Any

from cronkit._app import App
from cronkit._exceptions import AppLoadError

__all__ = ["load_app"]


def load_app(spec: str) -> App:
    """Import the `App` that `spec` (`"module:attribute"`) names.

    The attribute may be dotted, and may be a function without arguments returning the App.
    The current directory is put on `sys.path` first.

    Raises:
        AppLoadError: with a one-line message, distinct for each case (bad spec, module not
            found, error while importing, missing attribute, not an App). For an error raised
            inside the module or the factory its traceback is printed first.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise AppLoadError(
            f"{spec!r} is not 'module:attribute'; write e.g. 'myapp:app' for the variable app "
            "in myapp.py"
        )
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and f"{module_name}.".startswith(f"{error.name}."):
            raise AppLoadError(
                f"module {module_name!r} not found; run cronkit from the directory that holds "
                f"it (now {cwd!r}) or check the name"
            ) from None
        raise _failed(f"importing module {module_name!r} failed", error) from None
    except Exception as error:
        raise _failed(f"importing module {module_name!r} failed", error) from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            apps = [name for name, value in vars(module).items() if isinstance(value, App)]
            hint = f" (it has the App {', '.join(map(repr, apps))})" if apps else ""
            raise AppLoadError(
                f"module {module_name!r} has no attribute {attribute!r}{hint}; "
                "write 'module:attribute' with the name of your App"
            ) from None
    if isinstance(target, App):
        return target
    if callable(target) and not isinstance(target, type):
        try:
            target = target()
        except Exception as error:
            raise _failed(f"calling the factory {spec!r} failed", error) from None
        if isinstance(target, App):
            return target
        if inspect.iscoroutine(target):
            target.close()
        what = f"the factory {spec!r} returned"
    else:
        what = f"{spec!r} is"
    raise AppLoadError(
        f"{what} {type(target).__name__} {_short(target)}, not a cronkit App; point at an App "
        "(app = App()) or at a plain function without arguments that returns one"
    )


def _failed(what: str, error: BaseException) -> AppLoadError:
    traceback.print_exception(error)
    first_line = (str(error).splitlines() or [""])[0]
    return AppLoadError(f"{what}: {type(error).__name__}: {first_line} (traceback above)")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
