"""Pricing-plan files: the format is checked like rule sets', and the built-in plans name
their sources."""

from __future__ import annotations

from decimal import Decimal

import pytest

from auditor.errors import PlanError
from auditor.pricing.bands import Band, band_cost, bands
from auditor.pricing.plans import list_plans, plan_from_text

HEAD = """
id = "my-plan"
version = "1.0.0"
title = "My plan"
vendor = "Acme"
description = "A test plan."
"""
PER_UNIT = """
[[charges]]
name = "resolutions"
kind = "per_unit"
ruleset = "intercom-fin"
"""


def load(text: str) -> object:
    return plan_from_text(HEAD + text, "my-plan.toml")


# (what is wrong, plan text after HEAD, key in the message, words in the message)
BAD_FILES = [
    ("unknown key", PER_UNIT + "prce = 0.99\n", "charges[1].prce",
     "unknown key 'prce' (did you mean 'price'?)"),
    ("unknown top-level key", "vendr = 'x'\n" + PER_UNIT, "vendr", "did you mean 'vendor'?"),
    ("unknown kind", '[[charges]]\nname = "x"\nkind = "per_seats"\n', "charges[1].kind",
     "unknown kind 'per_seats' (did you mean 'per_seat'?)"),
    ("no kind", '[[charges]]\nname = "x"\n', "charges[1]", "missing required key 'kind'"),
    ("tiers that do not rise", PER_UNIT + "tiers = [{ up_to = 500, price = 1.0 }, "
     "{ up_to = 100, price = 0.9 }, { price = 0.8 }]\n", "charges[1]",
     "tiers' up_to must rise"),
    ("last tier closed", PER_UNIT + "tiers = [{ up_to = 500, price = 1.0 }]\n", "charges[1]",
     "the last tier has no up_to"),
    ("price and tiers", PER_UNIT + "price = 1\ntiers = [{ price = 0.8 }]\n", "charges[1]",
     "either price or tiers"),
    ("negative price", PER_UNIT + "price = -1\n", "charges[1].price", "from 0 to 1,000,000"),
    ("too many decimals", PER_UNIT + "price = 0.1234567\n", "charges[1].price",
     "at most 6 decimal places"),
    ("source without the date read", '[[sources]]\ntitle = "Price page"\n'
     'url = "https://example.com/pricing"\nby = "vendor"\n' + PER_UNIT, "sources[1]",
     "missing required key 'read'"),
    ("source date not a date", '[[sources]]\ntitle = "Price page"\n'
     'url = "https://example.com/pricing"\nread = "last week"\nby = "vendor"\n' + PER_UNIT,
     "sources[1].read", "expected the date the price was read"),
    ("two usage charges", PER_UNIT + '[[charges]]\nname = "tokens"\nkind = "per_token"\n'
     'model = "m"\n', "charges[2]", "at most one charge that counts usage"),
    ("duplicate charge name", PER_UNIT + '[[charges]]\nname = "resolutions"\n'
     'kind = "per_seat"\n', "charges[2].name", "duplicate name 'resolutions'"),
    ("unknown rule set", PER_UNIT.replace("intercom-fin", "intercom-fn"), "charges[1].ruleset",
     "did you mean 'intercom-fin'?"),
    ("cap below included", '[[charges]]\nname = "f"\nkind = "flat"\nfee = 49\n'
     'ruleset = "intercom-fin"\nincluded = 50\ncap = 10\n', "charges[1]",
     "cap 10 is below included 50"),
    ("overage without a meter", '[[charges]]\nname = "f"\nkind = "flat"\nfee = 49\n'
     'overage_price = 1\n', "charges[1]", "need something to count"),
    ("no charges", "charges = []\n", "charges", "expected at least 1 entry"),
    ("not TOML", "price = \n", None, "not valid TOML"),
]


@pytest.mark.parametrize("text, key, words", [c[1:] for c in BAD_FILES],
                         ids=[c[0] for c in BAD_FILES])
def test_bad_plan_files_name_file_key_and_fix(text: str, key: str | None, words: str) -> None:
    with pytest.raises(PlanError) as caught:
        load(text)
    message = str(caught.value)
    assert message.startswith("my-plan.toml" + (f", key '{key}'" if key else "")), message
    assert words in message


def test_a_plan_reads_prices_as_exact_decimals() -> None:
    plan = load(PER_UNIT + "price = 0.99\nincluded = 50\n")
    [charge] = plan.typed_charges()
    assert charge.price == Decimal("0.99") and plan.kind == "per_unit"


def test_graduated_tiers_with_included_units() -> None:
    plan = load(PER_UNIT + "included = 10\n"
                "tiers = [{ up_to = 100, price = 1.00 }, { price = 0.50 }]\n")
    price_bands = bands(plan.typed_charges()[0])
    assert price_bands == [Band(0, 10, Decimal(0)), Band(10, 100, Decimal("1.00")),
                           Band(100, None, Decimal("0.50"))]
    assert band_cost(price_bands, 5) == 0
    assert band_cost(price_bands, 100) == Decimal("90.00")
    assert band_cost(price_bands, 150) == Decimal("115.00")


def test_flat_plan_stops_the_ai_at_its_cap() -> None:
    plan = load('[[charges]]\nname = "f"\nkind = "flat"\nfee = 49\nruleset = "intercom-fin"\n'
                "included = 50\noverage_price = 0.99\ncap = 60\n")
    price_bands = bands(plan.typed_charges()[0])
    assert price_bands[-1] == Band(60, None, Decimal(0), served=False)
    assert band_cost(price_bands, 100) == Decimal("9.90")  # units 51-60; none above the cap


def test_every_builtin_plan_names_its_sources_and_when_they_were_read() -> None:
    plans = list_plans()
    assert len(plans) >= 6
    for plan in plans:
        priced = [c for c in plan.typed_charges() if any(
            getattr(c, f, None) is not None for f in ("price", "fee", "input_per_million"))]
        assert all(s.read and s.url.startswith("https://") for s in plan.sources), plan.id
        if priced:  # a price in the file stands on at least one source read on a date
            assert plan.sources, plan.id


def test_builtin_plans_cover_every_kind_and_leave_unpublished_prices_unset() -> None:
    plans = {p.id: p for p in list_plans()}
    kinds = {p.kind for p in plans.values()}
    assert {"per_unit", "per_conversation", "flat", "per_token"} <= kinds
    assert sum(p.kind == "per_token" for p in plans.values()) >= 2
    # Gorgias and the per-conversation contract publish no price, so none is set
    assert plans["gorgias-ai-agent"].typed_charges()[0].price is None
    assert plans["per-conversation"].typed_charges()[0].price is None
    seats = plans["intercom-fin"].typed_charges()[1]
    assert seats.kind == "per_seat" and seats.price is None and seats.baseline
    # Prices only third parties publish say so in the plan's sources.
    for plan_id in ("zendesk-ai-agents", "zendesk-ai-agents-payg", "hubspot-customer-agent",
                    "salesforce-agentforce", "openai-gpt-5-mini", "anthropic-claude-haiku-4-5"):
        assert any(s.by == "third-party" for s in plans[plan_id].sources), plan_id


def test_the_docs_list_every_builtin_plan() -> None:
    from tests.conftest import REPO

    table = (REPO / "docs" / "pricing-plans.md").read_text().split("## Built-in plans", 1)[1]
    for plan in list_plans():
        assert f"| `{plan.id}` |" in table, plan.id
