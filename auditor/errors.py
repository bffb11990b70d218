"""One error hierarchy for the whole tool, and the documented exit codes.

Library code raises an `AuditorError` subclass; the CLI turns it into a one-line message and
exit code 2. Messages name the file, the record (line, index or id) and the field, so an ops
analyst can find the problem without reading a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every `auditor` command.

    0: finished, and nothing billed is disputed.
    1: finished, and at least one billed item is disputed (or over-billing was estimated).
    2: usage or input error: nothing was audited; the message says what to fix.
    """

    OK = 0
    DISPUTES_FOUND = 1
    USAGE_OR_INPUT_ERROR = 2


class AuditorError(Exception):
    """Base of every error the tool reports to a user."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(AuditorError):
    """An input file cannot be read or does not have the expected shape."""

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        record: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = path + (f", {record}" if record else "") + (f", field '{field}'" if field else "")
        super().__init__(f"{where}: {problem}", hint)
        self.path, self.record, self.field, self.problem = path, record, field, problem


class RuleSetError(AuditorError):
    """A rule-set file is malformed, or an expression in it is not allowed.

    `excerpt`: the expression's line with a caret under the problem, shown after the message.
    """

    def __init__(self, source: str, key: str | None, problem: str, hint: str | None = None,
                 excerpt: str | None = None) -> None:
        where = source + (f", key '{key}'" if key else "")
        super().__init__(f"{where}: {problem}", hint)
        self.source, self.key, self.problem, self.excerpt = source, key, problem, excerpt

    def __str__(self) -> str:
        return super().__str__() + (f"\n{self.excerpt}" if self.excerpt else "")


class PlanError(RuleSetError):
    """A pricing-plan file is malformed (same shape of message as a rule-set file's)."""


class UsageError(AuditorError):
    """Options that do not fit together, or a value that is not allowed."""


class ApiError(AuditorError):
    """`auditor pull`: the helpdesk API refused a request (a token, a scope, a region) or kept
    failing after the retries; the message names the request and what to do, never a secret."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return a "did you mean ...?" hint for an unknown name, or None if nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
