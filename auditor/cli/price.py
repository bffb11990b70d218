"""`auditor price`: what the month costs under each pricing plan."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from auditor.cli import cli
from auditor.cli.audit import _period
from auditor.cli.compare import _names
from auditor.cli.options import param_option, source_options
from auditor.errors import UsageError
from auditor.pricing.costing import PriceOptions
from auditor.pricing.run import PriceRequest, model_only, price
from auditor.pricing.render import model_lines, terminal_lines
from auditor.pricing.write import FILES
from auditor.reconcile import Period
from auditor.sources import FORMATS, SourceOptions


def _decimal(option: str, example: str, low: Decimal, high: Decimal) -> Callable[..., object]:
    def parse(_: click.Context, __: click.Parameter, value: str | None) -> Decimal | None:
        if value is None:
            return None
        text = value.strip().lstrip("$")
        try:
            number = (Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text))
        except InvalidOperation:
            raise UsageError(f"{option} '{value}' is not a number such as {example}") from None
        if not number.is_finite() or not low <= number <= high:
            raise UsageError(f"{option} '{value}' is not from {low:,} to {high:,}")
        return number
    return parse


def _prices(_: click.Context, __: click.Parameter, values: tuple[str, ...]) -> dict[str, Decimal]:
    """--price PLAN=X or PLAN.CHARGE=X, repeatable."""
    parse = _decimal("--price", "0.99", Decimal(0), Decimal(1_000_000))
    prices: dict[str, Decimal] = {}
    for value in values:
        key, sep, amount = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--price '{value}' is not PLAN=X or PLAN.CHARGE=X",
                             "e.g. --price per-conversation=0.50")
        prices[key.strip()] = parse(_, __, amount)  # type: ignore[assignment]
    return prices


@cli.command(name="price", epilog="Exit codes: 0 priced, 2 usage or input error.")
@click.argument("exports", nargs=-1, type=click.Path())
@click.option("--plans", callback=_names, metavar="ID|FILE,...",
              help="Pricing plans (built-in ids or .toml paths), comma-separated; default: "
                   "every built-in plan.")
@click.option("--contract", default="strict", show_default=True,
              help="Rule set (id or .toml path) that says which conversations the AI resolved.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Export format; auto detects it per file.")
@click.option("--period", callback=_period, metavar="START..END",
              help="Only conversations whose AI's last message (else first event) is in these "
                   "dates (UTC).")
@click.option("--seats", type=click.IntRange(min=0), metavar="N",
              help="Seats for every per-seat charge (the team's size).")
@click.option("--seat-price", callback=_decimal("--seat-price", "39", Decimal(0),
                                                Decimal(1_000_000)), metavar="X",
              help="Price of a seat for per-seat charges without a price of their own.")
@click.option("--price", "prices", multiple=True, callback=_prices, metavar="PLAN[.CHARGE]=X",
              help="Set a charge's price (repeatable); PLAN alone sets its usage charge.")
@click.option("--human-cost", callback=_decimal("--human-cost", "6", Decimal(0),
                                                Decimal(1_000_000)), metavar="X",
              help="What a ticket handled by a person costs; gives each plan's saving and net.")
@click.option("--context-tokens", type=click.IntRange(min=0), metavar="N",
              help="Estimated tokens of instructions and articles your agent sends with every "
                   "AI turn, for per-token plans (default: the plan's; 0 in the built-in ones).")
@click.option("--conversations", type=click.IntRange(min=0), metavar="N",
              help="Model a month of N conversations from figures (default with an export: "
                   "its conversations).")
@click.option("--deflection", callback=_decimal("--deflection", "0.60", Decimal(0), Decimal(1)),
              metavar="D", help="Share the AI is expected to resolve, 0-1 (or 60%), for the "
                                "model from figures.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write price.md, price.json and price.csv (one row per conversation).")
@param_option()
@source_options
def price_command(exports: tuple[str, ...], plans: list[str], contract: str, fmt: str,
                  period: Period | None, seats: int | None, seat_price: Decimal | None,
                  prices: dict[str, Decimal], human_cost: Decimal | None,
                  context_tokens: int | None, conversations: int | None,
                  deflection: Decimal | None, out: Path | None, params: dict[str, str],
                  sources: SourceOptions) -> None:
    """What the month costs under each pricing plan: per resolution, per conversation,
    per seat, flat, per token.

    With an export: for each plan, its billable units, cost, cost per
    conversation and per resolution your contract definition confirms, the
    saving against human handling (--human-cost per ticket the contract says
    the AI resolved) and the net; the vendor's own count next to the
    contract's. Cheapest AI cost first. Token counts come from the export's
    tokens_in/tokens_out/tokens_reasoning columns, else are estimated from the
    text (and say so). Prices a vendor does not publish are not guessed: set
    them with --price or --seat-price.

    With --conversations and --deflection (no export): the month modelled
    from figures, as in a buyer's spreadsheet. With both an export and
    --deflection: the model against the real month.

    \b
    Example:
        auditor price sample_data/intercom_2026-10.jsonl.gz \\
            --period 2026-10-01..2026-10-31 --human-cost 6 --seats 6 \\
            --seat-price 39 --price per-conversation=0.50 --out price/
        auditor price --conversations 3000 --deflection 0.60 --plans intercom-fin \\
            --seats 6 --seat-price 39 --human-cost 6
        auditor price export.jsonl.gz --deflection 0.60 --plans intercom-fin,my-plan.toml
        auditor price export.jsonl.gz --plans intercom-fin --param repeat_contact_hours=168
    """
    options = PriceOptions(seats=seats, seat_price=seat_price, prices=prices,
                           human_cost=human_cost, context_tokens=context_tokens)
    request = PriceRequest(exports=list(exports), plans=plans, contract=contract,
                           contract_params=params, format=fmt,
                           period=period, sources=sources, options=options,
                           conversations=conversations, deflection=deflection)
    if not exports:
        for line in model_lines(model_only(request)):
            click.echo(line)
        return
    report = price(request, out)
    for line in terminal_lines(report):
        click.echo(line)
    if out is not None:
        click.echo(f"\nWritten to {out}/ ({', '.join(FILES)})")
