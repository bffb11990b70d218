"""`auditor pull intercom|zendesk`: the month's conversations from the helpdesk's API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from auditor.cli import cli
from auditor.errors import AuditorError, UsageError
from auditor.pull import intercom, zendesk
from auditor.pull.common import PullOptions, parse_window
from auditor.pull.http import redact

PULL_EPILOG = ("Exit codes: 0 pulled, 2 usage, credentials or API error (the message says what "
               "to do). Run the same command again to resume an interrupted pull.")


@cli.group(name="pull")
def pull_group() -> None:
    """Download a month of conversations, with all their messages, from the helpdesk's API into
    a folder `auditor audit` reads as it is. Credentials come from environment variables only.

    \b
    Example:
        INTERCOM_TOKEN=... auditor pull intercom --from 2026-10-01 --to 2026-10-31 --out oct/
        auditor audit oct/ --billed invoice_lines.csv --out report/
    """


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--from", "first", required=True, metavar="YYYY-MM-DD",
                     help="First day of the window (UTC, included)."),
        click.option("--to", "last", required=True, metavar="YYYY-MM-DD",
                     help="Last day of the window (UTC, included)."),
        click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
                     metavar="EXPORT_DIR", help="Folder for the export (new, or the folder of "
                                                "an interrupted pull to resume)."),
        click.option("--base-url", metavar="URL", help="The API's address (a proxy, a test "
                                                       "server); overrides the default."),
        click.option("--concurrency", type=click.IntRange(1, 16), default=4, show_default=True,
                     help="Requests in flight at once."),
        click.option("--timeout", type=click.FloatRange(0.1, 600), default=60.0,
                     show_default=True, metavar="SECONDS", help="Per request."),
        click.option("--retries", type=click.IntRange(1, 20), default=6, show_default=True,
                     help="Attempts per request on 5xx, timeouts and dropped connections."),
        click.option("--file-size-mb", type=click.FloatRange(0.001, 4096), default=64.0,
                     show_default=True,
                     help="Start a new output file after this much JSON (before gzip, which "
                          "makes it 5-10 times smaller)."),
        click.option("--checkpoint-every", type=click.IntRange(1), default=500,
                     show_default=True, metavar="N",
                     help="Seal a file (a resume point) at least every N conversations."),
        click.option("--quiet", is_flag=True, help="No progress display on stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def pull_options(kwargs: dict[str, Any], base_url: str, max_items: int | None) -> PullOptions:
    if "@" in base_url.split("//", 1)[-1].split("/", 1)[0]:
        raise UsageError("--base-url must not carry credentials",
                         hint="credentials come from the environment variables only")
    return PullOptions(out=str(kwargs["out"]), window=parse_window(kwargs["first"],
                                                                   kwargs["last"]),
                       base_url=base_url, concurrency=kwargs["concurrency"],
                       timeout=kwargs["timeout"], max_attempts=kwargs["retries"],
                       max_items=max_items, max_bytes=int(kwargs["file_size_mb"] * (1 << 20)),
                       checkpoint_every=kwargs["checkpoint_every"], quiet=kwargs["quiet"])


@pull_group.command(name="intercom", epilog=PULL_EPILOG)
@common_options
@click.option("--region", type=click.Choice(sorted(intercom.REGIONS)), default="us",
              show_default=True, help="Where the workspace is hosted.")
@click.option("--api-version", default=intercom.DEFAULT_API_VERSION, show_default=True,
              help="Sent as the Intercom-Version header.")
@click.option("--token-env", default=intercom.TOKEN_ENV, show_default=True, metavar="NAME",
              help="The environment variable holding the access token.")
@click.option("--max-conversations", type=click.IntRange(1), metavar="N",
              help="Stop after N conversations (to try it out).")
def pull_intercom(region: str, api_version: str, token_env: str, max_conversations: int | None,
                  **kwargs: Any) -> None:
    """Intercom conversations updated in the window (including ones created earlier and
    reopened in it), each with every part, to EXPORT_DIR/conversations-*.jsonl.gz plus
    manifest.json. The token needs "Read conversations" and "Read admins".

    \b
    Example:
        export INTERCOM_TOKEN=...   # never on the command line
        auditor pull intercom --from 2026-10-01 --to 2026-10-31 --out intercom_2026-10/
        auditor pull intercom --region eu --from 2026-10-01 --to 2026-10-31 \\
            --out oct/ --max-conversations 50
    """
    options = pull_options(kwargs, intercom.base_url(region, kwargs["base_url"]),
                           max_conversations)
    body = guarded(lambda: intercom.pull(options, token_env=token_env, region=region,
                                         api_version=api_version))
    _done(options.out, body, "conversations")


@pull_group.command(name="zendesk", epilog=PULL_EPILOG)
@common_options
@click.option("--subdomain", metavar="ACME", help="The account: ACME for acme.zendesk.com.")
@click.option("--max-tickets", "--max-conversations", "max_tickets", type=click.IntRange(1),
              metavar="N", help="Stop after N tickets (to try it out).")
def pull_zendesk(subdomain: str | None, max_tickets: int | None, **kwargs: Any) -> None:
    """Zendesk tickets updated in the window, with their comments, the users they name and
    their metrics, to EXPORT_DIR as the API returns them, plus manifest.json. Credentials:
    ZENDESK_EMAIL + ZENDESK_API_TOKEN (an admin's API token) or ZENDESK_OAUTH_TOKEN (scope
    read, or tickets:read and users:read).

    \b
    Example:
        export ZENDESK_EMAIL=admin@acme.example ZENDESK_API_TOKEN=...
        auditor pull zendesk --subdomain acme --from 2026-10-01 --to 2026-10-31 \\
            --out zendesk_2026-10/
    """
    options = pull_options(kwargs, zendesk.base_url(subdomain, kwargs["base_url"]),
                           max_tickets)
    body = guarded(lambda: zendesk.pull(options, subdomain=subdomain))
    _done(options.out, body, "tickets")


def guarded(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a pull; an interruption says how to resume, and no message can carry a secret (an
    unexpected error's text is redacted before the CLI prints it)."""
    try:
        return run()
    except AuditorError as exc:
        exc.message = redact(exc.message)
        raise
    except KeyboardInterrupt:
        raise AuditorError("interrupted", hint="run the same command again: the pull resumes "
                                               "from its checkpoint") from None
    except Exception as exc:  # a bug: one redacted line, as the CLI reports any other
        first = (redact(str(exc)).strip().splitlines() or [""])[0]
        raise AuditorError(f"internal error ({type(exc).__name__}: {first}); please report it "
                           "with the command you ran (credentials are never needed)") from None


def _done(out: str, body: dict[str, Any], unit: str) -> None:
    counts = body["counts"]
    extra = f", {counts['incomplete']:,} incomplete (listed in manifest.json)" \
        if counts.get("incomplete") else ""
    click.echo(f"Pulled {counts['fetched']:,} {unit} of {body['window']['from']} .. "
               f"{body['window']['to']} into {out}/{extra}.")
    click.echo(f"Next: auditor audit {out} --billed BILLED.csv --out report/")
