"""`auditor sql` and the `--engine` options of `auditor audit`: the audit where the data lives."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from auditor.cli import cli
from auditor.errors import UsageError
from auditor.reconcile import Period
from auditor.rulesets import resolve_ruleset
from auditor.warehouse.dialects import DIALECTS
from auditor.warehouse.script import AuditPlan, script
from auditor.warehouse.sources import SOURCES, SourceTables

ENGINES = ("postgres", "spark")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$")


def table_name(_: click.Context | None, param: click.Parameter | None, value: str | None) -> str | None:
    if value is not None and not TABLE_NAME.match(value):
        name = f"--{param.name}" if param is not None and param.name else "table"
        raise UsageError(f"{name} '{value}' is not a table name",
                         "write schema.table or catalog.schema.table (letters, digits, _)")
    return value


def schema_name(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$",
                                          value):
        raise UsageError(f"--schema '{value}' is not a schema name",
                         "write schema or catalog.schema (letters, digits, _)")
    return value


def _absent(values: tuple[str, ...]) -> tuple[str, ...]:
    """--absent-column values; 'ai_agent_*' stands for every ai_agent column."""
    from auditor.warehouse import fivetran_intercom

    out: list[str] = []
    for value in values:
        if value.removeprefix("conversation_history.") == "ai_agent_*":
            out += [f"conversation_history.{c}" for c in fivetran_intercom.AI_AGENT_COLUMNS]
            continue
        table, _, column = value.rpartition(".")
        known = {f"{t}.{c.name}" for t, cs in fivetran_intercom.TABLES.items() for c in cs
                 if not c.required}
        name = value if table else f"conversation_history.{column}"
        if name not in known:
            raise UsageError(f"--absent-column '{value}' is not an optional column of the "
                             "Fivetran Intercom tables",
                             "optional: " + ", ".join(sorted(known)))
        out.append(name)
    return tuple(out)


def prefix_name(_: click.Context, __: click.Parameter, value: str) -> str:
    if not PREFIX.match(value):
        raise UsageError(f"--prefix '{value}' is not a table name prefix",
                         "letters, digits and _, optionally after 'schema.'")
    return value


def _sources() -> list[str]:
    import auditor.warehouse.sources  # noqa: F401  (registers the built-in sources)

    return sorted(SOURCES)


@cli.command(epilog="Exit codes: 0 written, 2 usage or rule-set error.")
@click.option("--dialect", type=click.Choice(DIALECTS), required=True,
              help="The engine the SQL is for.")
@click.option("--vendor", default="intercom-fin", show_default=True,
              help="Rule set (id or .toml path) that reproduces the vendor's own count.")
@click.option("--contract", default="strict", show_default=True,
              help="Rule set (id or .toml path) with your contract definition.")
@click.option("--period", metavar="START..END",
              help="Invoice period, dates inclusive, UTC; e.g. 2026-10-01..2026-10-31.")
@click.option("--unit-price", metavar="X", help="Price per billed unit without an amount.")
@click.option("--as-of", metavar="TIMESTAMP",
              help="End of observation, if later than the last event (UTC).")
@click.option("--source", default="canonical", show_default=True,
              help="How the input tables are laid out: canonical, or a connector's mapping "
                   "(fivetran-intercom).")
@click.option("--events", callback=table_name, metavar="TABLE",
              help="Events table (canonical schema, typed columns); --source canonical.")
@click.option("--schema", callback=schema_name, metavar="NAME",
              help="With a connector's --source: the schema holding its tables "
                   "(e.g. intercom).")
@click.option("--ai-agent-id", "ai_agent_ids", multiple=True, metavar="ID",
              help="With --source fivetran-intercom: the AI agent's author id (repeatable).")
@click.option("--absent-column", "absent_columns", multiple=True, metavar="TABLE.COLUMN",
              help="With --source fivetran-intercom: an optional column the tables lack "
                   "(repeatable; 'ai_agent_*' for all of Fivetran's ai_agent columns).")
@click.option("--conversations", callback=table_name, metavar="TABLE",
              help="Conversation attributes table (optional).")
@click.option("--billed", required=True, callback=table_name, metavar="TABLE",
              help="Billed units: line, unit, conversation_id, billed_at, amount.")
@click.option("--prefix", default="audit_", show_default=True, callback=prefix_name,
              help="Prefix of every table the SQL creates (may start with 'schema.').")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write audit.<dialect>.sql here instead of printing it.")
def sql(dialect: str, vendor: str, contract: str, period: str | None, unit_price: str | None,
        as_of: str | None, source: str, events: str | None, schema: str | None,
        ai_agent_ids: tuple[str, ...], absent_columns: tuple[str, ...],
        conversations: str | None, billed: str, prefix: str, out: Path | None) -> None:
    """Print the whole audit as SQL for a warehouse engine's own client.

    A preamble pins the session to UTC; then one statement per stage: the
    source's views, validation, facts, each rule set's verdicts, findings and a
    summary table with the report's figures. Run it with psql -f, spark-sql -f
    or the Snowflake and BigQuery consoles (those two are generated, not tested
    against the services: docs/warehouse.md).

    \b
    Example:
        auditor sql --dialect postgres --events support.events \\
            --conversations support.conversations --billed support.fin_billed \\
            --period 2026-10-01..2026-10-31 > audit.sql
        psql -f audit.sql "$DATABASE_URL"
        auditor sql --dialect spark --events lake.events --billed lake.billed \\
            --prefix audit_oct_ --out sql/
        auditor sql --dialect postgres --source fivetran-intercom \\
            --schema intercom --ai-agent-id 8130467 --billed support.fin_billed
    """
    from auditor.cli.audit import _as_of, _price

    plan = AuditPlan(
        vendor=resolve_ruleset(vendor), contract=resolve_ruleset(contract),
        tables=SourceTables(events, conversations, schema=schema,
                            ai_agent_ids=tuple(ai_agent_ids),
                            absent_columns=_absent(absent_columns)),
        billed=billed, prefix=prefix, source=source,
        period=Period.parse(period) if period else None,
        unit_price=_price(None, None, unit_price) if unit_price else  # type: ignore[arg-type]
        _default_price(vendor),
        as_of=_as_of(None, None, as_of))  # type: ignore[arg-type]
    text = script(plan, dialect)
    if out is None:
        click.echo(text, nl=False)
        return
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"audit.{dialect}.sql"
    target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {target}")


def _default_price(vendor: str) -> Decimal | None:
    price = resolve_ruleset(vendor).unit_price
    return Decimal(str(price)) if price is not None else None


# --- auditor audit --engine ------------------------------------------------------------------

def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --dsn, --events, --conversations, --source, --prefix and --spark-master."""
    for option in reversed((
        click.option("--engine", "engine_name", type=click.Choice(ENGINES), metavar="ENGINE",
                     help="Run the audit in this engine (postgres, spark) on --events instead "
                          "of reading EXPORTS here; the report is written here as usual."),
        click.option("--dsn", metavar="DSN",
                     help="PostgreSQL connection (e.g. 'host=db dbname=support user=audit'); "
                          "a password in it is never printed. Default: the PG* variables."),
        click.option("--events", "events_table", metavar="TABLE",
                     help="With --engine: the events table (Spark: a table or a Parquet path)."),
        click.option("--conversations", "conversations_table", metavar="TABLE",
                     help="With --engine: the conversation attributes table or Parquet path."),
        click.option("--source", default="canonical", show_default=True,
                     help="With --engine: how the tables are laid out (canonical, or a "
                          "connector's mapping)."),
        click.option("--prefix", default="audit_", show_default=True, callback=prefix_name,
                     help="With --engine: prefix of the work tables created in the engine."),
        click.option("--spark-master", default="local[*]", show_default=True, metavar="URL",
                     help="With --engine spark: the Spark master (local[*], spark://host:7077)."),
    )):
        command = option(command)
    return command


def audit_in_engine(options: dict[str, Any], request: Any, out: Path | None,
                    progress: Any) -> Any:
    """Run `request` in the engine the --engine options name; returns the Report."""
    from auditor.warehouse.run import WarehouseInput, audit_on_engine

    name, events = options["engine_name"], options["events_table"]
    if request.exports:
        raise UsageError("with --engine, the data is read in the engine: give --events TABLE "
                         "instead of export files")
    if not events:
        raise UsageError(f"--engine {name} needs --events TABLE")
    target = _connect(name, options)
    try:
        events, conversations = _inputs(target, name, events, options["conversations_table"])
        where = WarehouseInput(events, conversations, options["source"], options["prefix"])
        return audit_on_engine(target, request, where, out, progress)
    finally:
        target.close()


def _connect(name: str, options: dict[str, Any]) -> Any:
    if name == "postgres":
        from auditor.engines.postgres import PostgresEngine

        return PostgresEngine(options["dsn"] or "")
    from auditor.engines.spark import SparkEngine

    return SparkEngine.start(options["spark_master"])


def _inputs(target: Any, name: str, events: str, conversations: str | None) -> tuple[str, str | None]:
    """Table names; on Spark a path (Parquet) becomes a temporary view."""
    if name == "spark":
        return (target.register_input("audit_input_events", events),
                target.register_input("audit_input_conversations", conversations)
                if conversations else None)
    return table_name(None, None, events), table_name(None, None, conversations)  # type: ignore[return-value]
