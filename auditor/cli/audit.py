"""`auditor audit`, `auditor ingest` and `auditor demo`."""

from __future__ import annotations

import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from auditor.cli import EXIT_CODES_HELP, cli
from auditor.cli.render import echo_summary
from auditor.errors import ExitCode, UsageError
from auditor.pipeline import AuditRequest, audit, ingest_only
from auditor.reconcile import Period
from auditor.report.markdown import ai_agents_sentence
from auditor.report.model import Report
from auditor.sources import FORMATS, SourceOptions

LARGE_INPUT_BYTES = 20 * 1024 * 1024


def _progress(paths: list[str]) -> object:
    """Stage timings on stderr, only for inputs big enough to take more than a few seconds."""
    size = sum(_size(Path(p)) for p in paths)
    if size < LARGE_INPUT_BYTES and not os.environ.get("AUDITOR_PROGRESS"):
        return None
    return lambda message: click.echo(message, err=True)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def _period(_: click.Context, __: click.Parameter, value: str | None) -> Period | None:
    return Period.parse(value) if value else None


def _price(_: click.Context, __: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        price = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise UsageError(f"--unit-price '{value}' is not a price such as 0.99") from None
    if not price.is_finite() or not 0 <= price <= 1_000_000:
        raise UsageError(f"--unit-price '{value}' is not a price from 0 to 1,000,000")
    return price


def _finish(report: Report, out: Path | None) -> None:
    echo_summary(report)
    if out is not None:
        click.echo(f"\nReport written to {out}/ (report.md, report.json, findings.csv, "
                   "findings.parquet, quarantine.csv)")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("exports", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Export format; auto detects it per file.")
@click.option("--billed", "billed_csv", type=click.Path(), metavar="FILE",
              help="The vendor's billed list: CSV with conversation_id[, billed_at, amount].")
@click.option("--billed-from-labels", is_flag=True,
              help="Use the vendor's own labels in the export as the bill.")
@click.option("--billed-count", type=click.IntRange(min=0), metavar="N",
              help="A count-only invoice of N items.")
@click.option("--vendor", default=None,
              help="Rule set (id or .toml path) that reproduces the vendor's own count. "
                   "Default: by the export's format, zendesk-ai-agents for Zendesk, "
                   "intercom-fin otherwise.")
@click.option("--contract", default="strict", show_default=True,
              help="Rule set (id or .toml path) with your contract definition.")
@click.option("--period", callback=_period, metavar="START..END",
              help="Invoice period, dates inclusive, UTC; e.g. 2026-10-01..2026-10-31.")
@click.option("--unit-price", callback=_price, metavar="X",
              help="Price per item when neither the billed line nor the vendor rule set has one.")
@click.option("--id-column", default="conversation_id", show_default=True,
              help="Header of the conversation id column in the billed list.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write report.md, report.json, findings.csv/.parquet, quarantine.csv here.")
@click.option("--ai-agent-id", "ai_agent_ids", multiple=True, metavar="ID",
              help="Helpdesk user id of the vendor's AI agent (repeatable; Zendesk).")
def audit_command(exports: tuple[str, ...], fmt: str, billed_csv: str | None,
                  billed_from_labels: bool, billed_count: int | None, vendor: str | None,
                  contract: str, period: Period | None, unit_price: Decimal | None, id_column: str,
                  out: Path | None, ai_agent_ids: tuple[str, ...]) -> None:
    """Audit a vendor's bill against your conversation export.

    Every billed line gets one status: confirmed, disputed (with reason codes) or
    unverifiable (the conversation is not in the export).

    \b
    Example:
        auditor audit intercom_export.jsonl.gz --billed fin_invoice.csv \\
            --period 2026-10-01..2026-10-31 --out report/
        auditor audit events.parquet conversations.parquet --format canonical \\
            --billed-count 1840 --unit-price 0.99
        auditor audit zendesk_export/ --format zendesk --ai-agent-id 9100000001 \\
            --billed zendesk_invoice.csv
    """
    request = AuditRequest(
        exports=list(exports), format=fmt, billed_csv=billed_csv,
        billed_from_labels=billed_from_labels, billed_count=billed_count, vendor=vendor,
        contract=contract, period=period, unit_price=unit_price, id_column=id_column,
        ai_agent_ids=list(ai_agent_ids))
    report = audit(request, out, progress=_progress(list(exports)))  # type: ignore[arg-type]
    _finish(report, out)
    sys.exit(ExitCode.DISPUTES_FOUND if report.has_disputes else ExitCode.OK)


audit_command.name = "audit"


@cli.command(epilog="Exit codes: 0 converted, 2 usage or input error.")
@click.argument("exports", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Export format; auto detects it per file.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Canonical event log to write: .parquet, .csv or .jsonl.")
@click.option("--ai-agent-id", "ai_agent_ids", multiple=True, metavar="ID",
              help="Helpdesk user id of the vendor's AI agent (repeatable; Zendesk).")
def ingest(exports: tuple[str, ...], fmt: str, out: Path, ai_agent_ids: tuple[str, ...]) -> None:
    """Convert exports to the canonical event log (docs/canonical-schema.md).

    Conversation attributes go to OUT's sibling `<name>.conversations.<ext>`, records that
    could not become events to `<name>.quarantine.csv`.

    \b
    Example:
        auditor ingest intercom_export.jsonl.gz --out events.parquet
        auditor ingest zendesk_fivetran/ --format zendesk --out events.parquet
    """
    summary = ingest_only(list(exports), fmt, out,
                          SourceOptions(ai_agent_ids=list(ai_agent_ids)))
    click.echo(f"{summary.records_read:,} records -> {summary.events:,} events in "
               f"{summary.conversations:,} conversations ({summary.quarantined:,} quarantined); "
               f"wrote {out}")
    for line in [ai_agents_sentence(summary.ai_agents), *summary.notes]:
        if line:
            click.echo(line)


@cli.command(epilog="Exit codes: 0 the demo ran, 2 something is wrong with the installation.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("auditor-demo-report"), show_default=True,
              help="Where to write the demo report.")
def demo(out: Path) -> None:
    """Audit the bundled sample month: Intercom Fin, October 2026, a 6-agent team.

    \b
    Example:
        auditor demo
        auditor demo --out /tmp/demo-report
    """
    from auditor.demo import demo_request

    report = audit(demo_request(), out)
    _finish(report, out)
    click.echo("The demo exits 0; `auditor audit` exits 1 when it finds disputes.")
