"""The audit on real engines equals DuckDB's: PostgreSQL and Spark (local, and standalone with
a master and two workers), on the sample months and the edge-case month; facts, every built-in
rule set's verdicts and the findings, row by row and column by column. Also the SQL script run
with psql -f, and `auditor audit --engine` writing the same findings.csv as the local run.

PostgreSQL: set AUDITOR_TEST_POSTGRES_DSN (.ci/run starts a server and sets it). Spark: needs
pyspark and Java. Without them these tests skip, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import REPO, run_cli, write_csv
from tests.edge_month import BILLED_HEADER, EVENT_HEADER, write_edge_month
from tests.test_warehouse_equivalence import generated_month
from tests.warehouse_support import all_differences, fast_month, portable_month

SAMPLE = REPO / "sample_data"
PERIOD = "2026-10-01..2026-10-31"
DSN = os.environ.get("AUDITOR_TEST_POSTGRES_DSN")
needs_postgres = pytest.mark.skipif(
    not DSN, reason="no PostgreSQL server: set AUDITOR_TEST_POSTGRES_DSN (.ci/run does)")


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install '.[spark]')"
    if shutil.which("java") is None:
        return "no Java runtime (apt-get install default-jre-headless)"
    return None


needs_spark = pytest.mark.skipif(_spark_missing() is not None, reason=str(_spark_missing()))
# Small data: few partitions, no code generation (compiling costs more than it saves here).
# JVMs that live a minute: the quick JIT tier and one GC thread halve their CPU time (the C2
# compiler threads otherwise compete with the other test process for the two cores of CI).
SPARK_TEST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
SPARK_TEST_CONFIG = {"spark.sql.shuffle.partitions": "2", "spark.ui.showConsoleProgress": "false",
                     "spark.sql.codegen.wholeStage": "false",
                     "spark.driver.extraJavaOptions": SPARK_TEST_JVM,
                     "spark.executor.extraJavaOptions": SPARK_TEST_JVM}


# --- the months --------------------------------------------------------------------------------

MONTHS = {
    "intercom": lambda tmp: fast_month([SAMPLE / "intercom_2026-10.jsonl.gz"],
                                       SAMPLE / "billed_2026-10.csv"),
    "zendesk": lambda tmp: fast_month([SAMPLE / "zendesk_2026-10" / "api"],
                                      SAMPLE / "zendesk_2026-10" / "billed.csv",
                                      fmt="zendesk", vendor="zendesk-ai-agents"),
    "edge": lambda tmp: fast_month(list(write_edge_month(tmp)[:2]), tmp / "billed.csv",
                                   fmt="canonical"),
}


# --- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A database of its own, with an ICU collation where the server has ICU, so byte-order
    tie-breaks are really exercised (a C-collated database would hide a missing COLLATE)."""
    import psycopg

    name = f"auditor_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        try:
            admin.execute(f"CREATE DATABASE {name} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                          "LOCALE 'C.UTF-8' TEMPLATE template0")
        except psycopg.Error:
            admin.execute(f"CREATE DATABASE {name}")
        # Far from UTC: the SQL must pin the session itself.
        admin.execute(f"ALTER DATABASE {name} SET TimeZone = 'Pacific/Kiritimati'")
    yield f"{DSN} dbname={name}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@needs_postgres
@pytest.mark.parametrize("month", sorted(MONTHS))
def test_postgres_equals_duckdb(month: str, pg_database: str, tmp_path: Path) -> None:
    from auditor.engines.postgres import PostgresEngine

    local = MONTHS[month](tmp_path)
    target = PostgresEngine(pg_database)
    try:
        assert all_differences(local, target, portable_month(local, target)) == {}
    finally:
        target.close()


def _canonical_tables(tmp_path: Path) -> tuple[Path, Path]:
    """The sample month as canonical Parquet (events, conversations)."""
    events = tmp_path / "events.parquet"
    assert run_cli(["ingest", str(SAMPLE / "intercom_2026-10.jsonl.gz"), "--out",
                    str(events)]).exit_code == 0
    return events, tmp_path / "events.conversations.parquet"


def _load_postgres(dsn: str, tables: dict[str, Path | str]) -> None:
    from auditor.engines.postgres import PostgresEngine

    target = PostgresEngine(dsn)
    try:
        for name, source in tables.items():
            query = f"SELECT * FROM '{source}'" if isinstance(source, Path) else source
            target.load_arrow(name, duckdb.sql(query).to_arrow_table())
    finally:
        target.close()


def _local_audit(tmp_path: Path, events: Path, conversations: Path) -> Path:
    out = tmp_path / "local"
    result = run_cli(["audit", str(events), str(conversations), "--format", "canonical",
                      "--billed", str(SAMPLE / "billed_2026-10.csv"), "--period", PERIOD,
                      "--out", str(out)])
    assert result.exit_code == 1, result.output
    return out


def _billed_units(tmp_path: Path, events: Path) -> Path:
    """The sample bill as the billed-units table a script reads (Parquet)."""
    from auditor import billing, engine

    billed_units = tmp_path / "billed_units.parquet"
    local = engine.connect()
    local.execute(f"CREATE TABLE ids AS SELECT DISTINCT conversation_id FROM '{events}'")
    billing.load_billed_csv(local, SAMPLE / "billed_2026-10.csv", export_ids="ids")
    local.execute(f"COPY (SELECT * FROM billed) TO '{billed_units}' (FORMAT parquet)")
    local.close()
    return billed_units


def _assert_summary_is_the_report(figures: dict[str, tuple[int, float]], report: dict) -> None:
    for status in ("confirmed", "disputed", "unverifiable"):
        assert figures[status] == (report[status]["items"], float(report[status]["amount"]))
    assert figures["billed"] == (report["billed"]["items"], float(report["billed"]["amount"]))
    assert {f.split(".")[-1]: n for f, (n, _) in figures.items()
            if f.startswith("disputed.by_reason.")} == report["disputed"]["by_reason"]
    assert {f.split(".")[-1]: n for f, (n, _) in figures.items()
            if f.startswith("disputed.by_primary_reason.")} == \
        report["disputed"]["by_primary_reason"]
    for key in ("count", "matched", "billed_not_reproduced", "billed_undetermined"):
        assert figures[f"reproduction.{key}"][0] == report["reproduction"][key]
    assert figures["observation.confirmed_short_observed"][0] == \
        report["observation"]["confirmed_short_observed"]["items"]


@needs_postgres
def test_psql_runs_the_script_to_the_same_summary_as_auditor_audit(
        pg_database: str, tmp_path: Path) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("no psql client on this machine")
    events, conversations = _canonical_tables(tmp_path)
    billed_units = _billed_units(tmp_path, events)
    _load_postgres(pg_database, {"month_events": events, "month_conversations": conversations,
                                 "month_billed": billed_units})
    out = tmp_path / "sql"
    assert run_cli(["sql", "--dialect", "postgres", "--events", "month_events",
                    "--conversations", "month_conversations", "--billed", "month_billed",
                    "--period", PERIOD, "--prefix", "oct_", "--out", str(out)]).exit_code == 0
    subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                    str(out / "audit.postgres.sql"), pg_database], check=True)
    summary = subprocess.run(
        [psql, "-X", "-A", "-t", "-F", "|", "-c",
         "SELECT figure, items, amount FROM oct_summary ORDER BY figure", pg_database],
        check=True, capture_output=True, text=True).stdout
    figures = {f: (int(n), float(a)) for f, n, a in
               (line.split("|") for line in summary.splitlines() if line)}
    report = json.loads((_local_audit(tmp_path, events, conversations) / "report.json").read_text())
    _assert_summary_is_the_report(figures, report)


@needs_postgres
def test_audit_engine_postgres_writes_the_local_findings(pg_database: str, tmp_path: Path) -> None:
    events, conversations = _canonical_tables(tmp_path)
    _load_postgres(pg_database, {"run_events": events, "run_conversations": conversations})
    out = tmp_path / "engine"
    result = run_cli(["audit", "--engine", "postgres", "--dsn", pg_database, "--events",
                      "run_events", "--conversations", "run_conversations", "--billed",
                      str(SAMPLE / "billed_2026-10.csv"), "--period", PERIOD, "--out", str(out)])
    assert result.exit_code == 1, result.output
    local = _local_audit(tmp_path, events, conversations)
    for name in ("findings.csv", "quarantine.csv"):
        assert (out / name).read_bytes() == (local / name).read_bytes(), name
    engine_report, local_report = (json.loads((d / "report.json").read_text())
                                   for d in (out, local))
    for key in ("billed", "confirmed", "disputed", "unverifiable", "reproduction", "observation"):
        assert engine_report[key] == local_report[key], key


@needs_postgres
def test_validation_in_postgres_gives_local_ingest_statuses(pg_database: str,
                                                            tmp_path: Path) -> None:
    """Odd spellings, bad rows and their conversations: the same statuses and quarantine
    reasons as local ingest of the same canonical rows (only the record's name differs)."""
    events, conversations, billed = write_edge_month(tmp_path / "edge")
    typed = (f"SELECT conversation_id, event_id, CAST(created_at AS TIMESTAMP) AS created_at, "
             f"actor_role, actor_id, event_type, body, CAST(rating AS INTEGER) AS rating, channel "
             f"FROM read_csv('{events}', all_varchar = true)")
    attrs = (f"SELECT conversation_id, customer_id, channel, vendor_label, vendor_state, "
             f"CAST(is_preview AS BOOLEAN) AS is_preview, CAST(ai_answered AS BOOLEAN) AS "
             f"ai_answered FROM read_csv('{conversations}', all_varchar = true)")
    _load_postgres(pg_database, {"edge_events": typed, "edge_conversations": attrs})
    out = tmp_path / "engine"
    args = ["--billed", str(billed), "--period", PERIOD]
    engine_run = run_cli(["audit", "--engine", "postgres", "--dsn", pg_database, "--events",
                          "edge_events", "--conversations", "edge_conversations", "--out",
                          str(out), *args])
    local_run = run_cli(["audit", str(events), str(conversations), "--format", "canonical",
                         "--out", str(tmp_path / "local"), *args])
    assert engine_run.exit_code == local_run.exit_code == 1, engine_run.output
    query = "SELECT line, unit, status, reasons, reproduced FROM '{}' ORDER BY line, unit"
    assert duckdb.sql(query.format(out / "findings.csv")).fetchall() == \
        duckdb.sql(query.format(tmp_path / "local" / "findings.csv")).fetchall()
    reasons = "SELECT conversation_id, field, reason FROM '{}' ORDER BY ALL"
    assert duckdb.sql(reasons.format(out / "quarantine.csv")).fetchall() == \
        duckdb.sql(reasons.format(tmp_path / "local" / "quarantine.csv")).fetchall()
    strict = run_cli(["audit", "--engine", "postgres", "--dsn", pg_database, "--events",
                      "edge_events", "--on-bad-record", "fail", *args])
    assert strict.exit_code == 2
    assert "edge_events, event_id x2, field 'actor_role': unknown actor_role 'robot'" in \
        strict.output


def test_a_password_in_the_dsn_is_never_shown() -> None:
    from auditor.engines.postgres import redact

    assert redact("host=db password=s3cr3t user=a", "host=db password=s3cr3t user=a") == \
        "host=db password=*** user=a"
    assert redact("postgresql://a:p%40ss@db/x failed", "postgresql://a:p%40ss@db/x") == \
        "postgresql://a:***@db/x failed"
    result = run_cli(["audit", "--engine", "postgres", "--dsn",
                      "host=/nonexistent-socket-dir user=a password=hunter2", "--events", "e",
                      "--billed-count", "3"])
    assert result.exit_code == 2 and "hunter2" not in result.output


# --- Spark -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spark_local() -> Iterator[object]:
    if _spark_missing():
        pytest.skip(str(_spark_missing()))
    from auditor.engines.spark import SparkEngine

    # Far from UTC: the preamble each run starts with must pin the session itself.
    target = SparkEngine.start("local[2]", **SPARK_TEST_CONFIG,
                               **{"spark.sql.session.timeZone": "Asia/Kolkata"})
    yield target
    target.close()


# The Intercom month reaches Spark twice more below (spark-sql -f, and `--engine spark` with
# byte-identical findings), so the row-by-row comparison runs on the other two (CI time).
@needs_spark
@pytest.mark.parametrize("month", ["edge", "zendesk"])
def test_spark_local_equals_duckdb(month: str, spark_local: object, tmp_path: Path) -> None:
    local = MONTHS[month](tmp_path)
    assert all_differences(local, spark_local, portable_month(local, spark_local)) == {}


@needs_spark
def test_audit_engine_spark_reads_parquet_paths(spark_local: object, tmp_path: Path) -> None:
    """The Python API with a session the caller owns; inputs as Parquet paths."""
    from auditor.pipeline import AuditRequest
    from auditor.reconcile import Period
    from auditor.warehouse.run import WarehouseInput, audit_on_engine

    events, conversations = _canonical_tables(tmp_path)
    view_events = spark_local.register_input("month_events", str(events))  # type: ignore[attr-defined]
    view_conversations = spark_local.register_input(  # type: ignore[attr-defined]
        "month_conversations", str(conversations))
    request = AuditRequest(exports=[], billed_csv=str(SAMPLE / "billed_2026-10.csv"),
                           period=Period.parse(PERIOD))
    out = tmp_path / "spark"
    audit_on_engine(spark_local, request, WarehouseInput(view_events, view_conversations),  # type: ignore[arg-type]
                    out)
    local = _local_audit(tmp_path, events, conversations)
    assert (out / "findings.csv").read_bytes() == (local / "findings.csv").read_bytes()


@needs_spark
def test_spark_sql_runs_the_script_to_the_same_summary_as_auditor_audit(
        spark_sql_summaries: dict[str, tuple[dict[str, tuple[int, float]], dict]]) -> None:
    """`auditor sql --dialect spark` as spark-sql -f runs it (its own catalog, Parquet tables)."""
    figures, report = spark_sql_summaries["canonical"]
    _assert_summary_is_the_report(figures, report)


@needs_postgres
@settings(max_examples=10, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=generated_month())
def test_postgres_equals_duckdb_on_generated_months(
        pg_database: str, tmp_path_factory: pytest.TempPathFactory,
        data: tuple[list[list[object]], list[list[object]]]) -> None:
    from auditor.engines.postgres import PostgresEngine

    rows, billed = data
    if not rows:
        return
    folder = tmp_path_factory.mktemp("generated")
    events = write_csv(folder / "events.csv", EVENT_HEADER, rows)
    bill = write_csv(folder / "billed.csv", BILLED_HEADER, billed) if billed else None
    local = fast_month([events], bill, fmt="canonical")
    target = PostgresEngine(pg_database)
    try:
        assert all_differences(local, target, portable_month(local, target)) == {}
    finally:
        target.close()
        local.con.close()


# --- Fivetran's Intercom tables as the source ----------------------------------------------------

FIVETRAN = SAMPLE / "fivetran_intercom_2026-10"
FIN = "8130467"


def _fivetran_billed(tmp_path: Path) -> Path:
    """The sample bill as a billed-units table (Parquet) for the Fivetran month."""
    from auditor import billing, engine

    billed_units = tmp_path / "fivetran_billed.parquet"
    local = engine.connect()
    local.execute(f"CREATE TABLE ids AS SELECT CAST(id AS VARCHAR) AS conversation_id "
                  f"FROM read_csv('{FIVETRAN / 'conversation_history.csv.gz'}')")
    billing.load_billed_csv(local, SAMPLE / "billed_2026-10.csv", export_ids="ids")
    local.execute(f"COPY (SELECT * FROM billed) TO '{billed_units}' (FORMAT parquet)")
    local.close()
    return billed_units


def _fivetran_local_report(tmp_path: Path) -> dict:
    out = tmp_path / "fivetran_local"
    result = run_cli(["audit", str(FIVETRAN), "--ai-agent-id", FIN, "--billed",
                      str(SAMPLE / "billed_2026-10.csv"), "--period", PERIOD, "--out", str(out)])
    assert result.exit_code == 1, result.output
    return json.loads((out / "report.json").read_text())


@needs_postgres
def test_psql_runs_the_fivetran_intercom_script_to_the_local_summary(
        pg_database: str, tmp_path: Path) -> None:
    """`auditor sql --source fivetran-intercom` over the tables in a PostgreSQL schema (ids
    BIGINT, times TIMESTAMP, flags BOOLEAN, as the connector types them) gives the summary of
    the local audit of the same tables as files."""
    import psycopg

    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("no psql client on this machine")
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute("DROP SCHEMA IF EXISTS ft_intercom CASCADE")
        admin.execute("CREATE SCHEMA ft_intercom")
    tables: dict[str, Path | str] = {f"ft_intercom.{path.name.split('.')[0]}": path
                                     for path in FIVETRAN.iterdir()}
    _load_postgres(pg_database, {**tables, "ft_billed": _fivetran_billed(tmp_path)})
    out = tmp_path / "sql"
    result = run_cli(["sql", "--dialect", "postgres", "--source", "fivetran-intercom", "--schema",
                      "ft_intercom", "--ai-agent-id", FIN, "--billed", "ft_billed", "--period",
                      PERIOD, "--prefix", "fti_", "--out", str(out)])
    assert result.exit_code == 0, result.output
    subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                    str(out / "audit.postgres.sql"), pg_database], check=True)
    summary = subprocess.run(
        [psql, "-X", "-A", "-t", "-F", "|", "-c",
         "SELECT figure, items, amount FROM fti_summary ORDER BY figure", pg_database],
        check=True, capture_output=True, text=True).stdout
    figures = {f: (int(n), float(a)) for f, n, a in
               (line.split("|") for line in summary.splitlines() if line)}
    _assert_summary_is_the_report(figures, _fivetran_local_report(tmp_path))


@needs_spark
def test_spark_sql_runs_the_fivetran_intercom_script_to_the_local_summary(
        spark_sql_summaries: dict[str, tuple[dict[str, tuple[int, float]], dict]]) -> None:
    """The same on Spark (spark-sql -f): the tables as Parquet in a database `ft_intercom`."""
    figures, report = spark_sql_summaries["fivetran"]
    _assert_summary_is_the_report(figures, report)


# --- spark-sql -f: both scripts in one spark-sql process ---------------------------------------

@pytest.fixture(scope="module")
def spark_sql_summaries(tmp_path_factory: pytest.TempPathFactory
                        ) -> dict[str, tuple[dict[str, tuple[int, float]], dict]]:
    """Each script's audit_summary as spark-sql -f prints it, with the local report.json it
    must equal: one spark-sql run for both (a spark-sql start with its metastore takes about
    20 s; the scripts drop and recreate every table they build, so they can run one after
    the other in one session)."""
    if _spark_missing():
        pytest.skip(str(_spark_missing()))
    import pyspark

    runs = {"canonical": _canonical_script(tmp_path_factory.mktemp("spark_sql_canonical")),
            "fivetran": _fivetran_script(tmp_path_factory.mktemp("spark_sql_fivetran"))}
    script = "".join(
        f"{setup}{(folder / 'audit.spark.sql').read_text()}"
        f"SELECT '{label}', figure, items, amount FROM audit_summary ORDER BY figure;\n"
        for label, (folder, setup, _) in runs.items())
    figures = _spark_sql_run(Path(pyspark.__file__).parent / "bin" / "spark-sql",
                             tmp_path_factory.mktemp("spark_sql"), script)
    return {label: (figures[label], report) for label, (_, _, report) in runs.items()}


def _canonical_script(tmp_path: Path) -> tuple[Path, str, dict]:
    """The sample month's script over temporary views of Parquet files, and the local report."""
    events, conversations = _canonical_tables(tmp_path)
    billed_units = _billed_units(tmp_path, events)
    assert run_cli(["sql", "--dialect", "spark", "--events", "month_events", "--conversations",
                    "month_conversations", "--billed", "month_billed", "--period", PERIOD,
                    "--out", str(tmp_path)]).exit_code == 0
    views = "".join(f"CREATE TEMPORARY VIEW {name} USING parquet OPTIONS (path '{path}');\n"
                    for name, path in (("month_events", events),
                                       ("month_conversations", conversations),
                                       ("month_billed", billed_units)))
    report = json.loads((_local_audit(tmp_path, events, conversations) / "report.json").read_text())
    return tmp_path, views, report


def _fivetran_script(tmp_path: Path) -> tuple[Path, str, dict]:
    """The Fivetran month's script over tables in a database, and the local report."""
    tables = []
    for path in FIVETRAN.iterdir():  # typed as DuckDB reads them: BIGINT ids, TIMESTAMP times
        name = path.name.split(".")[0]
        parquet = tmp_path / f"{name}.parquet"
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{path}')) TO '{parquet}' (FORMAT parquet)")
        tables.append((f"ft_intercom.{name}", parquet))
    tables.append(("ft_billed", _fivetran_billed(tmp_path)))
    assert run_cli(["sql", "--dialect", "spark", "--source", "fivetran-intercom", "--schema",
                    "ft_intercom", "--ai-agent-id", FIN, "--billed", "ft_billed", "--period",
                    PERIOD, "--out", str(tmp_path)]).exit_code == 0
    setup = "SET spark.sql.session.timeZone = UTC;\nCREATE DATABASE IF NOT EXISTS ft_intercom;\n"
    setup += "".join(f"CREATE TABLE {name} USING parquet OPTIONS (path '{path}');\n"
                     for name, path in tables)
    return tmp_path, setup, _fivetran_local_report(tmp_path)


def _spark_sql_run(spark_sql: Path, tmp_path: Path,
                   script_text: str) -> dict[str, dict[str, tuple[int, float]]]:
    """Run the script in Spark's own spark-sql shell (a subprocess, as an auditor would) and
    read back its labelled summary rows: label -> figure -> (items, amount)."""
    script = tmp_path / "run.sql"
    script.write_text(script_text)
    env = {**os.environ, "SPARK_HOME": str(spark_sql.parent.parent)}
    result = subprocess.run(
        [str(spark_sql), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
         "--conf", f"spark.sql.warehouse.dir={tmp_path / 'warehouse'}",
         "--conf", "spark.sql.shuffle.partitions=2", "--conf",
         "spark.sql.codegen.wholeStage=false", "--driver-java-options", SPARK_TEST_JVM,
         "-S", "-f", str(script)],
        check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    figures: dict[str, dict[str, tuple[int, float]]] = {}
    for line in result.stdout.splitlines():
        if line.count("\t") == 3:
            label, figure, items, amount = line.split("\t")
            figures.setdefault(label, {})[figure] = (int(items), float(amount))
    return figures
