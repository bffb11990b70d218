"""`--format fivetran-intercom` and `auditor sql --source fivetran-intercom`: Fivetran's Intercom
tables, mapped by one portable SQL definition, audit to the same findings as the JSON export
they were made from (sample_data/fivetran_intercom_2026-10/, from intercom_2026-10.jsonl.gz)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from auditor import billing, engine
from auditor.errors import UsageError
from auditor.sources import SourceOptions, load_sources
from auditor.warehouse import fivetran_intercom as mapping
from auditor.warehouse.sources import SourceTables, source_statements
from tests.conftest import REPO, SAMPLES, run_cli

SAMPLE = REPO / "sample_data"
TABLES = SAMPLE / "fivetran_intercom_2026-10"
EXPORT = SAMPLE / "intercom_2026-10.jsonl.gz"
BILLED = SAMPLE / "billed_2026-10.csv"
PERIOD = "2026-10-01..2026-10-31"
FIN = "8130467"  # the sample month's Fin (a bot admin); 8130466 is Operator
EVENT_COLUMNS = ("conversation_id, event_id, created_at, CAST(actor_role AS VARCHAR), actor_id, "
                 "CAST(event_type AS VARCHAR), body, rating, channel")
CONVERSATION_COLUMNS = ("conversation_id, customer_id, channel, vendor_label, vendor_state, "
                        "is_preview, ai_answered")


def _audit(tmp_path: Path, name: str, *inputs: str | Path, extra: tuple[str, ...] = ()) -> Path:
    out = tmp_path / name
    result = run_cli(["audit", *map(str, inputs), "--billed", str(BILLED), "--period", PERIOD,
                      "--out", str(out), *extra])
    assert result.exit_code == 1, result.output  # 1: disputed lines
    return out


def _loaded(paths: list[Path], ids: list[str]) -> duckdb.DuckDBPyConnection:
    con = engine.connect()
    load_sources(con, [str(p) for p in paths], options=SourceOptions(ai_agent_ids=ids))
    return con


def test_the_fivetran_month_audits_to_the_json_exports_findings(tmp_path: Path) -> None:
    json_out = _audit(tmp_path, "json", EXPORT, extra=("--ai-agent-id", FIN))
    tables_out = _audit(tmp_path, "fivetran", TABLES, extra=("--ai-agent-id", FIN))
    assert (tables_out / "findings.csv").read_bytes() == (json_out / "findings.csv").read_bytes()
    ours, theirs = (json.loads((d / "report.json").read_text()) for d in (tables_out, json_out))
    # Provenance and ingest name other files; every figure is the same.
    for key in ("billed", "confirmed", "disputed", "unverifiable", "reproduction",
                "observation", "reasons"):
        assert ours[key] == theirs[key], key
    assert ours["ingest"]["ai_agents"] == [{"id": FIN, "name": "Fin", "how": "--ai-agent-id"}]
    assert {i["format"] for i in ours["provenance"]["inputs"]} == {"fivetran-intercom"}
    assert any("contact_history, team" in n for n in ours["notes"])


def test_events_and_conversations_equal_the_json_exports() -> None:
    tables, export = _loaded([TABLES], [FIN]), _loaded([EXPORT], [FIN])
    for query in (f"SELECT {EVENT_COLUMNS} FROM events",
                  f"SELECT {CONVERSATION_COLUMNS} FROM conversations"):
        ours, theirs = (sorted(c.execute(query).fetchall(), key=repr) for c in (tables, export))
        assert ours == theirs


def test_ai_agent_id_makes_the_json_adapter_tell_fin_from_operator() -> None:
    """Without flags (API < 2.14) a bot in an AI conversation is the AI agent; --ai-agent-id
    names it, so Operator's automatic replies are bot messages."""
    query = ("SELECT count(*) FROM events WHERE actor_id = '8130466' "
             "AND actor_role = 'ai_agent'")
    assert _loaded([EXPORT], []).execute(query).fetchone()[0] > 0
    named = _loaded([EXPORT], [FIN])
    assert named.execute(query).fetchone()[0] == 0
    assert named.execute("SELECT user_id, how FROM ai_agent_users").fetchall() == \
        [(FIN, "--ai-agent-id")]


def _without_ai_agent_columns(tmp_path: Path) -> Path:
    folder = tmp_path / "tables"
    shutil.copytree(TABLES, folder)
    con = duckdb.connect()
    ai = ", ".join(mapping.AI_AGENT_COLUMNS)
    con.execute(f"COPY (SELECT * EXCLUDE ({ai}) FROM read_csv('{TABLES}/conversation_history"
                f".csv.gz', all_varchar = true)) TO '{folder}/conversation_history.csv.gz' "
                "(HEADER, COMPRESSION gzip)")
    return folder


def test_without_ai_agent_columns_the_ai_agent_id_is_required(tmp_path: Path) -> None:
    folder = _without_ai_agent_columns(tmp_path)
    result = run_cli(["audit", str(folder), "--billed", str(BILLED), "--out",
                      str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no ai_agent_* columns and no --ai-agent-id" in result.output
    assert "--ai-agent-id ID" in result.output
    assert "Traceback" not in result.output


def test_without_ai_agent_columns_the_report_says_what_is_unknown(tmp_path: Path) -> None:
    out = _audit(tmp_path, "out", _without_ai_agent_columns(tmp_path),
                 extra=("--ai-agent-id", FIN))
    report = json.loads((out / "report.json").read_text())
    note = next(n for n in report["notes"] if "ai_agent_resolution_state" in n)
    assert "resolution state, the preview flag or whether the AI answered" in note
    con = _loaded([_without_ai_agent_columns(tmp_path / "again")], [FIN])
    # No state, no answer flag; is_preview absent reads as false (docs/canonical-schema.md).
    assert con.execute("SELECT count(vendor_state), count(ai_answered), bool_or(is_preview) "
                       "FROM conversations").fetchone() == (0, 0, False)


def test_with_ai_agent_columns_and_no_id_the_pre_2_14_default_is_noted(tmp_path: Path) -> None:
    out = _audit(tmp_path, "out", TABLES)
    report = json.loads((out / "report.json").read_text())
    assert any("no from_ai_agent flags and no --ai-agent-id" in n for n in report["notes"])


def test_a_missing_parts_table_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    folder.mkdir()
    shutil.copy(TABLES / "conversation_history.csv.gz", folder)
    result = run_cli(["audit", str(folder), "--format", "fivetran-intercom", "--ai-agent-id",
                      FIN, "--billed", str(BILLED), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "conversation_part_history is not among the inputs" in result.output


def test_fivetrans_own_seed_tables_are_read(tmp_path: Path) -> None:
    """The dbt package's seeds: `_data` names, SCD2 versions, ids typed as numbers by DuckDB;
    their parts name conversations the seed does not have: those are not judged."""
    seeds = SAMPLES / "fivetran-dbt_intercom"
    con = engine.connect()
    summary = load_sources(con, [str(seeds)], options=SourceOptions(ai_agent_ids=["4077639"]))
    assert summary.formats == ["fivetran-intercom"]
    # 2 conversations (latest of 9 versions), each with its source message; 9 parts.
    assert con.execute("SELECT count(*) FROM conversations").fetchone()[0] == 7
    assert con.execute("SELECT count(*) FROM events WHERE event_id = 'source'").fetchone()[0] == 2
    assert summary.unjudgeable == {"incomplete_export": 5}
    assert summary.ai_agents[0].id == "4077639"


def _warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The tables as a warehouse holds them (types as DuckDB detects them: BIGINT ids,
    TIMESTAMP times, BOOLEAN flags) in schema `intercom`, and the billed units table."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA intercom")
    for path in TABLES.iterdir():
        name = path.name.split(".")[0]
        con.execute(f"CREATE TABLE intercom.{name} AS SELECT * FROM read_csv('{path}')")
    local = engine.connect()
    local.execute(f"CREATE TABLE ids AS SELECT CAST(id AS VARCHAR) AS conversation_id "
                  f"FROM read_csv('{TABLES}/conversation_history.csv.gz')")
    billing.load_billed_csv(local, BILLED, export_ids="ids")
    billed = local.sql("SELECT * FROM billed").to_arrow_table()
    con.register("billed_arrow", billed)
    con.execute("CREATE TABLE month_billed AS SELECT * FROM billed_arrow")
    return con


def test_auditor_sql_in_duckdb_gives_the_local_audits_summary(tmp_path: Path) -> None:
    out = tmp_path / "sql"
    result = run_cli(["sql", "--dialect", "duckdb", "--source", "fivetran-intercom", "--schema",
                      "intercom", "--ai-agent-id", FIN, "--billed", "month_billed", "--period",
                      PERIOD, "--out", str(out)])
    assert result.exit_code == 0, result.output
    con = _warehouse(tmp_path)
    text = (out / "audit.duckdb.sql").read_text()
    assert "-- source: fivetran-intercom; schema: intercom; AI agent ids: 8130467" in text
    for statement in text.split(";\n"):
        if re.sub(r"(?m)^--.*$", "", statement).strip():
            con.execute(statement)
    figures = {f: (n, float(a)) for f, n, a in
               con.execute("SELECT figure, items, amount FROM audit_summary").fetchall()}
    report = json.loads((_audit(tmp_path, "local", TABLES, extra=("--ai-agent-id", FIN))
                         / "report.json").read_text())
    for status in ("billed", "confirmed", "disputed", "unverifiable"):
        assert figures[status] == (report[status]["items"], float(report[status]["amount"]))
    assert {f.split(".")[-1]: n for f, (n, _) in figures.items()
            if f.startswith("disputed.by_reason.")} == report["disputed"]["by_reason"]
    for key in ("count", "matched", "billed_not_reproduced", "billed_undetermined"):
        assert figures[f"reproduction.{key}"][0] == report["reproduction"][key]


def test_auditor_sql_without_ai_agent_columns_needs_an_ai_agent_id() -> None:
    result = run_cli(["sql", "--dialect", "postgres", "--source", "fivetran-intercom",
                      "--schema", "intercom", "--absent-column", "ai_agent_*", "--billed", "b"])
    assert result.exit_code == 2
    assert "no --ai-agent-id" in result.output
    result = run_cli(["sql", "--dialect", "postgres", "--source", "fivetran-intercom",
                      "--schema", "intercom", "--absent-column", "nonsense", "--billed", "b"])
    assert result.exit_code == 2 and "not an optional column" in result.output


@pytest.mark.parametrize("dialect", ["postgres", "spark", "snowflake", "bigquery"])
def test_the_mapping_renders_for_every_dialect(dialect: str) -> None:
    from auditor.warehouse import dialects

    statements, label = source_statements(
        "fivetran-intercom", SourceTables(None, schema="intercom", ai_agent_ids=(FIN,)), "a_")
    assert label == "intercom.conversation_part_history"
    for statement in statements:
        text = dialects.render(statement.select, dialect)
        assert "intercom.conversation_history" in text


def test_the_mapping_doc_lists_every_field() -> None:
    doc = (REPO / "docs" / "fivetran-intercom-mapping.md").read_text()
    for column, field, _ in mapping.FIELDS:
        assert f"| `{column}` | `{field}` |" in doc, column


def test_without_an_id_or_columns_the_mapping_refuses() -> None:
    with pytest.raises(UsageError, match="no --ai-agent-id"):
        mapping.fivetran_intercom(SourceTables(None, schema="s", absent_columns=[
            f"conversation_history.{c}" for c in mapping.AI_AGENT_COLUMNS]))
