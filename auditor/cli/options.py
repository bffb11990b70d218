"""Options shared by the commands that read an export: what the user tells the adapters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from auditor.sources import BAD_RECORD_MODES, SourceOptions


def source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --ai-agent-id, --null-string and --on-bad-record; the command gets `sources`."""
    def build(**kwargs: Any) -> Any:
        kwargs["sources"] = SourceOptions(
            ai_agent_ids=list(kwargs.pop("ai_agent_ids")),
            null_strings=list(kwargs.pop("null_strings")),
            on_bad_record=kwargs.pop("on_bad_record"))
        return command(**kwargs)

    build.__name__, build.__doc__ = command.__name__, command.__doc__
    for option in reversed((
        click.option("--ai-agent-id", "ai_agent_ids", multiple=True, metavar="ID",
                     help="Helpdesk user id of the vendor's AI agent (repeatable; Zendesk)."),
        click.option("--null-string", "null_strings", multiple=True, metavar="TEXT",
                     help="Another spelling of a missing value in canonical CSV input "
                          "(repeatable; NULL, null, \\N and empty cells always are)."),
        click.option("--on-bad-record", type=click.Choice(BAD_RECORD_MODES),
                     default="quarantine", show_default=True,
                     help="quarantine: set a bad record aside and leave its conversation "
                          "unverifiable; fail: stop with exit code 2 at the first one."),
    )):
        build = option(build)
    return build
