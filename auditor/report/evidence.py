"""The evidence pack (`audit --evidence PACK`): what a vendor needs to check every disputed line.

PACK/ and PACK.zip hold:
- conversations/<id>.html: per disputed conversation, its lines and reasons (with the
  contract's wording and the vendor's own definition and link), its facts, and the transcript
  in time order with the events that ground each reason highlighted;
- index.csv, index.json, index.html: every disputed line;
- dispute-letter.md and .html (letter.py), README.md (method, rule sets, hashes, verifying).

Personal data is redacted by default (redact.py): transcripts lose emails, phones, cards,
account numbers, addresses, tokens in URLs and the names the export knows; customer ids become
stable pseudonyms; conversation ids stay (the vendor needs them). Internal notes are listed
without their text. Everything is selected and joined in SQL; Python only writes the files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import string
import zipfile
from pathlib import Path

import duckdb
from pydantic import BaseModel

from auditor.engine import sql_string
from auditor.errors import UsageError
from auditor.reconcile import primary_reason_totals
from auditor.rulesets.expressions import FACT_TYPES
from auditor.report import letter, people
from auditor.report.model import Report
from auditor.report.templating import render
from auditor.report.write import copy_table
from auditor.rulesets import RuleSet
from auditor.sources.files import expand_inputs

CONVERSATIONS_PER_BATCH = 500  # transcripts rendered per query: bounded memory for any bill
PSEUDONYM_SALT_ENV = "AUDITOR_PSEUDONYM_SALT"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same zip


class EvidenceOptions(BaseModel):
    """What `--evidence`, `--no-redact` and `--letter-template` ask for."""

    pack: Path
    redact: bool = True
    letter_template: Path | None = None


def evidence_link(out_dir: Path, evidence: EvidenceOptions | None) -> str | None:
    """The pack's folder relative to report.html's, for links; None without a pack."""
    if evidence is None:
        return None
    try:
        return Path(os.path.relpath(evidence.pack.resolve(), out_dir.resolve())).as_posix()
    except ValueError:  # another drive
        return None


def write_evidence(con: duckdb.DuckDBPyConnection, report: Report, options: EvidenceOptions,
                   vendor: RuleSet, contract: RuleSet, exports: list[str],
                   display: dict[Path, str]) -> None:
    """Write the pack folder and its zip. Needs the audit's tables (findings, events, facts,
    verdicts) on `con`."""
    pack = options.pack
    _clear(pack)
    _select(con, options.redact, exports, display)
    grounds(con, vendor, contract)
    rulesets = {"vendor": _ruleset_fields(vendor), "contract": _ruleset_fields(contract)}
    index = _write_index(con, pack)
    _write_transcripts(con, pack, report, rulesets, options.redact)
    conversations = len({row["conversation_id"] for row in index})
    fields = letter.letter_fields(report, vendor, contract, primary_reason_totals(con),
                                  conversations, options.redact)
    letter.write_letter(pack, fields, options.letter_template)
    (pack / "index.html").write_text(render(
        "evidence_index.html.j2", lines=index, report=report, fields=fields), encoding="utf-8")
    (pack / "README.md").write_text(render("evidence_readme.md.j2", **fields), encoding="utf-8")
    zip_folder(pack, pack.with_name(pack.name + ".zip"))


# A folder with these is a pack this tool wrote: safe to replace.
PACK_MARKERS = ("index.csv", "dispute-letter.md")


def _clear(pack: Path) -> None:
    """Make room for the pack, replacing an earlier pack but never another folder's files."""
    if pack.is_file() or (pack.is_dir() and any(pack.iterdir())
                          and not all((pack / m).is_file() for m in PACK_MARKERS)):
        raise UsageError(f"--evidence {pack} exists and is not an evidence pack",
                         "name a new folder, or empty this one")
    try:
        if pack.exists():
            shutil.rmtree(pack)
        (pack / "conversations").mkdir(parents=True)
    except OSError as exc:
        raise UsageError(f"cannot write the evidence pack to {pack}: {exc.strerror}") from exc


def _select(con: duckdb.DuckDBPyConnection, redacting: bool, exports: list[str],
            display: dict[Path, str]) -> None:
    """pack_lines, pack_events (redacted unless told not to) and pack_facts."""
    salt = sql_string(os.environ.get(PSEUDONYM_SALT_ENV, "resolution-auditor"))
    pseudonym = (f"'customer-' || left(sha256({salt} || ':' || {{id}}), 12)" if redacting
                 else "{id}")
    # The conversation's customer: from the conversations table when the export has one,
    # else its first customer event's actor (as facts.py does).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE pack_conversation_customer AS
        SELECT conversation_id, coalesce(any_value(c.customer_id),
            arg_min(e.actor_id, e.created_at) FILTER (WHERE e.actor_role = 'customer'))
            AS customer_id
        FROM (SELECT DISTINCT conversation_id FROM findings WHERE status = 'disputed') d
        LEFT JOIN conversations c USING (conversation_id)
        LEFT JOIN events e USING (conversation_id)
        GROUP BY conversation_id""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE pack_customers AS
        SELECT customer_id, {pseudonym.format(id='customer_id')} AS pseudonym FROM (
            SELECT customer_id FROM pack_conversation_customer
            UNION SELECT actor_id FROM events WHERE actor_role = 'customer'
              AND conversation_id IN (SELECT conversation_id FROM findings WHERE status = 'disputed'))
        WHERE customer_id IS NOT NULL""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE pack_lines AS
        SELECT f.line, f.unit, f.conversation_id, f.billed_at, f.amount, f.reasons,
            f.reasons[1] AS first_reason, f.reproduced,
            {_unpseudo('f.evidence', redacting)} AS evidence,
            c.pseudonym AS customer, vv.reasons AS vendor_reasons,
            EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = f.conversation_id) AS has_transcript
        FROM findings f LEFT JOIN pack_conversation_customer cf USING (conversation_id)
        LEFT JOIN vendor_verdicts vv USING (conversation_id)
        LEFT JOIN pack_customers c ON c.customer_id = cf.customer_id
        WHERE f.status = 'disputed'""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE pack_events AS
        SELECT row_number() OVER (ORDER BY e.conversation_id, e.created_at, e.event_id) AS k,
            e.conversation_id, e.created_at, CAST(e.actor_role AS VARCHAR) AS actor_role,
            CASE WHEN e.actor_role = 'customer' THEN coalesce(c.pseudonym, e.actor_id)
                 ELSE e.actor_id END AS actor,
            CAST(e.event_type AS VARCHAR) AS event_type,
            CASE WHEN e.event_type = 'note' THEN NULL ELSE e.body END AS body, e.rating
        FROM events e LEFT JOIN pack_customers c ON e.actor_role = 'customer'
            AND c.customer_id = e.actor_id
        WHERE e.conversation_id IN (SELECT conversation_id FROM pack_lines)""")
    if redacting:
        # Here, not at the top: phonenumbers and pyarrow take about 0.3 s to import, and most
        # audits write no pack.
        from auditor.report import redact

        people.known_people(con, expand_inputs(exports, display))
        redact.redact_table(con, "pack_events", "k", "body",
                            people.name_words(con, "pack_events", "body"))
        # Some exports use an agent's email or phone as its id: the same checks, on the ids.
        redact.redact_table(con, "pack_events", "k", "actor",
                            people.name_words(con, "pack_events", "actor"))
    columns = [c for c, *_ in con.execute("DESCRIBE contract_facts").fetchall()]
    shown = ", ".join(f"CAST(p.pseudonym AS VARCHAR) AS {c}" if c == "customer_id" else
                      f"f.{c}" for c in columns)
    join = ("LEFT JOIN pack_customers p ON p.customer_id = f.customer_id"
            if "customer_id" in columns else "")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE pack_facts AS
        SELECT {shown} FROM contract_facts f {join}
        WHERE conversation_id IN (SELECT conversation_id FROM pack_lines)""")


def _unpseudo(column: str, redacting: bool) -> str:
    """Evidence sentences may name the customer id (sessions per customer): pseudonymise it."""
    if not redacting:
        return column
    return (f"CASE WHEN c.customer_id IS NULL THEN {column} "
            f"ELSE replace({column}, c.customer_id, c.pseudonym) END")


def grounds(con: duckdb.DuckDBPyConnection, vendor: RuleSet, contract: RuleSet) -> None:
    """`pack_grounds(conversation_id, code, at)`: for each reason that applies, the times its
    evidence names (the timestamp facts of its evidence template): the events to highlight.
    `not_vendor_resolution` is grounded by the vendor's own criteria that apply."""
    parts = []
    for role, ruleset, label in (("contract", contract, None),
                                 ("vendor", vendor, "not_vendor_resolution")):
        columns = {c for c, *_ in con.execute(f"DESCRIBE {role}_facts").fetchall()}
        for criterion in ruleset.criteria:
            for fact in sorted(timestamp_facts(criterion.evidence) & columns):
                code = sql_string(label or criterion.code)
                parts.append(
                    f"SELECT f.conversation_id, {code} AS code, {sql_string(criterion.code)} "
                    f"AS criterion, f.{fact} AS at FROM {role}_facts f "
                    f"JOIN {role}_verdicts v USING (conversation_id) "
                    f"WHERE list_contains(v.reasons, {sql_string(criterion.code)}) "
                    f"AND f.{fact} IS NOT NULL AND f.conversation_id IN "
                    f"(SELECT conversation_id FROM pack_lines)")
    body = " UNION ".join(parts) if parts else \
        "SELECT NULL::VARCHAR AS conversation_id, NULL::VARCHAR AS code, NULL::VARCHAR AS " \
        "criterion, NULL::TIMESTAMP AS at WHERE false"
    con.execute(f"CREATE OR REPLACE TEMP TABLE pack_grounds AS {body}")


def timestamp_facts(template: str) -> set[str]:
    """Timestamp facts named by an evidence template's placeholders."""
    names = {field.partition("|")[0].strip()
             for _, field, _, _ in string.Formatter().parse(template) if field}
    return {n for n in names if FACT_TYPES.get(n) == "TIMESTAMP"}


def _write_index(con: duckdb.DuckDBPyConnection, pack: Path) -> list[dict[str, object]]:
    query = """SELECT line, unit, conversation_id,
            strftime(billed_at, '%Y-%m-%dT%H:%M:%SZ') AS billed_at,
            CAST(amount AS DECIMAL(18, 2)) AS amount, array_to_string(reasons, ';') AS reasons,
            first_reason, reproduced, customer, evidence,
            CASE WHEN has_transcript THEN 'conversations/' || regexp_replace(conversation_id,
                 '[^A-Za-z0-9._-]', '_', 'g') || '.html' END AS transcript
        FROM pack_lines ORDER BY line, unit"""
    copy_table(con, query, pack / "index.csv")
    result = con.execute(query)
    names = [d[0] for d in result.description]
    rows = [dict(zip(names, row)) for row in result.fetchall()]
    for row in rows:
        row["amount"] = float(row["amount"]) if row["amount"] is not None else None
    (pack / "index.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    return rows


def _write_transcripts(con: duckdb.DuckDBPyConnection, pack: Path, report: Report,
                       rulesets: dict[str, dict[str, object]], redacted: bool) -> None:
    ids = [r[0] for r in con.execute("SELECT DISTINCT conversation_id FROM pack_lines WHERE "
                                     "has_transcript ORDER BY 1").fetchall()]
    for start in range(0, len(ids), CONVERSATIONS_PER_BATCH):
        batch = ids[start:start + CONVERSATIONS_PER_BATCH]
        events = _grouped(con, """
            SELECT e.conversation_id, strftime(e.created_at, '%Y-%m-%d %H:%M:%S UTC') AS at,
                e.actor_role, e.actor, e.event_type, e.body, e.rating,
                list(DISTINCT g.code ORDER BY g.code) FILTER (WHERE g.code IS NOT NULL) AS grounds
            FROM pack_events e LEFT JOIN pack_grounds g
                ON g.conversation_id = e.conversation_id AND g.at = e.created_at
            WHERE e.conversation_id IN (SELECT unnest(?))
            GROUP BY ALL ORDER BY e.conversation_id, any_value(e.k)""", batch)
        lines = _grouped(con, """
            SELECT conversation_id, line, unit, strftime(billed_at, '%Y-%m-%d %H:%M UTC')
                AS billed_at, amount, reasons, reproduced, evidence, vendor_reasons
            FROM pack_lines WHERE conversation_id IN (SELECT unnest(?)) ORDER BY line, unit""",
            batch)
        facts = _grouped(con, "SELECT * FROM pack_facts WHERE conversation_id IN "
                              "(SELECT unnest(?)) ORDER BY conversation_id", batch)
        for conversation in batch:
            page = render("transcript.html.j2", conversation_id=conversation,
                          events=events.get(conversation, []), lines=lines[conversation],
                          facts=_fact_rows(facts.get(conversation, [{}])[0]), report=report,
                          rulesets=rulesets, redacted=redacted)
            (pack / "conversations" / f"{safe_name(conversation)}.html").write_text(
                page, encoding="utf-8")


def _grouped(con: duckdb.DuckDBPyConnection, query: str,
             ids: list[str]) -> dict[str, list[dict[str, object]]]:
    result = con.execute(query, [ids])
    names = [d[0] for d in result.description]
    grouped: dict[str, list[dict[str, object]]] = {}
    for row in result.fetchall():
        record = dict(zip(names, row))
        grouped.setdefault(str(record["conversation_id"]), []).append(record)
    return grouped


def _fact_rows(facts: dict[str, object]) -> list[tuple[str, str]]:
    def shown(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "true" if value else "false"
        if hasattr(value, "strftime"):
            return value.strftime("%Y-%m-%d %H:%M:%S UTC")  # type: ignore[union-attr]
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)
    return [(name, shown(value)) for name, value in facts.items() if name != "conversation_id"]


def _ruleset_fields(ruleset: RuleSet) -> dict[str, object]:
    return {"id": ruleset.id, "version": ruleset.version, "sha256": ruleset.sha256,
            "title": ruleset.title, "vendor": ruleset.vendor,
            "sources": [{"title": s.title, "url": s.url} for s in ruleset.sources],
            "criteria": {c.code: c.summary for c in ruleset.criteria}}


def safe_name(conversation_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", conversation_id)


def zip_folder(folder: Path, target: Path) -> None:
    """The folder as a zip with fixed times and order: the same pack gives the same bytes."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}",
                                   ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
