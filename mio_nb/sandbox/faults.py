"""Fault injection for the sandbox: latency, errors, dropped connections, limits, short tokens.

All knobs are off by default. ``Sandbox(faults=Faults(error_rate=0.2, seed=1))`` or, while it
runs, ``sb.set_faults(Faults(drop_rate=0.5, only_paths=("/v1/task/face-swap",)))``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

Phase = Literal["before", "after"]
#: What happens to one request: answered normally, HTTP 500, HTTP 502 or dropped.
Outcome = Literal["ok", "error", "bad_gateway", "drop"]


@dataclass(frozen=True)
class Faults:
    """Knobs that make the sandbox misbehave like a real service on a bad day.

    latency: seconds added to every API request.
    error_rate: share of API requests answered HTTP 500 with a JSON envelope of code 500.
    bad_gateway_rate: share answered HTTP 502 with an HTML page (as a proxy would).
    drop_rate: share of connections closed with no answer at all.
    fault_phase: "before" the request is handled, or "after" it was handled (a task created,
        an upload stored) and only the answer is lost or replaced. "after" concerns POST and
        PUT; a GET (nothing to lose) always gets its fault before.
    only_paths: the paths the three shares (and latency) apply to; None means every API path.
        Storage requests are affected only when listed here, e.g. ``("/storage",)``.
    rate_limit_per_minute: code 802 once this many API requests were served in a sliding minute.
    rate_limit_window: the length of that sliding "minute" in seconds (shorter in tests).
    credits: code 801 once this many tasks were created (counted from when the faults were set).
    token_ttl: every token, the static one too, expires this many seconds after issue (401).
    task_seconds: every task takes at least this long.
    seed: seed of the random draws, for reproducible runs.
    """

    latency: float = 0.0
    error_rate: float = 0.0
    bad_gateway_rate: float = 0.0
    drop_rate: float = 0.0
    fault_phase: Phase = "before"
    only_paths: tuple[str, ...] | None = None
    rate_limit_per_minute: int | None = None
    rate_limit_window: float = 60.0
    credits: int | None = None
    token_ttl: float | None = None
    task_seconds: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "bad_gateway_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if self.error_rate + self.bad_gateway_rate + self.drop_rate > 1.0 + 1e-9:
            raise ValueError("error_rate + bad_gateway_rate + drop_rate must not exceed 1")
        if self.fault_phase not in ("before", "after"):
            raise ValueError(f"fault_phase must be 'before' or 'after', not {self.fault_phase!r}")
        if self.latency < 0 or self.task_seconds < 0:
            raise ValueError("latency and task_seconds must not be negative")
        if self.only_paths is not None:
            object.__setattr__(self, "only_paths", tuple(self.only_paths))

    def applies_to(self, path: str, *, is_api: bool) -> bool:
        """Whether latency and the random shares apply to a request for ``path``."""
        if self.only_paths is None:
            return is_api
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.only_paths)


class FaultState:
    """The live faults plus their counters (random draws, rate window, credits), thread-safe."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self.set(faults or Faults())

    def set(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)
            self._tasks_created = 0
            self._window.clear()

    def draw(self, path: str, *, is_api: bool) -> Outcome:
        """The fate of one request (one random draw per affected request)."""
        with self._lock:
            f = self.faults
            if not f.applies_to(path, is_api=is_api):
                return "ok"
            if f.drop_rate + f.error_rate + f.bad_gateway_rate <= 0:
                return "ok"
            r = self._random.random()
        if r < f.drop_rate:
            return "drop"
        if r < f.drop_rate + f.error_rate:
            return "error"
        if r < f.drop_rate + f.error_rate + f.bad_gateway_rate:
            return "bad_gateway"
        return "ok"

    def latency_for(self, path: str, *, is_api: bool) -> float:
        f = self.faults
        return f.latency if f.latency and f.applies_to(path, is_api=is_api) else 0.0

    def allow_request(self) -> float | None:
        """Count one API request in the sliding minute: None when it is allowed, else the
        seconds until the window has room again (over the rate limit: answer 802)."""
        with self._lock:
            limit = self.faults.rate_limit_per_minute
            if limit is None:
                return None
            now = time.monotonic()
            window = self.faults.rate_limit_window
            while self._window and now - self._window[0] >= window:
                self._window.popleft()
            if len(self._window) >= limit:
                return window - (now - self._window[0]) if self._window else window
            self._window.append(now)
            return None

    def take_credit(self) -> bool:
        """Spend one credit for a new task; False when none is left."""
        with self._lock:
            credits = self.faults.credits
            if credits is not None and self._tasks_created >= credits:
                return False
            self._tasks_created += 1
            return True

    def refund_credit(self) -> None:
        with self._lock:
            self._tasks_created = max(0, self._tasks_created - 1)
