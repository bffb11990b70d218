"""Where the audit's time goes: every DuckDB statement of one in-process audit, timed.

    python benchmarks/profile_audit.py DATA_FOLDER [--top 25] [--explain]

DATA_FOLDER holds a canonical month (events.parquet, conversations.parquet, billed.csv; see
bench_audit.py). Prints the pipeline's stages and the slowest statements (first line of SQL);
with --explain, DuckDB's EXPLAIN ANALYZE of the slowest few as well. For the Python side run
`pyinstrument benchmarks/profile_audit.py DATA_FOLDER`.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from auditor import engine, pipeline
from auditor.reconcile import Period


class TimedConnection:
    """A DuckDB connection that records how long each statement took."""

    def __init__(self, con, log: list[tuple[float, str]]) -> None:
        self._con, self._log = con, log

    def execute(self, query: str, *args, **kwargs):
        started = time.perf_counter()
        result = self._con.execute(query, *args, **kwargs)
        self._log.append((time.perf_counter() - started, query))
        return self

    def fetchall(self):
        return self._con.fetchall()

    def fetchone(self):
        return self._con.fetchone()

    def close(self) -> None:  # kept open for --explain; closed by main()
        pass

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--explain", type=int, default=0, metavar="N",
                        help="EXPLAIN ANALYZE the N slowest statements (re-runs them)")
    args = parser.parse_args()
    log: list[tuple[float, str]] = []
    connect = engine.connect
    opened = []

    def timed_connect(*a, **k):
        opened.append(TimedConnection(connect(*a, **k), log))
        return opened[-1]

    engine.connect = timed_connect  # type: ignore[assignment]
    pipeline.engine.connect = timed_connect  # type: ignore[attr-defined]
    request = pipeline.AuditRequest(
        exports=[str(args.folder / "events.parquet"), str(args.folder / "conversations.parquet")],
        format="canonical", billed_csv=str(args.folder / "billed.csv"),
        period=Period.parse("2026-10-01..2026-10-31"))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        pipeline.audit(request, Path(out), progress=lambda m: print(m, file=sys.stderr))
    total = time.perf_counter() - started
    print(f"total in-process {total:.2f} s; {len(log)} statements, {sum(t for t, _ in log):.2f} s in DuckDB")
    for seconds, query in sorted(log, key=lambda x: -x[0])[: args.top]:
        first = re.sub(r"\s+", " ", query.strip())[:150]
        print(f"{seconds:7.2f} s  {first}")
    con = opened[0]._con
    for seconds, query in sorted(log, key=lambda x: -x[0])[: args.explain]:
        select = re.sub(r"^\s*CREATE (OR REPLACE )?(TEMP )?TABLE \w+ AS", "", query, flags=re.S)
        if select.lstrip().upper().startswith(("SELECT", "WITH")):
            plan = con.execute("EXPLAIN ANALYZE " + select).fetchall()
            print(f"\n===== {seconds:.2f} s =====\n" + plan[0][1])
    con.close()


if __name__ == "__main__":
    main()
