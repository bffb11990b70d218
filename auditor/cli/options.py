"""Options shared by commands: what the user tells the adapters, and rule-set param overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from auditor.rulesets.overrides import parse_assignments
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
                     help="Helpdesk user or author id of the vendor's AI agent (repeatable; "
                          "Zendesk, Intercom, Fivetran Intercom)."),
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


def _assignments(_: click.Context, param: click.Parameter,
                 values: tuple[str, ...]) -> dict[str, str]:
    return parse_assignments(values, param.opts[0])


def param_option(flag: str = "--param", dest: str = "params",
                 role: str = "the contract rule set",
                 example: str = "repeat_contact_hours=168") -> Callable[..., Any]:
    """A repeatable NAME=VALUE option for rule-set param overrides (what-ifs); the command gets
    {name: text}, for `RuleSet.with_overrides(..., option=flag)`."""
    return click.option(
        flag, dest, multiple=True, metavar="NAME=VALUE", callback=_assignments,
        help=f"Set a param of {role} for this run (repeatable), e.g. {example}; lists are "
             "comma-separated, booleans true/false; `auditor rules show ID` lists the params. "
             "The output lists every override.")


def json_option(what: str) -> Callable[..., Any]:
    """--json: one JSON document on stdout and nothing else (progress and notes on stderr)."""
    return click.option("--json", "as_json", is_flag=True,
                        help=f"Print {what} as one JSON document on stdout, nothing else; "
                             "notes and progress go to stderr.")
