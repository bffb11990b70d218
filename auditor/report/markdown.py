"""report.md: the summary a person reads, rendered from the report and the findings table."""

from __future__ import annotations

import duckdb

from auditor.report.model import Report, observed_until
from auditor.report.model import share as _pct
from auditor.report.model import usd as _usd
from auditor.sources import AiAgentIdentity
from auditor.rulesets.expressions import render_param
from auditor.rulesets.overrides import ParamOverride

EXAMPLES_PER_REASON = 3


def render_markdown(con: duckdb.DuckDBPyConnection, report: Report) -> str:
    warnings = "\n>\n".join(f"> **Warning:** {w}" for w in report.warnings)
    notes = "\n".join(f"> Note: {n}" for n in report.notes)
    sections = [_headline(report), warnings, notes, _status_table(report), _not_vendor(report),
                _reasons_table(report), _unverifiable_table(report), _reproduction(report),
                _month_cost(report), _examples(con, report), _provenance(report)]
    return "\n\n".join(s for s in sections if s) + "\n"


def _headline(report: Report) -> str:
    b, d = report.billed, report.disputed
    period = f" for {report.period}" if report.period else ""
    return (f"# Invoice reconciliation{period}\n\n"
            f"The vendor billed **{b.items:,} items ({_usd(float(b.amount))})** under "
            f"`{report.vendor}`{report.what_if('vendor')}. Judged by the `{report.contract}` "
            f"contract definition{report.what_if('contract')}, your own "
            f"conversation logs dispute **{d.items:,} items ({_usd(float(d.amount))}, "
            f"{_pct(d.items, b.items)} of the invoice)**.")


def _status_table(report: Report) -> str:
    rows = [("confirmed", report.confirmed), ("disputed", report.disputed),
            ("unverifiable", report.unverifiable), ("billed", report.billed)]
    lines = ["| status | items | amount | share |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {m.items:,} | {_usd(float(m.amount))} | "
              f"{_pct(m.items, report.billed.items)} |" for name, m in rows]
    note = ("\n\n*Count-only invoice: the disputed figure is an estimate from the export.*"
            if report.count_only else "")
    if report.credits.items:
        c = report.credits
        note += (f"\n\nThe bill also carries **{c.items:,} credit line{'s' * (c.items != 1)} "
                 f"({_usd(float(c.amount))})**, not counted above: the bill nets to "
                 f"{_usd(float(report.billed.amount + c.amount))}.")
    return "## Totals\n\n" + "\n".join(lines) + note


def _not_vendor(report: Report) -> str:
    line = next((r for r in report.disputed.reasons if r.code == "not_vendor_resolution"), None)
    if line is None:
        return ""
    return (f"## Not a resolution even by the vendor's own definition\n\n"
            f"**{line.items:,} billed items ({_usd(float(line.amount))})** are not billable even "
            f"under `{report.vendor}`, the vendor's own published definition applied to your "
            f"export: the easiest credits to claim. Each one's evidence names the vendor's "
            f"criteria that turn it away (findings.csv, reason `not_vendor_resolution`).")


def _reasons_table(report: Report) -> str:
    if not report.disputed.reasons:
        return "## Disputes by reason\n\nNothing is disputed."
    primary = report.disputed.by_primary_reason
    lines = ["| reason | what it means | items | amount | first reason of |",
             "|---|---|---:|---:|---:|"]
    lines += [f"| `{r.code}` | {r.summary} | {r.items:,} | {_usd(float(r.amount))} | "
              f"{primary.get(r.code, 0):,} |" for r in report.disputed.reasons]
    return ("## Disputes by reason\n\nA disputed line can carry several reasons, so the items "
            "column can add up to more than the disputed total; *first reason of* counts each "
            "disputed line once, by its first reason, and adds up to it.\n\n" + "\n".join(lines))


def _unverifiable_table(report: Report) -> str:
    u = report.unverifiable
    if not u.items:
        return ""
    lines = ["| reason | what it means | items |", "|---|---|---:|"]
    lines += [f"| `{code}` | {report.reasons.get(code, '')} | {n:,} |"
              for code, n in u.by_reason.items()]
    return ("## Unverifiable\n\nYour data cannot support a verdict on these lines, so they "
            "are neither confirmed nor disputed.\n\n" + "\n".join(lines))


def _reproduction(report: Report) -> str:
    r = report.reproduction
    text = (f"## Does the vendor's own definition reproduce the bill?\n\n"
            f"Applying `{r.ruleset}` to your export counts **{r.count:,}** {r.unit}s. "
            f"Of the billed {r.unit}s, **{r.matched:,}** are reproduced, "
            f"**{r.billed_not_reproduced:,}** are not, and **{r.billed_undetermined:,}** cannot "
            f"be told; **{r.reproduced_not_billed:,}** counted {r.unit}s were not billed.\n\n"
            f"A billed {r.unit} is reproduced when the vendor's definition counts it with the "
            f"AI's last message inside the period, so a unit billed for a conversation outside "
            f"the period is not reproduced; one whose conversation cannot be judged cannot be "
            f"told. These are the `reproduced` column of findings.csv (true, false, empty).")
    if report.count_only:
        c = report.count_only
        text += (f"\n\nCount-only invoice: billed {c.billed_count:,}; the vendor's definition "
                 f"counts {c.vendor_count:,}; the contract accepts {c.contract_count:,}. "
                 f"Estimated over-billing: {c.overbilled_items:,} items "
                 f"({_usd(c.overbilled_amount)})."
                 + (f" {c.unverifiable_items:,} billed items could be conversations the export "
                    f"cannot judge, so they are unverifiable, not estimated as over-billing."
                    if c.unverifiable_items else ""))
    return text


def _month_cost(report: Report) -> str:
    c = report.month_cost
    if c is None:
        return ""
    return "## What this month cost\n\n" + month_cost_sentence(report)


def month_cost_sentence(report: Report) -> str:
    """The invoice's price per contract-confirmed item next to the plan's list price."""
    c = report.month_cost
    if c is None:
        return ""
    if c.effective_price is None:
        return (f"The invoice bills {_usd(float(c.billed_amount))} and the contract confirms "
                f"no billed item, so it has no price per confirmed item (plan `{c.plan}`, list "
                f"price {c.list_price_label}).")
    above = (f", {abs(c.above_list_percent)}% {'above' if c.above_list_percent >= 0 else 'below'}"
             f" the list price" if c.above_list_percent is not None else "")
    return (f"The invoice bills {_usd(float(c.billed_amount))} for {c.confirmed_items:,} items "
            f"the contract confirms: **{_usd(float(c.effective_price))} per confirmed item**, "
            f"against a list price of {c.list_price_label} under `{c.plan}` ({c.title})"
            f"{above}.")


def _examples(con: duckdb.DuckDBPyConnection, report: Report) -> str:
    # Each reason's first lines are found without their evidence (a top-n per reason, no sort
    # of every disputed line's text); only those few lines' evidence is read.
    rows = con.execute(f"""
        WITH firsts AS (
            SELECT reason, unnest(min({{'line': line, 'unit': unit}}, {EXAMPLES_PER_REASON}))
                AS first
            FROM (SELECT unnest(reasons) AS reason, line, unit FROM findings
                  WHERE status <> 'confirmed')
            GROUP BY reason
        )
        SELECT reason, line, conversation_id, evidence
        FROM firsts JOIN findings ON line = first.line AND unit = first.unit
        ORDER BY reason, line, unit
    """).fetchall()
    if not rows:
        return ""
    order = list(report.reasons)
    rows.sort(key=lambda r: (order.index(r[0]) if r[0] in order else len(order), r[1]))
    lines = ["## Examples", ""]
    current = None
    for reason, line, conversation, evidence in rows:
        if reason != current:
            lines += ["", f"**`{reason}`**: {report.reasons.get(reason, '')}", ""]
            current = reason
        lines.append(f"- line {line}, conversation `{conversation}`: {evidence}")
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def ai_agents_sentence(agents: list[AiAgentIdentity], lead: str = "") -> str:
    """The users taken as the AI agent, e.g. `Taken as the AI agent: user 700 (Answer Bot), by
    user name 'Answer Bot'.`; empty when the export marks the AI's messages itself."""
    if not agents:
        return ""
    users = "; ".join(f"user {a.id}" + (f" ({a.name})" if a.name else "") + f", by {a.how}"
                      for a in agents)
    return f"{lead}Taken as the AI agent: {users}."


def _overridden(overrides: list[ParamOverride]) -> str:
    """What a rerun sets (with --param or --vendor-param): ', with repeat_contact_hours=168'."""
    return "".join(f", with {o.name}={render_param(o.value)}" for o in overrides)


def _provenance(report: Report) -> str:
    p, i = report.provenance, report.ingest
    lines = [f"## Inputs and provenance\n\nresolution-auditor {p.tool_version}. "
             f"Read {i.records_read:,} records into {i.events:,} events and "
             f"{i.conversations:,} conversations; {i.quarantined:,} quarantined "
             f"(see quarantine.csv); {observed_until(report.observation)}."
             f"{ai_agents_sentence(i.ai_agents, ' ')}", "",
             "| input | rows | sha256 |", "|---|---:|---|"]
    inputs = p.inputs + ([p.billed] if p.billed else [])
    lines += [f"| {f.path} | {f.rows:,} | `{f.sha256[:16]}` |" for f in inputs]
    lines += [f"| {f.path} (not read: {f.reason}) | | |" for f in i.skipped_files]
    lines += [f"| {m.path}: `auditor pull {m.vendor}` (API {m.api_version}) of {m.window_from} "
              f".. {m.window_to} by {m.window_field}, {m.counts.get('fetched', 0):,} fetched, "
              f"{m.counts.get('incomplete', 0):,} incomplete, {m.files} files, finished "
              f"{m.finished_at} | | `{m.sha256[:16]}` |" for m in p.pulls]
    lines += [f"| rule set {r.id} {r.version} ({r.role}){_overridden(r.overrides)} | | "
              f"`{r.sha256[:16]}` |" for r in p.rulesets]
    if report.billed.columns:
        lines += ["", "Billed list columns: " + ", ".join(
            f"{role} from `{header}`" for role, header in report.billed.columns.items()) + "."]
    return "\n".join(lines)
