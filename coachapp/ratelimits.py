"""Rate-limit counters in Redis, counted in this process's memory while Redis does not answer.

Flask-Limiter's own fallback swaps every route's limits for one shared fallback limit and waits
up to half a minute between retries; this storage keeps each route's own limit, logs the change
once, and tries Redis again a second after it failed, so the shared count is back within a second
of Redis returning. Never unlimited, never a 500.
"""

import logging
import threading
import time
from typing import Any

from flask import Flask
from flask_limiter import Limiter
from limits.storage import MemoryStorage, RedisStorage, Storage

log = logging.getLogger("coachapp.ratelimit")

SCHEME = "coachapp+"
#: After a failure, requests count in memory this long before Redis is tried again.
RETRY_SECONDS = 1.0
#: Redis on the network should answer in milliseconds; a dead one must not hold up a sign-in.
SOCKET_TIMEOUT_SECONDS = 0.5


def storage_uri(configured: str) -> str:
    """The URI Flask-Limiter is given: Redis URLs go through this module's storage."""
    if configured.startswith(("redis://", "rediss://")):
        return SCHEME + configured
    return configured


def check_only_limited_views(app: Flask, limiter: Limiter) -> None:
    """Leave the limit checks to the views that have limits.

    Every limit here is a view's own (`@limiter.limit`), and such a view checks its limits as it
    is called. Flask-Limiter's hook before every request looks for default, application and
    blueprint limits besides; with none of those it finds nothing, at a cost of every request
    (6 per cent of an observation's save). So the hook goes, and with it the risk that a limit of
    another kind, added one day, would silently not apply: that refuses to start instead.
    """
    manager = limiter.limit_manager
    others = (
        manager.default_limits,
        manager.application_limits,
        manager._blueprint_limits,  # noqa: SLF001 - Flask-Limiter has no public reader
        limiter._meta_limits,  # noqa: SLF001 - nor for these
    )
    if any(others):
        raise RuntimeError("a rate limit not of a view's own: see check_only_limited_views")
    app.before_request_funcs[None].remove(limiter._check_request_limit)


class RedisWithFallback(Storage):
    """Redis first; this process's memory while Redis is down."""

    STORAGE_SCHEME = ["coachapp+redis", "coachapp+rediss"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
        self.redis = RedisStorage(uri.removeprefix(SCHEME), **options)
        self.memory = MemoryStorage()
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return self.redis.base_exceptions

    # --- which storage counts this request ---------------------------------------------------

    def _use_redis(self) -> bool:
        return self._down_since is None or time.monotonic() >= self._retry_at

    def _failed(self, error: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning(
                    "Redis for rate limits does not answer (%s); counting in this process "
                    "until it does",
                    type(error).__name__,
                )

    def _answered(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "Redis for rate limits answers again after %.0f s; counting there again",
                    time.monotonic() - self._down_since,
                )
                self._down_since = None

    def _call(self, name: str, *args: Any) -> Any:
        if self._use_redis():
            try:
                result = getattr(self.redis, name)(*args)
            except Exception as error:  # noqa: BLE001 - any Redis failure means "use memory"
                self._failed(error)
            else:
                self._answered()
                return result
        return getattr(self.memory, name)(*args)

    # --- the Storage interface (the fixed-window strategy's part of it) --------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return int(self._call("incr", key, expiry, amount))

    def get(self, key: str) -> int:
        return int(self._call("get", key))

    def get_expiry(self, key: str) -> float:
        return float(self._call("get_expiry", key))

    def clear(self, key: str) -> None:
        self._call("clear", key)

    def reset(self) -> int | None:
        self.memory.reset()
        try:
            return self.redis.reset()
        except Exception as error:  # noqa: BLE001 - the memory counts are reset; say so
            self._failed(error)
            return None

    def check(self) -> bool:
        """Always usable: memory stands in for Redis."""
        return True

    def check_redis(self) -> bool:
        """Does Redis itself answer (what /readyz reports)?"""
        return bool(self.redis.check())
