"""The local audit at 10,000,000 conversations within a memory budget.

    python benchmarks/bench_scale.py [--copies 10] [--memory-limit 3GB] [--work DIR]

Builds a month of copies x 1,000,000 conversations from the 1M canonical month bench_audit.py
generates (each copy's conversation and customer ids suffixed, so copies never meet), then runs
`auditor audit` on it in a fresh process with AUDITOR_MEMORY_LIMIT (DuckDB spills beyond it)
and prints the time and the process's peak memory. Target: peak <= 4 GiB.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _measure import gib, run_child  # noqa: E402
from bench_audit import ensure_data  # noqa: E402

BASE = 1_000_000


def build(source: Path, folder: Path, copies: int) -> None:
    marker = folder / f".built-{copies}"
    if marker.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    copy = f"range(0, {copies}) AS k(k)"
    con.execute(f"""
        COPY (SELECT * EXCLUDE (k) REPLACE (conversation_id || '-' || k AS conversation_id,
                                CASE WHEN actor_role = 'customer' THEN actor_id || '-' || k
                                     ELSE actor_id END AS actor_id)
              FROM '{source / 'events.parquet'}', {copy})
        TO '{folder / 'events.parquet'}' (FORMAT parquet, COMPRESSION zstd)""")
    con.execute(f"""
        COPY (SELECT * EXCLUDE (k) REPLACE (conversation_id || '-' || k AS conversation_id,
                                customer_id || '-' || k AS customer_id)
              FROM '{source / 'conversations.parquet'}', {copy})
        TO '{folder / 'conversations.parquet'}' (FORMAT parquet, COMPRESSION zstd)""")
    con.execute(f"""
        COPY (SELECT * EXCLUDE (k, n) REPLACE (conversation_id || '-' || k AS conversation_id)
              FROM (SELECT *, row_number() OVER () AS n FROM read_csv('{source / 'billed.csv'}',
                                                                    all_varchar = true)), {copy}
              ORDER BY k, n)
        TO '{folder / 'billed.csv'}' (FORMAT csv, HEADER true)""")
    con.close()
    marker.touch()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--work", type=Path, default=HERE, metavar="DIR")
    args = parser.parse_args()
    source = args.work / "data" / f"canonical-{BASE}"
    ensure_data(source, BASE)
    folder = args.work / "data" / f"canonical-{BASE}x{args.copies}"
    started = time.perf_counter()
    build(source, folder, args.copies)
    print(f"data built in {time.perf_counter() - started:.0f} s")
    os.environ["AUDITOR_MEMORY_LIMIT"] = args.memory_limit
    argv = [sys.executable, "-m", "auditor", "audit", str(folder / "events.parquet"),
            str(folder / "conversations.parquet"), "--format", "canonical", "--billed",
            str(folder / "billed.csv"), "--period", "2026-10-01..2026-10-31", "--out",
            str(args.work / "out" / f"scale-{args.copies}")]
    seconds, peak, _ = run_child(argv)
    con = duckdb.connect()
    events = con.execute(f"SELECT count(*) FROM '{folder / 'events.parquet'}'").fetchall()[0][0]
    lines = con.execute(f"SELECT count(*) FROM read_csv('{folder / 'billed.csv'}')").fetchall()[0][0]
    print(f"conversations: {BASE * args.copies:,}; events: {events:,}; billed lines: {lines:,}")
    print(f"auditor audit: {seconds:.0f} s, peak memory {gib(peak)} "
          f"(AUDITOR_MEMORY_LIMIT={args.memory_limit}; target <= 4 GiB)")


if __name__ == "__main__":
    main()
