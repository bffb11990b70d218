"""End-to-end audit vs one hand-written DuckDB query, on the same files, in the same run.

    python benchmarks/bench_audit.py [--conversations 1000000] [--repeats 3] [--work DIR]

Generates (once) a canonical month with sample_data/generate.py --canonical, then times
`auditor audit` end to end and the baseline query (benchmarks/baseline_statuses.sql), each in a
fresh process, and prints the ratio and the audit's peak memory. Targets: ratio <= 3, peak <= 2 GiB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import gib, run_child  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def ensure_data(folder: Path, conversations: int) -> None:
    marker = folder / f".generated-{conversations}"
    if marker.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(REPO / "sample_data" / "generate.py"), "--canonical",
                    str(conversations), "--out", str(folder)], check=True)
    marker.touch()


def baseline_argv(folder: Path, out: Path) -> list[str]:
    sql = (HERE / "baseline_statuses.sql").read_text().format(
        events=f"'{folder / 'events.parquet'}'", conversations=f"'{folder / 'conversations.parquet'}'",
        billed=f"'{folder / 'billed.csv'}'", out=f"'{out}'")
    code = f"import duckdb; duckdb.connect().execute({sql!r})"
    return [sys.executable, "-c", code]


def audit_argv(folder: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "auditor", "audit", str(folder / "events.parquet"),
            str(folder / "conversations.parquet"), "--format", "canonical",
            "--billed", str(folder / "billed.csv"), "--period", "2026-10-01..2026-10-31",
            "--out", str(out)]


def same_statuses(baseline: Path, findings: Path) -> bool:
    query = (f"SELECT count(*) FROM read_parquet('{baseline}') b "
             f"FULL JOIN read_parquet('{findings}') f USING (line) WHERE b.status IS DISTINCT FROM f.status")
    return duckdb.execute(query).fetchall()[0][0] == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE, metavar="DIR",
                        help="folder for the generated data/ and the out/ files (default: benchmarks/)")
    args = parser.parse_args()
    folder = args.work / "data" / f"canonical-{args.conversations}"
    ensure_data(folder, args.conversations)
    out = args.work / "out"
    out.mkdir(exist_ok=True)
    runs = []
    for _ in range(args.repeats):  # interleaved, so both see the same machine noise
        base_s, base_rss = run_child(baseline_argv(folder, out / "baseline.parquet"))
        audit_s, audit_rss = run_child(audit_argv(folder, out / "audit"))
        runs.append((audit_s / base_s, audit_s, base_s, audit_rss))
    ratio, audit_s, base_s, peak = sorted(runs)[len(runs) // 2]
    events = duckdb.execute("SELECT count(*) FROM read_parquet(?)",
                            [str(folder / "events.parquet")]).fetchall()[0][0]
    billed = duckdb.execute("SELECT count(*) FROM read_csv(?)", [str(folder / "billed.csv")]).fetchall()[0][0]
    print(f"conversations: {args.conversations:,}; events: {events:,}; billed lines: {billed:,}")
    print(f"baseline query: {base_s:.2f} s; auditor audit: {audit_s:.2f} s (median of {args.repeats})")
    print(f"ratio audit / baseline: {ratio:.2f}x (target <= 3x)")
    print(f"audit peak memory: {gib(max(r[3] for r in runs))} (target <= 2 GiB)")
    print(f"statuses identical to the baseline: {same_statuses(out / 'baseline.parquet', out / 'audit' / 'findings.parquet')}")


if __name__ == "__main__":
    main()
