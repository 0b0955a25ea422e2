"""Dependency injection, registration half: `Depends` markers and the graph built at decoration.

A job function declares what it needs with FastAPI's forms (taskiq-dependencies is the model
for a non-HTTP use):

```python
async def job(
    ctx: RunContext,                              # injected by annotation
    db: Annotated[Db, Depends(get_db)],           # Annotated form
    cache: Cache = Depends(get_cache),            # default-value form
    client: Client = Depends(),                   # the annotation (a class) is the dependency
    pool: Pool = Depends(make_pool, scope="app"), # created once per App, closed at shutdown
    retries: int = 3,                             # plain default: left alone
) -> None: ...
```

`analyze` reads a function once, at registration, and builds its whole graph (the function's
parameters and, recursively, each dependency's). An unresolvable parameter, a cycle or an
app-scoped dependency needing a run-scoped value raises `DependencyError` there, never at the
first run. `cronkit._depends_solve.AppScope` runs the resulting `Dependant`.

Per parameter, in order: `*args`/`**kwargs` are ignored; a `Depends` marker (in `Annotated` or
as the default) makes a dependency, `Depends()` taking the annotated class; an annotation that
is (or subclasses, or is `T | None` of) an injectable type given by the caller is filled with
the run's value; a plain default is left alone; anything else, and a positional-only parameter
without a default (values are passed by keyword), is an error naming function and parameter.
Annotations are resolved with `typing.get_type_hints`: with `from __future__ import
annotations`, names must be importable from the function's module (not under `TYPE_CHECKING`).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Union, final, get_args, get_origin

from cronkit._exceptions import ConfigurationError, DependencyCycleError, DependencyError

__all__ = ["Dependant", "Depends", "DependsMarker", "Scope", "analyze"]


Scope = Literal["run", "app"]
"""`"run"`: one value per run (cleaned up after it); `"app"`: one value per App."""

_SCOPES: Final = ("run", "app")
_EMPTY: Final = inspect.Parameter.empty


@final
@dataclass(frozen=True, slots=True, repr=False)
class DependsMarker:
    """What `Depends(...)` returns: a declaration that a parameter is provided by a callable.

    Attributes:
        dependency: The provider, or `None` to use the parameter's annotation.
        use_cache: Share one value between every consumer in a run (or in the App).
        scope: `"run"` or `"app"`.
    """

    dependency: Callable[..., Any] | None
    use_cache: bool = True
    scope: Scope = "run"

    def __repr__(self) -> str:
        parts = [] if self.dependency is None else [describe(self.dependency)]
        if not self.use_cache:
            parts.append("use_cache=False")
        if self.scope != "run":
            parts.append(f"scope={self.scope!r}")
        return f"Depends({', '.join(parts)})"


def Depends(  # FastAPI's spelling: the name users know
    dependency: Callable[..., Any] | None = None,
    *,
    use_cache: bool = True,
    scope: Scope = "run",
) -> Any:
    """Declare that a parameter is provided by `dependency`.

    Args:
        dependency: A function (sync or async, plain or generator), a class or a callable
            instance, whose own parameters are injected too. `None`: the annotated class.
        use_cache: `True`: every consumer in a run shares one call; `False`: one call per use.
        scope: `"run"`: made for a run, cleaned up after it. `"app"`: made once (at App start
            or first use), shared by all runs and jobs, cleaned up at shutdown; it may depend
            only on app-scoped values and app-level types (the App).

    Returns:
        A `DependsMarker`; typed `Any` so that `x: T = Depends(f)` type-checks.

    Raises:
        ConfigurationError: `dependency` is not callable, `scope` is unknown, or an app-scoped
            dependency asks for `use_cache=False`.
    """
    if dependency is not None and not callable(dependency):
        raise ConfigurationError(
            f"Depends({dependency!r}): the dependency must be callable (a function, a class or "
            "an object with __call__); use Depends() to take the parameter's annotation"
        )
    if scope not in _SCOPES:
        raise ConfigurationError(
            f"Depends(..., scope={scope!r}): unknown scope; use scope='run' (one value per run) "
            "or scope='app' (one value per App)"
        )
    if scope == "app" and not use_cache:
        raise ConfigurationError(
            "Depends(..., use_cache=False, scope='app'): an app-scoped value is created once and "
            "shared; drop use_cache=False or use scope='run'"
        )
    return DependsMarker(dependency, use_cache, scope)


def describe(call: object) -> str:
    """A short readable name for a callable, for messages."""
    if isinstance(call, functools.partial):
        return f"functools.partial({describe(call.func)})"
    name = getattr(call, "__qualname__", None)
    if isinstance(name, str):
        return name
    return f"{type(call).__qualname__} instance"


# Kinds of callables; they double as the run plan's step codes (see `_depends_solve`).
SYNC, ASYNC, GEN, AGEN = range(4)


class Inject(typing.NamedTuple):
    """A parameter filled with the value given for an injectable type."""

    name: str
    key: type
    scope: Scope


class Sub(typing.NamedTuple):
    """A parameter provided by a dependency."""

    name: str
    call: Callable[..., Any]
    use_cache: bool
    scope: Scope
    dependant: Dependant


@final
class Dependant:
    """A callable analysed for injection, built by `analyze`; the App keeps one per job.

    Attributes:
        call: The analysed callable.
        name: Its qualified name, as used in messages.
    """

    __slots__ = ("call", "injectables", "kind", "name", "params", "plan")

    def __init__(
        self,
        call: Callable[..., Any],
        kind: int,
        params: tuple[Inject | Sub, ...],
        injectables: Mapping[type, Scope],
    ) -> None:
        self.call = call
        self.name = describe(call)
        self.kind = kind
        self.params = params
        self.injectables = injectables
        self.plan: Any = None  # the flat run plan, built once by `AppScope`

    def __repr__(self) -> str:
        return f"<Dependant {self.name} ({', '.join(p.name for p in self.params)})>"


def analyze(
    func: Callable[..., Any],
    *,
    injectables: Mapping[type[Any], str] | Iterable[type[Any]] = (),
) -> Dependant:
    """Analyse `func` and every dependency below it, now.

    Args:
        func: The job function (or any callable) whose parameters are to be injected.
        injectables: Types injected by annotation, with the scope their value lives in, e.g.
            `{RunContext: "run", App: "app"}`. A bare collection of types means `"run"` for all.

    Returns:
        The `Dependant` to pass to `AppScope.run` for each run (and to `AppScope.start`).

    Raises:
        DependencyError: An unresolvable parameter; an app-scoped dependency needing a
            run-scoped value. `DependencyCycleError`: a dependency needing itself.
        ConfigurationError: `injectables` holds a non-type or an unknown scope.
    """
    return _Analyzer(_normalize(injectables)).dependant(func)


def check_app_scope(sub: Dependant, user: str, param: str) -> None:
    """Raise `DependencyError` if the app-scoped `sub` needs a value that lives for one run."""
    for p in sub.params:
        if p.scope == "run":
            what = (
                f"the run-scoped type {p.key.__qualname__}"
                if isinstance(p, Inject)
                else f"the run-scoped dependency {p.dependant.name!r}"
            )
            raise DependencyError(
                f"app-scoped dependency {sub.name!r} (parameter {param!r} of {user!r}) needs "
                f"{what} through its parameter {p.name!r}, but an app-scoped value outlives "
                "every run; make that dependency app-scoped too (Depends(..., scope='app')) "
                f"or make {sub.name!r} run-scoped"
            )


def _normalize(injectables: Mapping[type[Any], str] | Iterable[type[Any]]) -> dict[type, Scope]:
    pairs = (
        dict(injectables) if isinstance(injectables, Mapping) else dict.fromkeys(injectables, "run")
    )
    for key, scope in pairs.items():
        if not isinstance(key, type) or scope not in _SCOPES:
            raise ConfigurationError(
                f"injectable {key!r} with scope {scope!r}: injectables map a type to 'run' or "
                "'app', e.g. {RunContext: 'run', App: 'app'}"
            )
    return typing.cast("dict[type, Scope]", pairs)


class _Unresolved(typing.NamedTuple):
    """An annotation that `get_type_hints` could not evaluate."""

    text: object
    error: Exception


def _show(annotation: object) -> str:
    """An annotation, quoted, for messages."""
    if annotation is _EMPTY:
        return "<no annotation>"
    if isinstance(annotation, _Unresolved):
        return repr(annotation.text)
    return repr(annotation.__qualname__ if isinstance(annotation, type) else str(annotation))


def _hints_target(call: Callable[..., Any]) -> object:
    while isinstance(call, functools.partial):
        call = call.func
    if isinstance(call, type):
        return call.__init__  # type: ignore[misc]
    if inspect.isroutine(call):
        return call
    return type(call).__call__


def _hints(call: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations of `call`'s parameters; unresolvable ones as `_Unresolved`."""
    target = _hints_target(call)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # one bad annotation: resolve the others one by one
        pass
    globalns = getattr(inspect.unwrap(target), "__globals__", {})  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    for name, text in getattr(target, "__annotations__", {}).items():
        shim = types.SimpleNamespace(__annotations__={name: text})
        try:
            out[name] = typing.get_type_hints(shim, globalns, include_extras=True)[name]
        except Exception as exc:  # reported only if the parameter needs it
            out[name] = _Unresolved(text, exc)
    return out


def _kind(call: Callable[..., Any]) -> int:
    target = _hints_target(call)  # a class's `__init__` is never async or a generator
    if inspect.isasyncgenfunction(target):
        return AGEN
    if inspect.isgeneratorfunction(target):
        return GEN
    return ASYNC if inspect.iscoroutinefunction(target) else SYNC


class _Analyzer:
    """Builds `Dependant`s for one `analyze` call; shares them within the graph."""

    def __init__(self, injectables: dict[type, Scope]) -> None:
        self.injectables = injectables
        self.memo: dict[int, Dependant] = {}
        self.stack: list[Callable[..., Any]] = []

    def dependant(self, call: Callable[..., Any]) -> Dependant:
        for i, seen in enumerate(self.stack):
            if seen is call:
                raise cycle_error([*self.stack[i:], call])
        known = self.memo.get(id(call))
        if known is not None:
            return known
        try:
            signature = inspect.signature(call)
        except (TypeError, ValueError) as exc:
            raise DependencyError(
                f"cannot read the parameters of {describe(call)!r} ({exc}); wrap it in a "
                "function with a plain signature and depend on that"
            ) from None
        hints = _hints(call)
        self.stack.append(call)
        try:
            params = [self._param(p, hints) for p in signature.parameters.values()]
        finally:
            self.stack.pop()
        dependant = Dependant(
            call, _kind(call), tuple(p for p in params if p is not None), self.injectables
        )
        self.memo[id(call)] = dependant
        return dependant

    def _error(self, param: str, problem: str, fix: str) -> DependencyError:
        """An error about `param` of the callable being analysed (the top of the stack)."""
        where = " -> ".join(describe(c) for c in self.stack)
        where = f" (in {where})" if len(self.stack) > 1 else ""
        return DependencyError(
            f"cannot inject parameter {param!r} of {describe(self.stack[-1])!r}{where}: "
            f"{problem}; {fix}"
        )

    def _param(self, p: inspect.Parameter, hints: dict[str, Any]) -> Inject | Sub | None:
        annotation = base = hints.get(p.name, _EMPTY)
        markers: list[DependsMarker] = []
        if get_origin(annotation) is Annotated:
            base = annotation.__origin__
            markers = [m for m in annotation.__metadata__ if isinstance(m, DependsMarker)]
        if isinstance(p.default, DependsMarker):
            markers.append(p.default)
        if len(markers) > 1:
            raise self._error(p.name, f"it has several Depends {markers!r}", "keep one")
        marker = markers[0] if markers else None
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            if marker is None:
                return None
            raise self._error(p.name, "*args/**kwargs cannot be injected", "use a named parameter")
        if p.kind is p.POSITIONAL_ONLY and (marker is not None or p.default is _EMPTY):
            raise self._error(
                p.name,
                "it is positional-only, but cronkit passes values by keyword",
                "remove the '/' from the signature",
            )
        if marker is not None:
            return self._sub(p.name, marker, base)
        key = self._injectable(base)
        if key is not None:
            return Inject(p.name, key, self.injectables[key])
        if p.default is not _EMPTY:
            return None
        if isinstance(base, _Unresolved):
            problem = f"its annotation {_show(base)} cannot be resolved ({base.error})"
        else:
            names = ", ".join(t.__qualname__ for t in self.injectables) or "none"
            problem = (
                "it has no annotation, no default and no Depends"
                if base is _EMPTY
                else f"it has no default, no Depends and its annotation {_show(base)} is not "
                f"an injectable type ({names})"
            )
        raise self._error(
            p.name,
            problem,
            f"declare it as `{p.name}: Annotated[T, Depends(provider)]` (or "
            f"`{p.name}: T = Depends(provider)`), or give it a default value",
        )

    def _sub(self, name: str, marker: DependsMarker, base: Any) -> Sub:
        call = marker.dependency
        if call is None:
            if base is _EMPTY or not isinstance(base, type):
                raise self._error(
                    name,
                    f"Depends() without a dependency uses the annotation, but {_show(base)} is "
                    "not a class (or cannot be resolved)",
                    "annotate the parameter with a class or pass the provider: Depends(provider)",
                )
            call = base
        sub = self.dependant(call)
        if marker.scope == "app":
            check_app_scope(sub, describe(self.stack[-1]), name)
        return Sub(name, call, marker.use_cache, marker.scope, sub)

    def _injectable(self, annotation: Any) -> type | None:
        if get_origin(annotation) in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else None
        if isinstance(annotation, type):
            for key in self.injectables:
                if issubclass(annotation, key):
                    return key
        return None


def cycle_error(chain: Iterable[Callable[..., Any]]) -> DependencyCycleError:
    """The error for a dependency that needs itself through `chain`."""
    return DependencyCycleError(
        f"dependency cycle: {' -> '.join(describe(c) for c in chain)}; a dependency cannot need "
        "itself, directly or through others: remove one of these Depends (or overrides)"
    )
