"""ValkeyLeaseConfig validation, and how the guard takes its configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cronkit._exceptions import InvalidLeaseConfigError
from cronkit.valkey import ValkeyExecutionGuard, ValkeyLeaseConfig

CONFIG = ValkeyLeaseConfig(ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=10))

S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"ttl": timedelta(0), "renew_interval": S}, "ttl=", id="zero-ttl"),
        pytest.param({"ttl": -S, "renew_interval": S}, "ttl=", id="negative-ttl"),
        pytest.param({"ttl": S, "renew_interval": timedelta(0)}, "renew_interval=", id="zero-ri"),
        pytest.param({"ttl": S, "renew_interval": -S}, "renew_interval=", id="negative-ri"),
        pytest.param({"ttl": S, "renew_interval": S}, "shorter than ttl", id="ri-equals-ttl"),
        pytest.param({"ttl": S, "renew_interval": 2 * S}, "shorter than ttl", id="ri-above-ttl"),
        pytest.param(
            {"ttl": S, "renew_interval": S / 3, "done_retention": timedelta(0)},
            "no done marker",
            id="zero-retention",
        ),
        pytest.param(
            {"ttl": timedelta(microseconds=500), "renew_interval": timedelta(microseconds=100)},
            "1 ms",
            id="below-ms",
        ),
        pytest.param({"ttl": 30, "renew_interval": 10}, "not a duration", id="numbers"),
        pytest.param(
            {"ttl": S, "renew_interval": S / 3, "on_lost": "explode"}, "on_lost=", id="on-lost"
        ),
        pytest.param({"ttl": S, "renew_interval": S / 3, "on_lost": None}, "on_lost=", id="none"),
        pytest.param(
            {"ttl": S, "renew_interval": S / 3, "done_retention": -S},
            "done_retention=",
            id="negative-retention",
        ),
    ],
)
def test_bad_lease_config_is_rejected_at_construction(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidLeaseConfigError, match=message) as caught:
        ValkeyLeaseConfig(**kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("on_lost", ["cancel", "continue", "shutdown", " Shutdown "])
def test_on_lost_values(on_lost: str) -> None:
    config = ValkeyLeaseConfig(ttl=S, renew_interval=S / 3, on_lost=on_lost)  # type: ignore[arg-type]
    assert config.on_lost == on_lost.strip().lower()
    assert config.done_retention == timedelta(hours=24)


def test_lease_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        CONFIG.ttl = S  # type: ignore[misc]


async def test_guard_rejects_a_config_of_another_type(valkey_url: str) -> None:
    with pytest.raises(InvalidLeaseConfigError, match="ValkeyLeaseConfig"):
        ValkeyExecutionGuard(valkey_url, {"ttl": S})  # type: ignore[arg-type]


async def test_on_lost_and_renew_interval_reach_the_guard(valkey_url: str) -> None:
    config = ValkeyLeaseConfig(ttl=S, renew_interval=S / 3, on_lost="continue")
    guard = ValkeyExecutionGuard(valkey_url, config)
    try:
        assert guard.on_lost == "continue"
        assert guard.renew_interval == S / 3
        assert guard.config is config
    finally:
        await guard.close()
