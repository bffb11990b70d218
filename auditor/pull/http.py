"""The HTTP side of `auditor pull`: one httpx client, retries (tenacity), rate limits, secrets.

- 5xx answers, timeouts and connection errors are retried with exponential backoff and jitter,
  `max_attempts` times, then reported as one line naming the request.
- 429 waits for `Retry-After` (seconds) or until `X-RateLimit-Reset` (unix time), then retries
  (bounded too). Before the limit, a low `X-RateLimit-Remaining` spreads the requests left over
  the time until the reset, for every thread (one shared gate).
- 401, 403 and 404 become `ApiError`s a user can act on: the token's variable is named, never
  its value; 403 names the scope; the vendor module adds the region or subdomain hint.

Every wait is multiplied by AUDITOR_PULL_TIME_SCALE (default 1; the tests set it tiny).
Secrets only live in the client's headers; `redact` removes them from any text as a last guard.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import (
    RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential,
    wait_random,
)

from auditor import __version__
from auditor.errors import ApiError

TIME_SCALE_ENV = "AUDITOR_PULL_TIME_SCALE"
MAX_RATE_LIMIT_WAITS = 30  # 429s in a row for one request before giving up
MAX_WAIT_SECONDS = 120.0  # never trust a reset further away than this
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()


def time_scale() -> float:
    try:
        return max(0.0, float(os.environ.get(TIME_SCALE_ENV, "1")))
    except ValueError:
        return 1.0


def remember_secret(value: str) -> None:
    """Register a secret so that `redact` takes it out of any message."""
    if value:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "[secret]")
    return text


class Transient(Exception):
    """A failure worth retrying: 5xx, a timeout, a dropped connection."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Vendor:
    """What the client says about one helpdesk in its messages.

    token_names: the environment variables the credentials came from (named in a 401).
    scope_for: the scope a request path needs (named in a 403).
    not_found_hint: the hint for a 404 on the first request (a region or subdomain mix-up).
    """

    name: str
    token_names: str
    scope_for: Callable[[str], str]
    not_found_hint: str


@dataclass
class RateGate:
    """Shared by the threads: nobody sends before `not_before` (monotonic seconds)."""

    not_before: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self) -> None:
        with self.lock:
            delay = self.not_before - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def hold(self, seconds: float) -> None:
        with self.lock:
            self.not_before = max(self.not_before, time.monotonic() + seconds)


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


class ApiClient:
    """GET/POST JSON with retries and rate limits; thread-safe (one httpx.Client)."""

    def __init__(self, base_url: str, vendor: Vendor, *, headers: dict[str, str],
                 auth: httpx.Auth | None = None, timeout: float = 60.0,
                 max_attempts: int = 6, concurrency: int = 4) -> None:
        self.vendor, self.max_attempts, self.scale = vendor, max_attempts, time_scale()
        self.gate, self.counters = RateGate(), Counters()
        self.first_request = True
        limits = httpx.Limits(max_connections=concurrency + 1,
                              max_keepalive_connections=concurrency + 1)
        self._http = httpx.Client(base_url=base_url.rstrip("/"), auth=auth, timeout=timeout,
                                  limits=limits, follow_redirects=False, headers={
                                      "Accept": "application/json",
                                      "User-Agent": f"resolution-auditor/{__version__}",
                                      **headers})

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None, *,
            missing_ok: bool = False) -> dict | None:
        return self.request("GET", path, params=params, missing_ok=missing_ok)

    def post(self, path: str, body: dict) -> dict:
        result = self.request("POST", path, body=body)
        assert result is not None
        return result

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                body: dict | None = None, missing_ok: bool = False) -> dict | None:
        """The response's JSON; None for a 404 when `missing_ok` (deleted since listed)."""
        what = f"{method} {path}"
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts), reraise=False,
            retry=retry_if_exception_type(Transient),
            wait=(wait_exponential(multiplier=1.0 * self.scale, max=30.0 * self.scale)
                  + wait_random(0, 1.0 * self.scale)),
            before_sleep=lambda _state: self.counters.add("retries"))
        try:
            response = retrying(self._send, method, path, params, body)
        except RetryError as exc:
            reason = exc.last_attempt.exception()
            detail = reason.reason if isinstance(reason, Transient) else str(reason)
            raise ApiError(redact(f"{self.vendor.name} API: {what} failed {self.max_attempts} "
                                  f"times ({detail})"),
                           hint="the service or the network is having trouble; run the same "
                                "command again later: the pull resumes where it stopped") from None
        if response.status_code == 404 and missing_ok:
            return None
        self._raise_for_status(response, what)
        self.first_request = False
        try:
            value = response.json()
        except ValueError:
            raise ApiError(f"{self.vendor.name} API: {what} answered {response.status_code} "
                           "with a body that is not JSON",
                           hint="check --base-url: it should be the API's address") from None
        if not isinstance(value, dict):
            raise ApiError(f"{self.vendor.name} API: {what} answered JSON that is not an object")
        return value

    def _send(self, method: str, path: str, params: dict[str, Any] | None,
              body: dict | None) -> httpx.Response:
        """One attempt, waiting out 429s; raises Transient for what is worth retrying."""
        for _ in range(MAX_RATE_LIMIT_WAITS):
            self.gate.wait()
            self.counters.add("requests")
            try:
                response = self._http.request(method, path, params=params, json=body)
            except httpx.TimeoutException:
                raise Transient("timed out") from None
            except httpx.TransportError as exc:
                raise Transient(f"connection error: {type(exc).__name__}") from None
            if response.status_code == 429:
                self.counters.add("rate_limited")
                self.gate.hold(self._rate_limit_wait(response))
                continue
            if response.status_code >= 500:
                raise Transient(f"HTTP {response.status_code}")
            self._pace(response)
            return response
        raise ApiError(f"{self.vendor.name} API: {method} {path} was rate limited "
                       f"{MAX_RATE_LIMIT_WAITS} times in a row",
                       hint="another integration may be using the same limit; try again later "
                            "or with a lower --concurrency")

    def _rate_limit_wait(self, response: httpx.Response) -> float:
        retry_after = _number(response.headers.get("Retry-After"))
        if retry_after is not None:
            return min(retry_after, MAX_WAIT_SECONDS) * self.scale
        until_reset = _until_reset(response.headers)
        if until_reset is not None:
            return min(until_reset, MAX_WAIT_SECONDS) * self.scale
        return 10.0 * self.scale

    def _pace(self, response: httpx.Response) -> None:
        """Spread the requests left over the time to the reset when few are left."""
        headers = response.headers
        remaining = _number(headers.get("X-RateLimit-Remaining")
                            or headers.get("X-Rate-Limit-Remaining")
                            or headers.get("ratelimit-remaining"))
        limit = _number(headers.get("X-RateLimit-Limit") or headers.get("X-Rate-Limit")
                        or headers.get("ratelimit-limit"))
        if remaining is None or remaining > max(10.0, 0.1 * (limit or 0)):
            return
        until_reset = _until_reset(headers)
        window = until_reset if until_reset is not None else 10.0
        spread = min(window, MAX_WAIT_SECONDS) / max(remaining, 1.0)
        self.gate.hold(spread * self.scale * (1 + random.random() * 0.1))

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        status, vendor = response.status_code, self.vendor
        if status < 400:
            return
        path = what.split(" ", 1)[1]
        if status == 401:
            raise ApiError(f"{vendor.name} API: {what} was refused (401 Unauthorized): the "
                           f"credentials in {vendor.token_names} are not valid",
                           hint=f"set {vendor.token_names} to a current token; its value is "
                                "never shown")
        if status == 403:
            raise ApiError(f"{vendor.name} API: {what} is forbidden (403): the token in "
                           f"{vendor.token_names} lacks the scope "
                           f"'{vendor.scope_for(path)}'",
                           hint="give the app or token that permission and run again")
        if status == 404 and self.first_request:
            raise ApiError(f"{vendor.name} API: {what} was not found (404) at "
                           f"{self._http.base_url}", hint=vendor.not_found_hint)
        raise ApiError(redact(f"{vendor.name} API: {what} answered HTTP {status}: "
                              f"{_api_message(response)}"))


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _until_reset(headers: httpx.Headers) -> float | None:
    """Seconds until the limit resets: X-RateLimit-Reset is a unix time (Intercom),
    ratelimit-reset a number of seconds (Zendesk)."""
    reset = _number(headers.get("X-RateLimit-Reset"))
    if reset is not None:
        return max(0.0, reset - time.time()) if reset > 1e9 else max(0.0, reset)
    seconds = _number(headers.get("ratelimit-reset"))
    return max(0.0, seconds) if seconds is not None else None


def _api_message(response: httpx.Response) -> str:
    """The API's own error message, on one line."""
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip().splitlines() or ["(no message)"])[0][:200]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0])[:200]
    if isinstance(body, dict) and ("error" in body or "description" in body):
        return str(body.get("description") or body.get("error"))[:200]
    return str(body)[:200]
