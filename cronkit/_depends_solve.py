"""Dependency injection, run half: flat plans, app-scoped values and per-run resolution.

A `Dependant` (from `cronkit._depends.analyze`) is compiled once into a `Plan`: steps in
declaration order, each filling a slot of a list. A cached dependency used several times is one
step; `use_cache=False` gives each use its own. An app-scoped dependency is one step reading the
App's value, created (by its own small plan, under a lock) at first use or at `AppScope.start`.
A run walks the plan once: no graph walk, no cache dict, no exit stack unless a generator ran.

Semantics, as in FastAPI:

- Sync callables and sync generators run on the event loop: keep them quick (blocking work
  belongs in the job, which may run in a worker thread). Async ones are awaited.
- Generators are cleaned up after the run, last set up first. The run's exception (including
  `CancelledError`) is thrown into each; one that catches it without re-raising is allowed, but
  the run still fails with it: a dependency cannot turn a failed run into a success. One that
  raises another exception replaces the run's for the generators still to close and the caller.
  A failure during set-up stops the run and cleans up the generators already entered likewise.
  A generator must yield exactly once, else `DependencyError` is raised at run time.
- Exceptions pass through unchanged, but a run remembers which dependency raised one and in
  which phase: `RunScope.failure(error)` turns it into a `DependencyFailedError` naming the
  dependency, which is what the App records for the run.
- `overrides` (the App's `dependency_overrides`) is read at each run, as in FastAPI a single
  lookup (replacements are not chained). A replacement is analysed at its first use (its errors
  surface then); plans are rebuilt when the overrides they read change. A value's cache key is
  the callable after overrides, with the scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from types import TracebackType
from typing import Any, Final, Literal, cast, final

from cronkit._depends import (
    AGEN,
    ASYNC,
    SYNC,
    Dependant,
    Inject,
    Sub,
    analyze,
    check_app_scope,
    cycle_error,
    describe,
)
from cronkit._exceptions import DependencyError, DependencyFailedError

__all__ = ["AppScope", "RunScope"]

INJECT: Final = 4  # step codes beyond the callable kinds SYNC, ASYNC, GEN, AGEN
APP: Final = 5
Overrides = Mapping[Callable[..., Any], Callable[..., Any]]
Args = tuple[tuple[str, int], ...]  # (keyword, slot) pairs
Step = tuple[int, int, Any, Args]  # (op, out slot, callable | injectable type | AppNode, args)
_Opened = tuple[Any, bool, Callable[..., Any]]  # (generator, is async, its callable)
_NO_VALUES: Final[Mapping[type[Any], Any]] = {}
Phase = Literal["entry", "cleanup"]


def override_of(overrides: Overrides, call: Callable[..., Any]) -> Callable[..., Any]:
    """`call`'s replacement in `overrides`, or `call` itself."""
    try:
        return overrides.get(call, call)
    except TypeError:  # an unhashable callable instance cannot be a key
        return call


@final
class AppNode:
    """An app-scoped dependency: the steps creating its value, run once per `AppScope`."""

    __slots__ = ("call", "key", "out", "size", "steps")

    def __init__(self, call: Callable[..., Any], steps: list[Step], size: int, out: int) -> None:
        self.call = call
        self.key = id(call)
        self.steps = tuple(steps)
        self.size = size
        self.out = out


@final
class Plan:
    """Steps filling slots, and the keyword arguments of the analysed function read from them."""

    __slots__ = ("app_nodes", "consulted", "result", "size", "steps")

    def __init__(self, compiler: _Compiler, result: Args) -> None:
        self.steps = tuple(compiler.steps)
        self.size = compiler.size
        self.result = result
        self.app_nodes: tuple[AppNode, ...] = tuple(s[2] for s in self.steps if s[0] == APP)
        self.consulted = tuple(compiler.consulted)  # (callable, its override) pairs read


AnalyzeOverride = Callable[[Callable[..., Any], Dependant], Dependant]


class _Compiler:
    """Turns a `Dependant` graph, with overrides applied, into a `Plan`'s steps."""

    def __init__(
        self,
        overrides: Overrides | None,
        analyze_override: AnalyzeOverride,
        nodes: dict[int, AppNode],
        consulted: list[tuple[Callable[..., Any], Callable[..., Any]]],
        stack: list[Callable[..., Any]],
    ) -> None:
        self.overrides = overrides
        self.analyze_override = analyze_override
        self.nodes = nodes
        self.consulted = consulted
        self.stack = stack
        self.steps: list[Step] = []
        self.size = 0
        self.memo: dict[tuple[int, int], int] = {}

    def args(self, dependant: Dependant) -> Args:
        return tuple((p.name, self.slot(p, dependant)) for p in dependant.params)

    def add(self, op: int, target: Any, args: Args) -> int:
        self.steps.append((op, self.size, target, args))
        self.size += 1
        return self.size - 1

    def slot(self, p: Inject | Sub, user: Dependant) -> int:
        if isinstance(p, Inject):
            key = (INJECT, id(p.key))
            if key not in self.memo:
                self.memo[key] = self.add(INJECT, p.key, ())
            return self.memo[key]
        call, sub = p.call, p.dependant
        if self.overrides is not None:
            new = override_of(self.overrides, call)
            self.consulted.append((call, new))
            if new is not call:
                call, sub = new, self.analyze_override(new, user)
                if p.scope == "app":
                    check_app_scope(sub, user.name, p.name)
        key = (APP if p.scope == "app" else SYNC, id(call))
        if p.use_cache and key in self.memo:
            return self.memo[key]
        for i, seen in enumerate(self.stack):  # only overrides can close a cycle here
            if seen is call:
                raise cycle_error([*self.stack[i:], call])
        self.stack.append(call)
        if p.scope == "app":
            out = self.add(APP, self.node(call, sub), ())
        else:
            out = self.add(sub.kind, call, self.args(sub))
        self.stack.pop()
        if p.use_cache:
            self.memo[key] = out
        return out

    def node(self, call: Callable[..., Any], sub: Dependant) -> AppNode:
        node = self.nodes.get(id(call))
        if node is None:
            inner = _Compiler(
                self.overrides, self.analyze_override, self.nodes, self.consulted, self.stack
            )
            out = inner.add(sub.kind, call, inner.args(sub))
            node = self.nodes[id(call)] = AppNode(call, inner.steps, inner.size, out)
        return node


def compile_plan(
    dependant: Dependant, overrides: Overrides | None, analyze_override: AnalyzeOverride
) -> Plan:
    """Build the plan of `dependant`, with the dependencies found in `overrides` replaced."""
    compiler = _Compiler(overrides, analyze_override, {}, [], [dependant.call])
    return Plan(compiler, compiler.args(dependant))


class _Exits:
    """Holds the generators entered, to close them later in reverse order, and which
    dependency raised the exception in flight."""

    __slots__ = ("_blamed", "_opened")

    def __init__(self) -> None:
        self._opened: list[_Opened] | None = None
        self._blamed: tuple[BaseException, str, Phase] | None = None

    def _blame(self, error: BaseException, call: Callable[..., Any], phase: Phase) -> None:
        self._blamed = (error, describe(call).rpartition("<locals>.")[2], phase)

    def _blamed_for(self, error: BaseException) -> tuple[str, Phase] | None:
        blamed = self._blamed
        if blamed is None or blamed[0] is not error:
            return None
        return blamed[1], blamed[2]


async def _finalize(opened: list[_Opened], exc: BaseException | None, exits: _Exits) -> None:
    """Close `opened` last first, throwing `exc` into each; raise the exception replacing it."""
    current = exc
    for gen, is_async, call in reversed(opened):
        try:
            if current is None:
                if is_async:
                    await gen.__anext__()
                else:
                    next(gen)
            elif is_async:
                await gen.athrow(current)
            else:
                gen.throw(current)
        except (StopIteration, StopAsyncIteration):
            continue  # finished: cleaned up, or swallowed `current` (which still propagates)
        except BaseException as raised:  # re-raised `current`, or raised another exception
            wrapped = isinstance(current, StopIteration | StopAsyncIteration)  # PEP 479
            if raised is not current and not (wrapped and raised.__cause__ is current):
                current = raised
                exits._blame(raised, call, "cleanup")
            continue
        if is_async:
            await gen.aclose()
        else:
            gen.close()
        current = DependencyError(
            f"generator dependency {describe(call)!r} yielded a second value; a dependency "
            "generator must yield exactly once (set-up, yield, clean-up)"
        )
    if current is not exc:
        raise cast(BaseException, current)


@final
class AppScope(_Exits):
    """Resolves dependencies: the App's app-scoped values, and the arguments of each run.

    One per App. Its methods must be called from the App's event loop.

    Args:
        overrides: The App's `dependency_overrides`, read at each run (the same mapping object,
            so that tests can change it after the functions were decorated).
        values: Values of app-level injectable types, e.g. `{App: app}`. They are used to
            create app-scoped values, and by runs that were not given them.
    """

    def __init__(
        self,
        *,
        overrides: MutableMapping[Callable[..., Any], Callable[..., Any]] | None = None,
        values: Mapping[type[Any], Any] = _NO_VALUES,
    ) -> None:
        super().__init__()
        self.overrides = overrides if overrides is not None else {}
        self._values = values
        self._app_values: dict[int, tuple[Callable[..., Any], Any]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._override_plans: dict[Dependant, Plan] = {}
        self._override_deps: dict[int, tuple[Callable[..., Any], Dependant]] = {}

    def run(self, dependant: Dependant, values: Mapping[type[Any], Any] = _NO_VALUES) -> RunScope:
        """Resolve the arguments of one run: `async with scope.run(d, values) as kwargs:`.

        Entering sets up the dependencies (app-scoped ones at first use) and gives the keyword
        arguments for `dependant.call`; leaving cleans up the generator dependencies, throwing
        the block's exception into them (see the module docstring).

        Args:
            dependant: From `analyze(job, injectables=...)`.
            values: The run's values of injectable types, e.g. `{RunContext: ctx}`.

        Returns:
            An async context manager giving a new `dict` of keyword arguments.
        """
        return RunScope(self, dependant, values)

    async def start(self, dependants: Iterable[Dependant]) -> None:
        """Create now every app-scoped value `dependants` use (otherwise made at first use).

        Raises:
            Exception: Whatever an app-scoped dependency raised; the values created so far stay
                and are closed by `aclose`.
        """
        for dependant in dependants:
            for node in self._plan(dependant).app_nodes:
                await self._create(node)

    async def aclose(self) -> None:
        """Clean up the app-scoped values, last created first, and forget them.

        Call it after the last run has ended. A later run or `start` creates them anew.

        Raises:
            BaseException: The last exception raised by a clean-up; every generator is closed.
        """
        opened, self._opened = self._opened, None
        self._app_values.clear()
        self._locks.clear()
        if opened:
            await _finalize(opened, None, self)

    def _plan(self, dependant: Dependant) -> Plan:
        if not self.overrides:
            plan: Plan | None = dependant.plan
            if plan is None:
                plan = dependant.plan = compile_plan(dependant, None, self._analyze_override)
            return plan
        plan = self._override_plans.get(dependant)
        if plan is None or any(override_of(self.overrides, c) is not n for c, n in plan.consulted):
            plan = compile_plan(dependant, self.overrides, self._analyze_override)
            self._override_plans[dependant] = plan
        return plan

    def _analyze_override(self, call: Callable[..., Any], user: Dependant) -> Dependant:
        entry = self._override_deps.get(id(call))  # the entry keeps `call` alive: ids stay unique
        if entry is None:
            entry = self._override_deps[id(call)] = (
                call,
                analyze(call, injectables=user.injectables),
            )
        return entry[1]

    def _injected(self, key: type) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise DependencyError(
                f"no value was given for the injectable type {key.__qualname__!r}; pass it in "
                "AppScope.run(dependant, values={...}) or AppScope(values={...})"
            ) from None

    async def _create(self, node: AppNode) -> Any:
        async with self._locks.setdefault(node.key, asyncio.Lock()):
            entry = self._app_values.get(node.key)
            if entry is not None:  # made by a concurrent run while this one waited
                return entry[1]
            slots: list[Any] = [None] * node.size
            await self._execute(node.steps, slots, self._values, self)
            self._app_values[node.key] = (node.call, slots[node.out])
            return slots[node.out]

    async def _execute(
        self,
        steps: tuple[Step, ...],
        slots: list[Any],
        values: Mapping[type[Any], Any],
        exits: _Exits,
    ) -> None:
        try:
            for op, out, target, args in steps:
                if op == INJECT:
                    try:
                        slots[out] = values[target]
                    except KeyError:
                        slots[out] = self._injected(target)
                elif op == APP:
                    entry = self._app_values.get(target.key)
                    slots[out] = await self._create(target) if entry is None else entry[1]
                elif op == ASYNC:
                    slots[out] = await target(**{name: slots[i] for name, i in args})
                elif op == SYNC:
                    slots[out] = target(**{name: slots[i] for name, i in args})
                else:
                    kwargs = {name: slots[i] for name, i in args}
                    slots[out] = await _enter(op, target, kwargs, exits)
        except Exception as error:  # the loop variables name the step that raised
            if op == APP:  # an app-scoped value's own plan blamed one of its steps
                blamed = self._blamed_for(error)
                if blamed is None:
                    exits._blame(error, target.call, "entry")
                else:
                    exits._blamed = (error, blamed[0], blamed[1])
            elif op != INJECT and not isinstance(error, DependencyError):
                exits._blame(error, target, "entry")
            raise


async def _enter(op: int, call: Callable[..., Any], kwargs: dict[str, Any], exits: _Exits) -> Any:
    """Set up a generator dependency: run it to its `yield` and keep it for clean-up."""
    gen = call(**kwargs)
    try:
        value = await gen.__anext__() if op == AGEN else next(gen)
    except (StopIteration, StopAsyncIteration):
        raise DependencyError(
            f"generator dependency {describe(call)!r} ended without yielding; a dependency "
            "generator must yield exactly once (set-up, yield, clean-up)"
        ) from None
    if exits._opened is None:
        exits._opened = []
    exits._opened.append((gen, op == AGEN, call))
    return value


@final
class RunScope(_Exits):
    """`AppScope.run`'s context manager: the arguments of one run, and their clean-up."""

    __slots__ = ("_dependant", "_scope", "_values")

    def __init__(
        self, scope: AppScope, dependant: Dependant, values: Mapping[type[Any], Any]
    ) -> None:
        self._opened = None
        self._blamed = None
        self._scope = scope
        self._dependant = dependant
        self._values = values

    async def __aenter__(self) -> dict[str, Any]:
        scope = self._scope
        plan = scope._plan(self._dependant)
        slots: list[Any] = [None] * plan.size
        try:
            await scope._execute(plan.steps, slots, self._values, self)
        except BaseException as exc:
            opened, self._opened = self._opened, None
            if opened:
                await _finalize(opened, exc, self)
            raise
        return {name: slots[i] for name, i in plan.result}

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        opened, self._opened = self._opened, None
        if opened:
            await _finalize(opened, exc, self)

    def failure(self, error: BaseException) -> DependencyFailedError | None:
        """`error` as a `DependencyFailedError` naming the dependency that raised it, if one
        of this run's dependencies did (on entry or in clean-up); None for the job's own."""
        blamed = self._blamed_for(error)
        if blamed is None:
            return None
        return DependencyFailedError(blamed[0], blamed[1], error)
