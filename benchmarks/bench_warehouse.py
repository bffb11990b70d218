"""The audit run inside PostgreSQL or Spark, timed, and checked equal to the local run.

    python benchmarks/bench_warehouse.py --engine postgres --dsn 'host=/tmp/pg dbname=bench' \\
        [--conversations 1000000] [--work DIR]
    python benchmarks/bench_warehouse.py --engine spark [--spark-master local[2]] ...

Generates (once) the canonical month bench_audit.py uses, loads it into the engine (PostgreSQL:
COPY into tables; Spark: reads the Parquet files where they are), times `auditor audit
--engine` (validation, facts, verdicts, findings in the engine; evidence and report here) and
the local `auditor audit` of the same files, and checks that findings.csv is byte for byte the
same. Prints seconds, not ratios: the engines are other programs on the same machine.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from bench_audit import ensure_data  # noqa: E402

from auditor.pipeline import AuditRequest, audit  # noqa: E402
from auditor.reconcile import Period  # noqa: E402
from auditor.warehouse.run import WarehouseInput, audit_on_engine  # noqa: E402

PERIOD = "2026-10-01..2026-10-31"


def load_postgres(dsn: str, folder: Path) -> float:
    """events and conversations tables from the Parquet files, by COPY in batches."""
    import psycopg

    from auditor.engines.postgres import PostgresEngine

    started = time.perf_counter()
    target = PostgresEngine(dsn)
    try:
        for name, file in (("bench_events", "events.parquet"),
                           ("bench_conversations", "conversations.parquet")):
            reader = duckdb.sql(f"SELECT * FROM '{folder / file}'").to_arrow_reader(200_000)
            first = True
            for batch in reader:
                if first:  # creates the table with the batch's types
                    target.load_arrow(name, pa.Table.from_batches([batch.slice(0, 0)]))
                    first = False
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(
                    include_header=False, quoting_style="needed"))
                with target.conn.cursor() as cursor, cursor.copy(
                        f"COPY {name} FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
            target.execute(f"ANALYZE {name}")
    except psycopg.Error as exc:
        sys.exit(f"loading failed: {exc}")
    finally:
        target.close()
    return time.perf_counter() - started


def request(folder: Path, exports: list[str]) -> AuditRequest:
    return AuditRequest(exports=exports, format="canonical",
                        billed_csv=str(folder / "billed.csv"), period=Period.parse(PERIOD))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["postgres", "spark"], required=True)
    parser.add_argument("--dsn", default="")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=HERE, metavar="DIR")
    args = parser.parse_args()
    folder = args.work / "data" / f"canonical-{args.conversations}"
    ensure_data(folder, args.conversations)
    out = args.work / "out" / f"warehouse-{args.engine}"
    if args.engine == "postgres":
        loaded = load_postgres(args.dsn, folder)
        from auditor.engines.postgres import PostgresEngine

        target = PostgresEngine(args.dsn)
        where = WarehouseInput("bench_events", "bench_conversations", prefix="bench_audit_")
        print(f"loaded into PostgreSQL: {loaded:.1f} s")
    else:
        from auditor.engines.spark import SparkEngine

        started = time.perf_counter()
        target = SparkEngine.start(args.spark_master, **{"spark.ui.showConsoleProgress": "false",
                                                         "spark.driver.memory": "3g"})
        where = WarehouseInput(target.register_input("bench_events", str(folder / "events.parquet")),
                               target.register_input("bench_conversations",
                                                     str(folder / "conversations.parquet")))
        print(f"Spark session started: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    try:
        audit_on_engine(target, request(folder, []), where, out / "engine",
                        progress=lambda m: print("  " + m, flush=True))
    finally:
        target.close()
    engine_s = time.perf_counter() - started
    started = time.perf_counter()
    audit(request(folder, [str(folder / "events.parquet"), str(folder / "conversations.parquet")]),
          out / "local")
    local_s = time.perf_counter() - started
    events = duckdb.sql(f"SELECT count(*) FROM '{folder / 'events.parquet'}'").fetchall()[0][0]
    same = (out / "engine" / "findings.csv").read_bytes() == (out / "local" / "findings.csv").read_bytes()
    print(f"conversations: {args.conversations:,}; events: {events:,}")
    print(f"auditor audit --engine {args.engine}: {engine_s:.1f} s; local auditor audit: {local_s:.1f} s")
    print(f"findings.csv identical to the local run: {same}")


if __name__ == "__main__":
    main()
