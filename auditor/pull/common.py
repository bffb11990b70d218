"""What both pulls share: the time window, bounded ordered concurrency, the progress display."""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from pydantic import BaseModel

from auditor import __version__
from auditor.errors import UsageError
from auditor.pull.store import write_manifest

if TYPE_CHECKING:
    from auditor.pull.http import ApiClient
    from auditor.pull.store import ExportDir, RotatingWriter

WINDOW_FIELD = "updated_at >= from and created_at < to + 1 day"

T = TypeVar("T")
R = TypeVar("R")
MAX_WINDOW_DAYS = 366


class Window(BaseModel):
    """Whole UTC days, `start` inclusive and `end` exclusive, as unix seconds."""

    first_day: date
    last_day: date

    @property
    def start(self) -> int:
        return int(datetime.combine(self.first_day, datetime.min.time(), timezone.utc).timestamp())

    @property
    def end(self) -> int:
        return self.start + ((self.last_day - self.first_day).days + 1) * 86400

    def label(self) -> str:
        return f"{self.first_day.isoformat()} .. {self.last_day.isoformat()}"


def parse_window(first: str, last: str, today: date | None = None) -> Window:
    """--from and --to (YYYY-MM-DD, both days included) as a Window, or a UsageError."""
    days = []
    for option, value in (("--from", first), ("--to", last)):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            raise UsageError(f"{option} {value!r} is not a date",
                             hint="write it as YYYY-MM-DD, e.g. 2026-10-01") from None
    if days[1] < days[0]:
        raise UsageError(f"invalid window: --to {days[1]} is before --from {days[0]}")
    if (days[1] - days[0]).days + 1 > MAX_WINDOW_DAYS:
        raise UsageError(f"invalid window: {days[0]} .. {days[1]} is longer than "
                         f"{MAX_WINDOW_DAYS} days", hint="pull one month at a time")
    if days[0] > (today or datetime.now(timezone.utc).date()):
        raise UsageError(f"invalid window: --from {days[0]} is in the future")
    return Window(first_day=days[0], last_day=days[1])


def ordered_map(fn: Callable[[T], R], items: Iterable[T], concurrency: int) -> Iterator[R]:
    """fn over items on `concurrency` threads, results in the items' order, at most a few
    requests ahead of the consumer (so an interrupted pull has little in flight)."""
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="pull")
    pending: deque[Future[R]] = deque()
    source = iter(items)
    try:
        for item in source:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * concurrency:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def iso_utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Progress:
    """Counts, rate and ETA on stderr: one updating line on a terminal, else a line every
    few seconds. Nothing here ever sees a secret."""

    def __init__(self, label: str, total: int | None = None, *, done: int = 0,
                 stream: TextIO | None = None, quiet: bool = False) -> None:
        self.label, self.total, self.done, self.quiet = label, total, done, quiet
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started, self.start_done, self.shown = time.monotonic(), done, 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.shown >= (0.5 if self.tty else 5.0):
            self.shown = now
            self._show(end="\r" if self.tty else "\n")

    def finish(self) -> None:
        self._show(end="\n")

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = (self.done - self.start_done) / elapsed
        text = f"{self.label}: {self.done:,}"
        if self.total is not None:
            text += f"/{self.total:,}"
        text += f", {rate:,.1f}/s"
        if self.total is not None and rate > 0 and self.done < self.total:
            text += f", ETA {_duration((self.total - self.done) / rate)}"
        return text

    def _show(self, end: str) -> None:
        if not self.quiet:
            self.stream.write(self.line() + end)
            self.stream.flush()


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


class PullOptions(BaseModel):
    """What every pull takes besides the vendor's own options."""

    out: str
    window: Window
    base_url: str
    concurrency: int = 4
    timeout: float = 60.0
    max_attempts: int = 6
    max_items: int | None = None  # --max-conversations
    max_bytes: int = 64 << 20
    checkpoint_every: int = 500
    quiet: bool = False


def read_secret(env_name: str, what: str) -> str:
    """A credential from the environment (never from the command line), or a UsageError that
    names the variable."""
    import os

    from auditor.pull.http import remember_secret

    value = os.environ.get(env_name, "").strip()
    if not value:
        raise UsageError(f"{env_name} is not set", hint=f"export {env_name} with {what}; it is "
                                                        "read from the environment only")
    remember_secret(value)
    return value


def now_iso() -> str:
    return iso_utc(time.time())


def fetch_each(export: ExportDir, options: PullOptions, ids: list[str], *, phase: str,
               stem: str, label: str, fetch: Callable[[str], R],
               keep: Callable[[RotatingWriter, str, R], None]) -> None:
    """One request per id for a resumable phase: the ids not yet checkpointed, fetched
    `options.concurrency` at a time, kept in the ids' order by keep(writer, id, result), with a
    checkpoint after each id; the phase is marked done at the end."""
    done = export.phase(phase)
    if done.done:
        return
    writer = export.writer(phase, stem, max_bytes=options.max_bytes,
                           checkpoint_every=options.checkpoint_every)
    progress = Progress(label, len(ids), done=done.position, quiet=options.quiet)
    remaining = ids[done.position:]
    for item, result in zip(remaining, ordered_map(fetch, remaining, options.concurrency)):
        keep(writer, item, result)
        writer.commit()
        progress.advance()
    writer.close()
    progress.finish()
    export.phase(phase).done = True
    export.save()


def finish_pull(export: ExportDir, client: ApiClient, options: PullOptions, *, vendor: str,
                api_version: str, why: str, resumed: bool, **figures: Any) -> dict[str, Any]:
    """Write manifest.json (what was asked, what came back, how the API behaved) and mark the
    export finished; returns the manifest's body. `figures` are the vendor's own keys."""
    body = {
        "tool_version": __version__, "vendor": vendor, "api_version": api_version,
        "base_url": options.base_url,
        "window": {"from": options.window.first_day.isoformat(),
                   "to": options.window.last_day.isoformat(), "field": WINDOW_FIELD, "why": why},
        **figures,
        "requests": {"sent": client.counters.requests, "retried": client.counters.retries,
                     "rate_limited": client.counters.rate_limited},
        "resumed": resumed, "finished_at": now_iso(),
    }
    write_manifest(export, body)
    export.finish()
    return body
