"""`auditor audit`, `auditor ingest` and `auditor demo`."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from auditor.cli import EXIT_CODES_HELP, cli
from auditor.cli.options import json_option, param_option, source_options
from auditor.cli.warehouse import audit_in_engine, engine_options
from auditor.cli.render import echo_summary
from auditor.errors import ExitCode, UsageError
from auditor.pipeline import AuditRequest, audit, ingest_only
from auditor.report.evidence import EvidenceOptions
from auditor.reconcile import Period
from auditor.report.markdown import ai_agents_sentence
from auditor.report.model import Report
from auditor.report.write import report_json
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


def _as_of(_: click.Context, __: click.Parameter, value: str | None) -> datetime | None:
    """ISO 8601 with an offset or Z (naive = UTC; a date alone is its 00:00) -> naive UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--as-of '{value}' is not a time",
                         "for example 2026-11-01T00:00:00Z or 2026-11-01") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if not 1970 <= moment.year <= 2199:
        raise UsageError(f"--as-of '{value}' is outside the years 1970-2199")
    return moment


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


def _finish(report: Report, out: Path | None, evidence: EvidenceOptions | None = None) -> None:
    echo_summary(report)
    if out is not None:
        click.echo(_written(out))
    if evidence is not None:
        redacted = "personal data redacted" if evidence.redact else "NOT redacted"
        click.echo(f"Evidence pack written to {evidence.pack}/ and {evidence.pack}.zip "
                   f"(dispute letter, index, transcripts; {redacted})")


def _finish_json(report: Report, out: Path | None, evidence: EvidenceOptions | None) -> None:
    """--json: report.json's content alone on stdout; warnings, notes and where the files went
    on stderr, so `auditor audit ... --json > summary.json` keeps them visible."""
    for line in [f"Warning: {w}" for w in report.warnings] + [f"Note: {n}" for n in report.notes]:
        click.echo(line, err=True)
    if out is not None:
        click.echo(_written(out).lstrip("\n"), err=True)
    if evidence is not None:
        click.echo(f"Evidence pack written to {evidence.pack}/ and {evidence.pack}.zip", err=True)
    click.echo(report_json(report), nl=False)


def _written(out: Path) -> str:
    return (f"\nReport written to {out}/ (report.html, report.md, report.json, findings.csv, "
            "findings.parquet, quarantine.csv)")


def _evidence(pack: Path | None, no_redact: bool, letter_template: Path | None,
              out: Path | None) -> EvidenceOptions | None:
    if pack is not None and out is not None and pack.resolve() == out.resolve():
        raise UsageError("--evidence must be another folder than --out",
                         f"e.g. --evidence {out / 'evidence'}")
    if pack is None:
        if no_redact or letter_template:
            raise UsageError("--no-redact and --letter-template go with --evidence PACK")
        return None
    if letter_template is not None and not letter_template.is_file():
        raise UsageError(f"--letter-template {letter_template}: no such file")
    return EvidenceOptions(pack=pack, redact=not no_redact, letter_template=letter_template)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("exports", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Export format; auto detects it per file.")
@click.option("--billed", "billed_csv", type=click.Path(), metavar="FILE",
              help="The vendor's billed list: CSV with a conversation id column and optional "
                   "billed_at, amount and units columns (see above).")
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
              help="Price per item for billed lines without an amount (and a count-only "
                   "invoice); replaces the vendor rule set's price.")
@click.option("--id-column", metavar="NAME",
              help="Header of the billed list's conversation id column, when not recognised.")
@click.option("--billed-at-column", metavar="NAME",
              help="Header of the billed list's billing time column, when not recognised.")
@click.option("--amount-column", metavar="NAME",
              help="Header of the billed list's amount column, when not recognised.")
@click.option("--units-column", metavar="NAME",
              help="Header of the billed list's units (quantity) column, when not recognised.")
@click.option("--date-format", metavar="FORMAT",
              help="Format of the billed list's dates when not ISO 8601, in strptime codes, "
                   "e.g. '%d/%m/%Y %H:%M'.")
@click.option("--plan", metavar="ID|FILE",
              help="Pricing plan (see auditor price): adds what this month cost per "
                   "contract-confirmed item, next to the plan's list price.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write report.html, report.md, report.json, findings.csv/.parquet and "
                   "quarantine.csv here.")
@click.option("--evidence", "evidence_pack", type=click.Path(file_okay=False, path_type=Path),
              metavar="PACK", help="Write the evidence pack for the disputed lines: folder PACK "
                                   "and PACK.zip (transcripts, index, dispute letter, README).")
@click.option("--no-redact", is_flag=True,
              help="Keep personal data in the evidence pack's transcripts (redacted by default).")
@click.option("--letter-template", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Your own Jinja2 template for the dispute letter (.md or "
                                   ".html); fields in docs/reports.md.")
@click.option("--as-of", callback=_as_of, metavar="TIMESTAMP",
              help="When the export was taken, if later than its last event (e.g. "
                   "2026-11-01T00:00:00Z): the end of observation for waits and windows.")
@param_option()
@param_option("--vendor-param", "vendor_params", "the vendor rule set", "negative_rating_max=3")
@json_option("report.json's content")
@engine_options
@source_options
def audit_command(exports: tuple[str, ...], fmt: str, billed_csv: str | None,
                  billed_from_labels: bool, billed_count: int | None, vendor: str | None,
                  contract: str, period: Period | None, unit_price: Decimal | None,
                  id_column: str | None, billed_at_column: str | None,
                  amount_column: str | None, units_column: str | None, date_format: str | None,
                  plan: str | None, out: Path | None, evidence_pack: Path | None,
                  no_redact: bool, letter_template: Path | None, as_of: datetime | None,
                  params: dict[str, str], vendor_params: dict[str, str], as_json: bool,
                  sources: SourceOptions, **engine: Any) -> None:
    """Audit a vendor's bill against your conversation export.

    Every billed line gets one status: confirmed, disputed (with reason codes) or
    unverifiable (the conversation is not in the export).

    \b
    The billed list (--billed FILE) is a CSV, one line per billed item, with
    columns found by their header (any case, spaces or underscores), or named:
      conversation id  conversation_id, Conversation ID, ticket_id  --id-column
      billing time     billed_at, Billed At, date, resolved_at  --billed-at-column
      amount           amount, Amount, price, cost  --amount-column
      units            units, quantity, qty (default 1)  --units-column
    Two headers for one column is an error: name one. Other columns are
    listed in the report's notes. Dates: ISO 8601, epoch seconds, or
    29/09/2026-style dates, read day- or month-first when a value tells
    (29/09 is day-first), else name the format with --date-format; no time
    zone means UTC. Amounts: 0.99, 0,99, $0.99, 0.99 USD, €0,99, 1,234.50;
    a negative amount, -0.99 or (0.99), is a credit: reported apart, never
    billed or disputed. Total rows at the end of the file (Total, Sum,
    Subtotal, or an empty id) are left out, with a note. Lines without an
    amount cost --unit-price, else the vendor rule set's price.

    \b
    Example:
        auditor audit intercom_export.jsonl.gz --billed fin_invoice.csv \\
            --period 2026-10-01..2026-10-31 --out report/
        auditor audit intercom_export.jsonl.gz --billed invoice_from_excel.csv \\
            --id-column "Conv #" --amount-column "Fee (net)" \\
            --date-format '%d/%m/%Y %H:%M' --unit-price 0.90
        auditor audit events.parquet conversations.parquet --format canonical \\
            --billed-count 1840 --unit-price 0.99
        auditor audit zendesk_export/ --format zendesk --ai-agent-id 9100000001 \\
            --billed zendesk_invoice.csv
        auditor audit intercom_export.jsonl.gz --billed fin_invoice.csv \\
            --as-of 2026-11-01T00:00:00Z --plan intercom-fin
        auditor audit intercom_export.jsonl.gz --billed fin_invoice.csv \\
            --period 2026-10-01..2026-10-31 --out report/ --evidence report/evidence
        auditor audit intercom_export.jsonl.gz --billed fin_invoice.csv \\
            --param repeat_contact_hours=168 --vendor-param negative_rating_max=3
        auditor audit intercom_export.jsonl.gz --billed fin_invoice.csv \\
            --out report/ --json > summary.json
        auditor audit --engine postgres --dsn 'host=db dbname=support' \\
            --events support.events --conversations support.conversations \\
            --billed fin_invoice.csv --out report/
        auditor audit --engine spark --events s3a://lake/events/ \\
            --billed fin_invoice.csv --spark-master spark://head:7077
    """
    evidence = _evidence(evidence_pack, no_redact, letter_template, out)
    request = AuditRequest(
        exports=list(exports), format=fmt, billed_csv=billed_csv,
        billed_from_labels=billed_from_labels, billed_count=billed_count, vendor=vendor,
        contract=contract, period=period, unit_price=unit_price, id_column=id_column,
        billed_at_column=billed_at_column, amount_column=amount_column,
        units_column=units_column, date_format=date_format, plan=plan, sources=sources,
        as_of=as_of, contract_params=params, vendor_params=vendor_params)
    if engine["engine_name"]:  # the audit runs where the data lives (docs/warehouse.md)
        report = audit_in_engine(engine, request, out, lambda m: click.echo(m, err=True))
    elif not exports:
        raise UsageError("give the export file(s) to audit, or --engine with --events TABLE")
    else:
        report = audit(request, out, progress=_progress(list(exports)),  # type: ignore[arg-type]
                       evidence=evidence)
    if as_json:
        _finish_json(report, out, evidence)
    else:
        _finish(report, out, evidence)
    sys.exit(ExitCode.DISPUTES_FOUND if report.has_disputes else ExitCode.OK)


audit_command.name = "audit"


@cli.command(epilog="Exit codes: 0 converted, 2 usage or input error.")
@click.argument("exports", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Export format; auto detects it per file.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Canonical event log to write: .parquet, .csv or .jsonl.")
@source_options
def ingest(exports: tuple[str, ...], fmt: str, out: Path, sources: SourceOptions) -> None:
    """Convert exports to the canonical event log (docs/canonical-schema.md).

    Conversation attributes go to OUT's sibling `<name>.conversations.<ext>`, records that
    could not become events to `<name>.quarantine.csv`.

    \b
    Example:
        auditor ingest intercom_export.jsonl.gz --out events.parquet
        auditor ingest zendesk_fivetran/ --format zendesk --out events.parquet
    """
    summary = ingest_only(list(exports), fmt, out, sources)
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
@click.option("--trend", "with_trend", is_flag=True,
              help="Also audit November and December into OUT/2026-11 and OUT/2026-12 and "
                   "compare the three months in OUT/trend/ (auditor trend).")
def demo(out: Path, with_trend: bool) -> None:
    """Audit the bundled sample month: Intercom Fin, October 2026, a 6-agent team.

    Writes the report (report.html to open in a browser) and the evidence pack in
    OUT/evidence/ (and OUT/evidence.zip).

    \b
    Example:
        auditor demo
        auditor demo --out /tmp/demo-report
        auditor demo --trend
    """
    from auditor.demo import LATER_MONTHS, demo_request

    evidence = EvidenceOptions(pack=out / "evidence")
    report = audit(demo_request(), out, evidence=evidence)
    _finish(report, out, evidence)
    if with_trend:
        from auditor.cli.trend import render
        from auditor.trend import trend, write_outputs

        for month in LATER_MONTHS:
            audit(demo_request(month), out / month)
        result = trend([out, *(out / m for m in LATER_MONTHS)])
        write_outputs(result, out / "trend")
        click.echo("\nMonth over month (auditor trend):")
        for line in render(result):
            click.echo(line)
        click.echo(f"Written to {out}/trend/ (trend.md, trend.json, trend.html)")
    click.echo("The demo exits 0; `auditor audit` exits 1 when it finds disputes.")
