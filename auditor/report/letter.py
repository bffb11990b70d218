"""The dispute letter (dispute-letter.md and .html in the evidence pack), from a Jinja2 template.

`letter_fields` is everything a template can use; docs/reports.md lists the fields. The
built-in templates are templates/dispute-letter.md.j2 and .html.j2; `--letter-template FILE`
replaces them with the user's own (FILE.md or FILE.html renders the one format; the other is
still written from the built-in template). Figures come from the report and the findings
table (by first reason), never recomputed here.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from auditor.report.model import Report, share
from auditor.report.templating import render, render_file
from auditor.rulesets import RuleSet

ATTACHMENTS = (
    ("index.csv", "every disputed line: line, conversation, amount, reasons, evidence"),
    ("index.html", "the same, to read in a browser, with a link to each transcript"),
    ("conversations/", "one page per disputed conversation: reasons, facts, transcript"),
    ("README.md", "the method, the rule sets and their hashes, and how to check the figures"),
)


def letter_fields(report: Report, vendor: RuleSet, contract: RuleSet,
                  first_reasons: list[tuple[str, int, Decimal]], conversations: int,
                  redacted: bool) -> dict[str, object]:
    """The fields of the letter and README templates (documented in docs/reports.md), as
    attribute objects: `billed.items` is the count, not a dict method."""
    return {k: _namespace(v) for k, v in _fields(report, vendor, contract, first_reasons,
                                                  conversations, redacted).items()}


def _namespace(value: object) -> object:
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_namespace(v) for v in value]
    return value


def _fields(report: Report, vendor: RuleSet, contract: RuleSet,
            first_reasons: list[tuple[str, int, Decimal]], conversations: int,
            redacted: bool) -> dict[str, object]:
    wording = {c.code: c.summary for c in contract.criteria}
    vendor_line = next((r for r in report.disputed.reasons if r.code == "not_vendor_resolution"),
                       None)
    reasons = [{"code": code, "items": n, "amount": amount,
                "summary": report.reasons.get(code, ""),
                "source": ("contract" if code in wording else
                           "vendor" if code == "not_vendor_resolution" else "bill")}
               for code, n, amount in first_reasons]
    provenance = report.provenance
    return {
        "vendor": _ruleset(vendor), "contract": _ruleset(contract),
        "period": report.period, "currency": vendor.currency,
        "invoice": {"source": provenance.billed.path if provenance.billed else None,
                    "sha256": provenance.billed.sha256 if provenance.billed else None},
        "billed": {"items": report.billed.items, "amount": report.billed.amount},
        "disputed": {"items": report.disputed.items, "amount": report.disputed.amount,
                     "share": share(report.disputed.items, report.billed.items)},
        "credit_requested": report.disputed.amount,
        "unverifiable": {"items": report.unverifiable.items, "amount": report.unverifiable.amount},
        "reasons_first": reasons,
        "reasons_overlapping": [{"code": r.code, "summary": r.summary, "items": r.items,
                                 "amount": r.amount} for r in report.disputed.reasons],
        "not_vendor": ({"items": vendor_line.items, "amount": vendor_line.amount}
                       if vendor_line else None),
        "conversations": conversations,
        "count_only": report.count_only is not None,
        "method": {"tool_version": provenance.tool_version,
                   "rulesets": [r.model_dump() for r in provenance.rulesets],
                   "inputs": [i.model_dump() for i in provenance.inputs],
                   "billed": provenance.billed.model_dump() if provenance.billed else None},
        "attachments": [{"name": n, "what": w} for n, w in ATTACHMENTS],
        "redacted": redacted,
        "warnings": report.warnings,
    }


def _ruleset(ruleset: RuleSet) -> dict[str, object]:
    first = ruleset.sources[0] if ruleset.sources else None
    return {"id": ruleset.id, "version": ruleset.version, "sha256": ruleset.sha256,
            "title": ruleset.title, "name": ruleset.vendor,
            "definition_url": first.url if first else None,
            "definition_title": first.title if first else None,
            "sources": [{"title": s.title, "url": s.url} for s in ruleset.sources],
            "criteria": [{"code": c.code, "summary": c.summary} for c in ruleset.criteria]}


def write_letter(pack: Path, fields: dict[str, object], template: Path | None) -> None:
    """dispute-letter.md and dispute-letter.html; the user's template replaces its format."""
    own_format = _format(template) if template else None
    for fmt in ("md", "html"):
        text = (render_file(template, **fields) if template and own_format == fmt
                else render(f"dispute-letter.{fmt}.j2", **fields))
        (pack / f"dispute-letter.{fmt}").write_text(text, encoding="utf-8")


def _format(template: Path) -> str:
    name = template.name.lower().removesuffix(".j2").removesuffix(".jinja")
    return "html" if name.endswith((".html", ".htm")) else "md"
