"""Tests of `cronkit._depends` (analysis) and `cronkit._depends_solve` (resolution).

Modelled on FastAPI's dependency tests (cache, context managers, overrides, classes). The
injectable types are dummies here: the real App passes `RunContext` and `App`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import pytest

from cronkit._depends import Dependant, Depends, DependsMarker, analyze
from cronkit._depends_solve import AppScope
from cronkit._exceptions import ConfigurationError, DependencyCycleError, DependencyError

if TYPE_CHECKING:
    from collections import OrderedDict as OnlyForTypeCheckers


class Ctx:
    """Stands for RunContext: injected by annotation, run-scoped."""


class SubCtx(Ctx):
    pass


class FakeApp:
    """Stands for App: injected by annotation, app-scoped."""


INJECTABLES = {Ctx: "run", FakeApp: "app"}


def deps(func: Callable[..., Any]) -> Dependant:
    return analyze(func, injectables=INJECTABLES)


async def resolve(
    func: Callable[..., Any], scope: AppScope | None = None, **values: Any
) -> dict[str, Any]:
    scope = scope if scope is not None else AppScope()
    async with scope.run(deps(func), {type(v): v for v in values.values()}) as kwargs:
        return kwargs


async def run_raising(dependant: Dependant, exc: BaseException | None) -> None:
    """One run whose body raises `exc` (if not None)."""
    async with AppScope().run(dependant):
        if exc is not None:
            raise exc


class Boom(Exception):
    pass


class Other(Exception):
    pass


# Module-level providers, for the `Annotated` form (its names are resolved in module globals).

BY_ANNOTATION = Depends()  # a marker is a plain value: ruff's B008 wants it outside defaults


def get_one() -> int:
    return 1


async def get_two() -> int:
    return 2


async def needs_one(one: Annotated[int, Depends(get_one)]) -> int:
    return one + 10


# --- Depends marker ---------------------------------------------------------------------------


def test_depends_returns_a_frozen_marker_with_a_readable_repr() -> None:
    marker = Depends(get_one)
    assert marker == DependsMarker(get_one, True, "run")
    assert repr(marker) == "Depends(get_one)"
    assert repr(Depends()) == "Depends()"
    assert repr(Depends(get_one, use_cache=False)) == "Depends(get_one, use_cache=False)"
    assert repr(Depends(get_one, scope="app")) == "Depends(get_one, scope='app')"
    assert repr(Depends(functools.partial(get_one))) == "Depends(functools.partial(get_one))"
    assert repr(Depends(Greeter("x"))) == "Depends(Greeter instance)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        marker.scope = "app"


def test_depends_rejects_a_bad_scope_quoting_it() -> None:
    with pytest.raises(ConfigurationError, match=r"scope='request'.*'run'.*'app'"):
        Depends(get_one, scope="request")  # type: ignore[arg-type]


def test_depends_rejects_a_non_callable() -> None:
    with pytest.raises(ConfigurationError, match=r"Depends\(42\).*callable"):
        Depends(42)  # type: ignore[arg-type]


def test_depends_rejects_an_uncached_app_scope() -> None:
    with pytest.raises(ConfigurationError, match="use_cache=False, scope='app'"):
        Depends(get_one, use_cache=False, scope="app")


@pytest.mark.parametrize("bad", [{Ctx: "request"}, {"Ctx": "run"}], ids=["scope", "not-a-type"])
def test_analyze_rejects_bad_injectables(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="injectables map a type"):
        analyze(get_one, injectables=bad)


# --- forms ------------------------------------------------------------------------------------


async def test_annotated_and_default_value_forms() -> None:
    async def job(
        a: Annotated[int, Depends(get_one)],
        b: int = Depends(get_two),
        c: int = Depends(needs_one),
        retries: int = 3,
    ) -> None: ...

    assert await resolve(job) == {"a": 1, "b": 2, "c": 11}


async def test_sync_async_and_keyword_only_parameters() -> None:
    def sync_dep(one: int = Depends(get_one)) -> str:
        return f"sync{one}"

    async def async_dep(two: int = Depends(get_two)) -> str:
        return f"async{two}"

    def job(*args: Any, s: str = Depends(sync_dep), a: str = Depends(async_dep), **kw: Any) -> None:
        pass

    assert await resolve(job) == {"s": "sync1", "a": "async2"}


async def test_injectable_types_by_annotation() -> None:
    ctx, app = Ctx(), FakeApp()

    def job(
        c: Ctx,
        maybe: Ctx | None,
        sub: SubCtx,
        meta: Annotated[Ctx, "metadata"],
        a: FakeApp,
        other: int | str = 5,
    ) -> None: ...

    kwargs = await resolve(job, ctx=ctx, app=app)
    assert kwargs == {"c": ctx, "maybe": ctx, "sub": ctx, "meta": ctx, "a": app}


async def test_injectables_given_as_types_are_run_scoped() -> None:
    ctx = Ctx()

    def job(c: Ctx) -> None: ...

    dependant = analyze(job, injectables=[Ctx])
    async with AppScope().run(dependant, {Ctx: ctx}) as kwargs:
        assert kwargs == {"c": ctx}


async def test_app_level_values_fill_runs_that_lack_them() -> None:
    app, other = FakeApp(), FakeApp()

    def job(a: FakeApp) -> None: ...

    scope = AppScope(values={FakeApp: app})
    dependant = deps(job)
    async with scope.run(dependant) as kwargs:
        assert kwargs == {"a": app}
    async with scope.run(dependant, {FakeApp: other}) as kwargs:
        assert kwargs == {"a": other}


async def test_a_missing_injectable_value_is_reported_at_run() -> None:
    def job(c: Ctx) -> None: ...

    with pytest.raises(DependencyError, match=r"no value was given for the injectable type 'Ctx'"):
        await resolve(job)


async def test_class_dependencies() -> None:
    async def job(
        nested: Annotated[Nested, Depends(Nested)],
        plain: Plain = BY_ANNOTATION,
        annotated: Annotated[Plain, Depends()] = None,  # type: ignore[assignment]
        greeting: str = Depends(Greeter("hi")),
        agreeting: str = Depends(AsyncGreeter("yo")),
        data: Data = BY_ANNOTATION,
    ) -> None: ...

    kwargs = await resolve(job)
    assert isinstance(kwargs["plain"], Plain)
    assert kwargs["annotated"] is kwargs["plain"]  # same class, same cache key
    assert kwargs["nested"].one == 1
    assert kwargs["nested"].plain is kwargs["plain"]
    assert kwargs["greeting"] == "hi 1"
    assert kwargs["agreeting"] == "yo 2"
    assert kwargs["data"] == Data(one=1)


class Plain:
    pass


class Nested:
    def __init__(self, one: Annotated[int, Depends(get_one)], plain: Plain = BY_ANNOTATION) -> None:
        self.one = one
        self.plain = plain


@dataclass
class Data:
    one: int = Depends(get_one)


class Greeter:
    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    def __call__(self, one: Annotated[int, Depends(get_one)]) -> str:
        return f"{self.greeting} {one}"


class AsyncGreeter(Greeter):
    async def __call__(self, two: Annotated[int, Depends(get_two)]) -> str:  # type: ignore[override]
        return f"{self.greeting} {two}"


class Provider:
    def __init__(self, base: int) -> None:
        self.base = base

    async def get(self, one: int = Depends(get_one)) -> int:
        return self.base + one


async def test_partials_and_bound_methods() -> None:
    async def add(x: int, one: int = Depends(get_one)) -> int:
        return x + one

    def job(
        a: int = Depends(functools.partial(add, 100)), b: int = Depends(Provider(50).get)
    ) -> None: ...

    assert await resolve(job) == {"a": 101, "b": 51}


async def test_an_unhashable_callable_instance_works_with_overrides() -> None:
    @dataclass  # eq without frozen: instances are unhashable
    class Unhashable:
        value: int

        def __call__(self) -> int:
            return self.value

    def job(v: int = Depends(Unhashable(7))) -> None: ...

    scope = AppScope(overrides={get_one: get_two})
    assert await resolve(job, scope) == {"v": 7}


# --- caching ----------------------------------------------------------------------------------


async def test_a_cached_dependency_is_called_once_per_run() -> None:
    counter = []

    async def count() -> int:
        counter.append(1)
        return len(counter)

    async def super_dep(c: int = Depends(count)) -> int:
        return c

    def job(a: int = Depends(count), b: int = Depends(super_dep)) -> None: ...

    scope = AppScope()
    assert await resolve(job, scope) == {"a": 1, "b": 1}
    assert await resolve(job, scope) == {"a": 2, "b": 2}  # a new run calls it again


async def test_use_cache_false_calls_for_every_use() -> None:
    counter = []

    def count() -> int:
        counter.append(1)
        return len(counter)

    def uncached(c: int = Depends(count, use_cache=False)) -> int:
        return c

    def cached_user(c: int = Depends(count)) -> int:
        return c

    def job(
        a: int = Depends(count, use_cache=False),
        b: int = Depends(uncached),
        c: int = Depends(uncached, use_cache=False),
        d: int = Depends(cached_user),
        e: int = Depends(count),
    ) -> None: ...

    kwargs = await resolve(job)
    assert kwargs == {"a": 1, "b": 2, "c": 3, "d": 4, "e": 4}


# --- generators (clean-up) --------------------------------------------------------------------


def make_generators(log: list[str]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Sync generator `a` and async generator `b` depending on it (FastAPI's context_a/b)."""

    def context_a() -> Iterator[str]:
        log.append("a start")
        try:
            yield "a"
        except Exception as exc:
            log.append(f"a saw {type(exc).__name__}")
            raise
        finally:
            log.append("a end")

    async def context_b(a: str = Depends(context_a)) -> AsyncIterator[str]:
        log.append("b start")
        try:
            yield a + "b"
        except Exception as exc:
            log.append(f"b saw {type(exc).__name__}")
            raise
        finally:
            log.append("b end")

    return context_a, context_b


async def test_generators_clean_up_after_the_run_in_reverse_order() -> None:
    log: list[str] = []
    _, context_b = make_generators(log)

    def job(b: str = Depends(context_b)) -> None: ...

    async with AppScope().run(deps(job)) as kwargs:
        assert kwargs == {"b": "ab"}
        log.append("run")
    assert log == ["a start", "b start", "run", "b end", "a end"]


async def test_the_runs_exception_is_thrown_into_generators_and_propagates() -> None:
    log: list[str] = []
    _, context_b = make_generators(log)

    def job(b: str = Depends(context_b)) -> None: ...

    with pytest.raises(Boom):
        async with AppScope().run(deps(job)):
            raise Boom
    assert log == ["a start", "b start", "b saw Boom", "b end", "a saw Boom", "a end"]


async def test_cancellation_is_thrown_into_generators() -> None:
    log: list[str] = []

    async def gen() -> AsyncIterator[None]:
        try:
            yield
        except asyncio.CancelledError:
            log.append("cancelled")
            raise

    def job(g: None = Depends(gen)) -> None: ...

    started = asyncio.Event()

    async def run() -> None:
        async with AppScope().run(deps(job)):
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(run())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["cancelled"]


async def test_a_generator_that_swallows_the_exception_does_not_hide_the_failure() -> None:
    log: list[str] = []

    def outer() -> Iterator[None]:
        try:
            yield
        except Boom:
            log.append("outer saw Boom")
            raise

    async def swallower(o: None = Depends(outer)) -> AsyncIterator[None]:
        try:
            yield
        except Boom:
            log.append("swallowed")

    def job(s: None = Depends(swallower)) -> None: ...

    with pytest.raises(Boom):
        async with AppScope().run(deps(job)):
            raise Boom
    assert log == ["swallowed", "outer saw Boom"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_generator_may_replace_the_exception(is_async: bool) -> None:
    log: list[str] = []

    def outer() -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            log.append(f"outer saw {type(exc).__name__}")
            raise

    def sync_replacer(o: None = Depends(outer)) -> Iterator[None]:
        try:
            yield
        except Boom as exc:
            raise Other from exc

    async def async_replacer(o: None = Depends(outer)) -> AsyncIterator[None]:
        try:
            yield
        except Boom as exc:
            raise Other from exc

    replacer = async_replacer if is_async else sync_replacer

    def job(r: None = Depends(replacer)) -> None: ...

    with pytest.raises(Other) as info:
        async with AppScope().run(deps(job)):
            raise Boom
    assert isinstance(info.value.__cause__, Boom)
    assert log == ["outer saw Other"]


async def test_a_clean_up_error_after_a_successful_run_fails_the_run() -> None:
    log: list[str] = []
    context_a, _ = make_generators(log)

    def failing_cleanup(a: str = Depends(context_a)) -> Iterator[None]:
        yield
        raise Other

    def job(f: None = Depends(failing_cleanup)) -> None: ...

    with pytest.raises(Other):
        async with AppScope().run(deps(job)):
            pass
    assert log == ["a start", "a saw Other", "a end"]


async def test_an_error_in_set_up_stops_the_run_and_cleans_up() -> None:
    log: list[str] = []
    _, context_b = make_generators(log)

    async def broken() -> int:
        raise Boom

    def job(b: str = Depends(context_b), x: int = Depends(broken)) -> None:
        raise AssertionError("not reached")

    with pytest.raises(Boom):
        async with AppScope().run(deps(job)):
            raise AssertionError("not reached")
    assert log == ["a start", "b start", "b saw Boom", "b end", "a saw Boom", "a end"]


async def test_an_error_in_set_up_before_any_generator() -> None:
    def broken() -> int:
        raise Boom

    def job(x: int = Depends(broken)) -> None: ...

    with pytest.raises(Boom):
        await resolve(job)


async def test_a_clean_up_error_during_a_failed_set_up_replaces_it() -> None:
    def failing_cleanup() -> Iterator[None]:
        try:
            yield
        except Boom as exc:
            raise Other from exc

    def broken(f: None = Depends(failing_cleanup)) -> int:
        raise Boom

    def job(x: int = Depends(broken)) -> None: ...

    with pytest.raises(Other):
        await resolve(job)


def sync_no_yield() -> Iterator[int]:
    return
    yield 1


async def async_no_yield() -> AsyncIterator[int]:
    return
    yield 1


@pytest.mark.parametrize("gen", [sync_no_yield, async_no_yield], ids=["sync", "async"])
async def test_a_generator_that_does_not_yield_is_an_error(gen: Callable[..., Any]) -> None:
    def job(x: int = Depends(gen)) -> None: ...

    with pytest.raises(DependencyError, match=r"no_yield' ended without yielding"):
        await resolve(job)


@pytest.mark.parametrize("raise_in_run", [False, True], ids=["ok-run", "failed-run"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_generator_that_yields_twice_is_an_error(
    is_async: bool, raise_in_run: bool
) -> None:
    closed: list[bool] = []

    def twice() -> Iterator[int]:
        try:
            yield 1
            yield 2
        except Boom:
            yield 3
        finally:
            closed.append(True)

    async def atwice() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        except Boom:
            yield 3
        finally:
            closed.append(True)

    def job(x: int = Depends(atwice if is_async else twice)) -> None: ...

    with pytest.raises(DependencyError, match="twice' yielded a second value"):
        await run_raising(deps(job), Boom() if raise_in_run else None)
    assert closed == [True]


async def test_stop_iteration_from_the_run_passes_through_a_sync_generator() -> None:
    cleaned: list[bool] = []

    def gen() -> Iterator[None]:
        try:
            yield
        finally:
            cleaned.append(True)

    def job(g: None = Depends(gen)) -> None: ...

    with pytest.raises(StopIteration):
        async with AppScope().run(deps(job)):
            raise StopIteration
    assert cleaned == [True]


# --- overrides --------------------------------------------------------------------------------


async def test_overrides_replace_and_restore() -> None:
    async def job(
        one: Annotated[int, Depends(get_one)], eleven: Annotated[int, Depends(needs_one)]
    ) -> None: ...

    overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
    scope = AppScope(overrides=overrides)
    dependant = deps(job)  # analysed once, at decoration

    async def kwargs() -> dict[str, Any]:
        async with scope.run(dependant) as kwargs:
            return kwargs

    assert await kwargs() == {"one": 1, "eleven": 11}
    overrides[get_one] = lambda: 100  # set after decoration, as tests do
    assert await kwargs() == {"one": 100, "eleven": 110}
    overrides[get_two] = lambda: 200  # not in this graph: the plan stays valid
    assert await kwargs() == {"one": 100, "eleven": 110}
    overrides[get_one] = get_two  # which is overridden too, but replacements are not chained
    assert await kwargs() == {"one": 2, "eleven": 12}
    overrides.clear()
    assert await kwargs() == {"one": 1, "eleven": 11}


async def test_an_override_with_its_own_dependencies() -> None:
    ctx = Ctx()

    async def fake_one(c: Ctx, two: int = Depends(get_two)) -> int:
        assert c is ctx
        return two * 1000

    def job(eleven: int = Depends(needs_one)) -> None: ...

    def other_job(one: int = Depends(get_one)) -> None: ...

    scope = AppScope(overrides={get_one: fake_one})
    assert await resolve(job, scope, ctx=ctx) == {"eleven": 2010}
    assert await resolve(job, scope, ctx=ctx) == {"eleven": 2010}
    assert await resolve(other_job, scope, ctx=ctx) == {"one": 2000}  # analysed once


async def test_errors_of_an_override_surface_at_its_first_use() -> None:
    def bad_override(x: int) -> int:
        return x

    def job(one: int = Depends(get_one)) -> None: ...

    dependant = deps(job)  # fine at registration
    scope = AppScope(overrides={get_one: bad_override})
    with pytest.raises(DependencyError, match=r"parameter 'x' of .*bad_override"):
        async with scope.run(dependant):
            pass


async def test_an_override_that_closes_a_cycle() -> None:
    def wraps_real(one: int = Depends(get_one)) -> int:
        return one

    def job(one: int = Depends(get_one)) -> None: ...

    scope = AppScope(overrides={get_one: wraps_real})
    with pytest.raises(DependencyCycleError, match=r"cycle: .*wraps_real -> .*wraps_real;"):
        await resolve(job, scope)


async def test_an_override_of_an_app_scoped_dependency_must_stay_app_safe() -> None:
    def run_bound(c: Ctx) -> int:
        return 0

    def job(one: int = Depends(get_one, scope="app")) -> None: ...

    scope = AppScope(overrides={get_one: run_bound})
    with pytest.raises(DependencyError, match=r"app-scoped dependency .*run_bound.*Ctx"):
        await resolve(job, scope, ctx=Ctx())


async def test_an_override_of_an_app_scoped_dependency() -> None:
    def fake_pool(a: FakeApp) -> str:
        return "fake pool"

    def job(p: str = Depends(get_one, scope="app")) -> None: ...

    scope = AppScope(overrides={get_one: fake_pool}, values={FakeApp: FakeApp()})
    await scope.start([deps(job)])
    assert await resolve(job, scope) == {"p": "fake pool"}


# --- app scope --------------------------------------------------------------------------------


async def test_app_scope_values_are_created_once_and_closed_in_reverse_at_aclose() -> None:
    log: list[str] = []
    app = FakeApp()

    async def config(a: FakeApp) -> str:
        assert a is app
        log.append("config")
        return "x"

    async def pool(dsn: str = Depends(config, scope="app")) -> AsyncIterator[str]:
        log.append("pool open")
        yield "pool:" + dsn
        log.append("pool close")

    def client(p: str = Depends(pool, scope="app")) -> Iterator[str]:
        log.append("client open")
        yield "client of " + p
        log.append("client close")

    def job1(c: str = Depends(client, scope="app")) -> None: ...

    def job2(p: str = Depends(pool, scope="app")) -> None: ...

    def job3(c: str = Depends(client, scope="app"), p: str = Depends(pool, scope="app")) -> None:
        pass

    scope = AppScope(values={FakeApp: app})
    for _ in range(3):
        assert await resolve(job1, scope, ctx=Ctx()) == {"c": "client of pool:x"}
        assert await resolve(job2, scope) == {"p": "pool:x"}
        assert await resolve(job3, scope) == {"c": "client of pool:x", "p": "pool:x"}
    assert log == ["config", "pool open", "client open"]
    await scope.aclose()
    assert log == ["config", "pool open", "client open", "client close", "pool close"]
    await scope.aclose()  # idempotent


async def test_start_creates_app_values_eagerly_and_a_restart_recreates_them() -> None:
    log: list[str] = []

    def resource() -> Iterator[int]:
        log.append("open")
        yield len(log)
        log.append("close")

    def job(r: int = Depends(resource, scope="app")) -> None: ...

    dependant = deps(job)
    scope = AppScope()
    await scope.start([dependant, dependant])
    assert log == ["open"]
    async with scope.run(dependant) as kwargs:
        assert kwargs == {"r": 1}
    await scope.aclose()
    await scope.start([dependant])
    assert log == ["open", "close", "open"]


async def test_concurrent_first_uses_create_an_app_value_once() -> None:
    calls: list[int] = []
    release = asyncio.Event()

    async def slow() -> int:
        calls.append(1)
        await release.wait()
        return 42

    def job(v: int = Depends(slow, scope="app")) -> None: ...

    scope = AppScope()
    dependant = deps(job)

    async def one_run() -> dict[str, Any]:
        async with scope.run(dependant) as kwargs:
            return kwargs

    tasks = [asyncio.create_task(one_run()) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*tasks) == [{"v": 42}] * 3
    assert calls == [1]


async def test_a_failed_app_value_is_retried_at_next_use() -> None:
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise Boom
        return 7

    def job(v: int = Depends(flaky, scope="app")) -> None: ...

    scope = AppScope()
    with pytest.raises(Boom):
        await resolve(job, scope)
    assert await resolve(job, scope) == {"v": 7}


async def test_aclose_closes_every_app_value_and_raises_the_clean_up_error() -> None:
    log: list[str] = []

    def first() -> Iterator[int]:
        yield 1
        log.append("first closed")

    def second() -> Iterator[int]:
        yield 2
        raise Other

    def job(a: int = Depends(first, scope="app"), b: int = Depends(second, scope="app")) -> None:
        pass

    scope = AppScope()
    await scope.start([deps(job)])
    with pytest.raises(Other):
        await scope.aclose()
    assert log == []  # `first` received the error, as in an exit stack, and re-raised it
    await scope.aclose()


async def test_app_and_run_scopes_of_one_callable_are_distinct_values() -> None:
    counter: list[int] = []

    def count() -> int:
        counter.append(1)
        return len(counter)

    def job(a: int = Depends(count, scope="app"), r: int = Depends(count)) -> None: ...

    scope = AppScope()
    assert await resolve(job, scope) == {"a": 1, "r": 2}
    assert await resolve(job, scope) == {"a": 1, "r": 3}


# --- registration-time errors -----------------------------------------------------------------


def test_an_unresolvable_parameter_names_the_function_and_the_parameter() -> None:
    def job(db: str) -> None: ...

    with pytest.raises(DependencyError) as info:
        deps(job)
    message = str(info.value)
    assert "parameter 'db' of 'test_an_unresolvable_parameter_names_the_function" in message
    assert "'str' is not an injectable type (Ctx, FakeApp)" in message
    assert "db: Annotated[T, Depends(provider)]" in message


def test_an_unresolvable_nested_parameter_names_the_chain() -> None:
    def inner(x) -> int:  # type: ignore[no-untyped-def]
        return 0

    def job(i: int = Depends(inner)) -> None: ...

    with pytest.raises(
        DependencyError, match=r"parameter 'x' of '.*inner' \(in .*job -> .*inner\)"
    ):
        deps(job)
    with pytest.raises(DependencyError, match="it has no annotation, no default and no Depends"):
        analyze(inner)
    with pytest.raises(
        DependencyError, match=r"annotation 'str' is not an injectable type \(none\)"
    ):
        analyze(needs_str)


def needs_str(s: str) -> None: ...


def test_a_cycle_is_reported_with_its_chain() -> None:
    with pytest.raises(DependencyCycleError, match="cycle: ping -> pong -> ping"):
        deps(ping)


def ping(p: Annotated[int, Depends(pong)]) -> int:
    return p


def pong(p: Annotated[int, Depends(ping)]) -> int:
    return p


def test_a_self_cycle() -> None:
    with pytest.raises(DependencyCycleError, match="cycle: narcissus -> narcissus"):
        deps(narcissus)


def narcissus(n: Annotated[int, Depends(narcissus)]) -> int:
    return n


def test_an_app_scoped_dependency_cannot_need_a_run_scoped_one() -> None:
    def conn() -> int:
        return 1

    def pool(c: int = Depends(conn)) -> int:
        return c

    def job(p: int = Depends(pool, scope="app")) -> None: ...

    with pytest.raises(DependencyError, match=r"app-scoped dependency '.*pool'.*run-scoped depen"):
        deps(job)


def test_an_app_scoped_dependency_cannot_need_the_run_context() -> None:
    def pool(c: Ctx) -> int:
        return 1

    def job(p: int = Depends(pool, scope="app")) -> None: ...

    with pytest.raises(DependencyError, match=r"needs the run-scoped type Ctx through .*'c'"):
        deps(job)


def depends_twice(x: Annotated[int, Depends(get_one)] = Depends(get_two)) -> None: ...


def needs_hidden(
    x: OnlyForTypeCheckers[str, int], y: OnlyForTypeCheckers[str, int] | None = None
) -> None:
    pass


def class_by_bad_annotation(x: int | None = Depends()) -> None: ...


def class_by_hidden_annotation(x: OnlyForTypeCheckers[str, int] = BY_ANNOTATION) -> None: ...


def class_without_annotation(x=Depends()) -> None:  # type: ignore[no-untyped-def]
    pass


def args_depends(*args: Annotated[int, Depends(get_one)]) -> None: ...


def positional_only(x: int, /) -> None: ...


def positional_only_depends(x: int = Depends(get_one), /) -> None: ...


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (depends_twice, "several Depends"),
        (needs_hidden, r"parameter 'x'.*'OnlyForTypeCheckers\[str, int\]' cannot be resolved"),
        (class_by_bad_annotation, r"int \| None' is not a class"),
        (class_by_hidden_annotation, r"'OnlyForTypeCheckers\[str, int\]' is not a class"),
        (class_without_annotation, "but <no annotation> is not a class"),
        (args_depends, r"\*args/\*\*kwargs cannot be injected"),
        (positional_only, "positional-only"),
        (positional_only_depends, "positional-only"),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_registration_errors(func: Callable[..., Any], message: str) -> None:
    with pytest.raises(DependencyError, match=message):
        deps(func)


def test_a_callable_without_a_readable_signature() -> None:
    def job(d: int = Depends(dict)) -> None: ...

    with pytest.raises(DependencyError, match="cannot read the parameters of 'dict'"):
        deps(job)


async def test_left_alone_parameters() -> None:
    def job(
        y: OnlyForTypeCheckers[str, int] | None = None,
        z: int = 0,
        w: Ctx = None,  # type: ignore[assignment]
    ) -> None: ...

    def positional(x: int = 1, /) -> None: ...

    assert await resolve(positional) == {}
    ctx = Ctx()
    assert await resolve(job, ctx=ctx) == {"w": ctx}  # an injectable annotation wins


def test_dependant_repr() -> None:
    def job(c: Ctx, one: int = Depends(get_one), z: int = 0) -> None: ...

    assert repr(deps(job)) == "<Dependant test_dependant_repr.<locals>.job (c, one)>"
