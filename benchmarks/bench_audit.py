"""End-to-end audit vs the leanest hand-written DuckDB query, on the same files, in the same run.

    python benchmarks/bench_audit.py [--conversations 1000000 10000000] [--repeats 3] [--work DIR]

For each size, generates (once) a canonical month with sample_data/generate.py --canonical, then
times, each in a fresh process and interleaved (limit, baseline, audit, limit, ...):
- the limit: `limit_statuses.sql`, the leanest query we know for the per-line statuses of the
  strict contract (copied from the project's shared reference material);
- the baseline: `baseline_statuses.sql`, the first hand-written query (kept for comparison);
- `auditor audit` end to end (start-up, reading and validating, facts, verdicts, evidence,
  reconciliation, all report files), with its stage timings (AUDITOR_PROGRESS).
Prints both ratios (median of the per-run ratios), each side's median time, the audit's time
by stage, its peak memory, and whether its statuses equal the limit's and the baseline's, line
for line. Targets: audit / limit <= 2x, peak memory <= 2 GiB.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import gib, run_child  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# The audit's progress lines (pipeline.Stage) that end each stage, and the stage's name here.
STAGES = (
    (r"events \(", "reading and validating the export"),
    (r"facts and verdicts computed", "facts, billed list and verdicts"),
    (r"billed lines reconciled", "reconciliation"),
    (r"report written", "report and findings files"),
)


def ensure_data(folder: Path, conversations: int) -> None:
    marker = folder / f".generated-{conversations}"
    if marker.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(REPO / "sample_data" / "generate.py"), "--canonical",
                    str(conversations), "--out", str(folder)], check=True)
    marker.touch()


def query_argv(sql_file: str, folder: Path, out: Path) -> list[str]:
    sql = (HERE / sql_file).read_text().format(
        events=f"'{folder / 'events.parquet'}'", conversations=f"'{folder / 'conversations.parquet'}'",
        billed=f"'{folder / 'billed.csv'}'", out=f"'{out}'")
    code = f"import duckdb; duckdb.connect().execute({sql!r})"
    return [sys.executable, "-c", code]


def audit_argv(folder: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "auditor", "audit", str(folder / "events.parquet"),
            str(folder / "conversations.parquet"), "--format", "canonical",
            "--billed", str(folder / "billed.csv"), "--period", "2026-10-01..2026-10-31",
            "--out", str(out)]


def stage_seconds(stderr: str, total: float) -> dict[str, float]:
    """The audit's time by stage, from its progress lines ("[  12.3s] message")."""
    marks = [(float(t), message) for t, message in
             re.findall(r"^\[\s*([0-9.]+)s\] (.*)$", stderr, re.MULTILINE)]
    split: dict[str, float] = {}
    previous = 0.0
    for pattern, name in STAGES:
        found = next((t for t, message in marks if re.search(pattern, message)), None)
        if found is not None:
            split[name] = found - previous
            previous = found
    # Before the first progress line and after the last: interpreter start-up, imports, exit.
    split["start-up, imports and exit"] = total - previous
    return split


def same_statuses(reference: Path, findings: Path) -> bool:
    query = (f"SELECT count(*) FROM read_parquet('{reference}') b "
             f"FULL JOIN read_parquet('{findings}') f USING (line) WHERE b.status IS DISTINCT FROM f.status")
    return duckdb.execute(query).fetchall()[0][0] == 0


# What the limit query does not look at (it reads neither the conversation attributes nor the
# invoice period): lines the audit disputes for these reasons alone may be confirmed there.
LIMIT_BLIND_REASONS = ("preview", "outside_period")


def limit_check(limit: Path, findings: Path) -> str:
    """Whether the audit's statuses equal the limit's, line by line; lines that differ only
    because of LIMIT_BLIND_REASONS are counted apart."""
    blind = ", ".join(f"'{r}'" for r in LIMIT_BLIND_REASONS)
    differ, explained, lines = duckdb.execute(f"""
        SELECT count(*) FILTER (WHERE b.status IS DISTINCT FROM f.status),
               count(*) FILTER (WHERE b.status IS DISTINCT FROM f.status AND b.status = 'confirmed'
                                AND f.status = 'disputed'
                                AND list_has_any(string_split(f.reasons, ';'), [{blind}])),
               count(*)
        FROM read_parquet('{limit}') b FULL JOIN read_parquet('{findings}') f USING (line)
    """).fetchall()[0]
    if not differ:
        return f"True (all {lines:,} lines)"
    if differ == explained:
        return (f"True on the {lines - differ:,} lines it can judge; the other {differ:,} the "
                f"audit disputes for {' or '.join(LIMIT_BLIND_REASONS)}, which the limit query "
                "does not read")
    return f"False ({differ - explained:,} of {lines:,} lines differ)"


def compile_package() -> None:
    """Byte-compile the package first, as `pip install` does. Where PYTHONDONTWRITEBYTECODE is
    set (as on the machines this project is developed on), an editable install would
    otherwise compile every module at each start-up: about 0.25 s an installed copy never pays."""
    compileall.compile_dir(REPO / "auditor", quiet=1)


def bench_size(work: Path, conversations: int, repeats: int) -> None:
    folder = work / "data" / f"canonical-{conversations}"
    ensure_data(folder, conversations)
    compile_package()
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AUDITOR_PROGRESS": "1"}
    runs = []
    for _ in range(repeats):  # interleaved, so all three see the same machine noise
        limit_s, _, _ = run_child(query_argv("limit_statuses.sql", folder, out / "limit.parquet"))
        base_s, _, _ = run_child(query_argv("baseline_statuses.sql", folder,
                                            out / "baseline.parquet"))
        audit_s, audit_rss, stderr = run_child(audit_argv(folder, out / "audit"), env)
        runs.append({"limit": limit_s, "baseline": base_s, "audit": audit_s, "rss": audit_rss,
                     "stages": stage_seconds(stderr, audit_s)})
    median = {k: statistics.median(r[k] for r in runs) for k in ("limit", "baseline", "audit")}
    to_limit = statistics.median(r["audit"] / r["limit"] for r in runs)
    to_base = statistics.median(r["audit"] / r["baseline"] for r in runs)
    middle = sorted(runs, key=lambda r: r["audit"])[len(runs) // 2]
    events = duckdb.execute("SELECT count(*) FROM read_parquet(?)",
                            [str(folder / "events.parquet")]).fetchall()[0][0]
    billed = duckdb.execute("SELECT count(*) FROM read_csv(?)", [str(folder / "billed.csv")]).fetchall()[0][0]
    findings = out / "audit" / "findings.parquet"
    print(f"== conversations: {conversations:,}; events: {events:,}; billed lines: {billed:,}")
    print(f"limit query: {median['limit']:.2f} s; baseline query: {median['baseline']:.2f} s; "
          f"auditor audit: {median['audit']:.2f} s (medians of {repeats}, interleaved)")
    print(f"ratio audit / limit: {to_limit:.2f}x (target <= 2x)")
    print(f"ratio audit / baseline: {to_base:.2f}x (target <= 3x)")
    print("audit by stage (median run): " + "; ".join(
        f"{name} {seconds:.2f} s" for name, seconds in middle["stages"].items()))
    print(f"audit peak memory: {gib(max(r['rss'] for r in runs))} (target <= 2 GiB)")
    print(f"statuses identical to the limit: {limit_check(out / 'limit.parquet', findings)}")
    print(f"statuses identical to the baseline: {same_statuses(out / 'baseline.parquet', findings)}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        metavar="N", help="sizes to measure, in order (default: 1000000 10000000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE, metavar="DIR",
                        help="folder for the generated data/ and the out/ files (default: benchmarks/)")
    args = parser.parse_args()
    for conversations in args.conversations:
        bench_size(args.work, conversations, args.repeats)


if __name__ == "__main__":
    main()
