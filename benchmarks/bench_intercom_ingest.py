"""Intercom JSONL ingestion vs DuckDB's own read_json scan of the same file, in the same run.

    python benchmarks/bench_intercom_ingest.py [--conversations 100000] [--repeats 3] [--work DIR]

Builds (once) a JSONL file of N Intercom conversations by re-numbering copies of the sample
month, then times `auditor.sources.load_sources(..., "intercom")` (parse, map to canonical
events, validate) against `CREATE TABLE AS SELECT * FROM read_json(file)`. Target: ratio <= 3.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import median_time  # noqa: E402

from auditor import engine  # noqa: E402
from auditor.sources import load_sources  # noqa: E402

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_data" / "intercom_2026-10.jsonl.gz"


def build_file(path: Path, conversations: int) -> None:
    """Copies of the sample month with fresh conversation ids, until N conversations."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(SAMPLE, "rt") as handle:  # only as many as needed: a small run stays quick
        originals = [json.loads(line) for line in itertools.islice(handle, conversations)]
    with open(path, "w") as out:
        for n in range(conversations):
            record = originals[n % len(originals)]
            record["id"] = str(10_000_000 + n)
            out.write(json.dumps(record) + "\n")


def ingest(path: Path) -> None:
    con = engine.connect()
    load_sources(con, [str(path)], "intercom")
    con.close()


def scan(path: Path) -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_json('{path}', format = 'newline_delimited')")
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE, metavar="DIR",
                        help="folder for the generated data/ (default: benchmarks/)")
    args = parser.parse_args()
    path = args.work / "data" / f"intercom-{args.conversations}.jsonl"
    build_file(path, args.conversations)
    scan(path)  # warm the page cache for both
    ratios = []
    for _ in range(args.repeats):
        base = median_time(lambda: scan(path), 1)
        ours = median_time(lambda: ingest(path), 1)
        ratios.append((ours / base, ours, base))
    ratio, ours, base = sorted(ratios)[len(ratios) // 2]
    print(f"file: {path.name} ({path.stat().st_size / 2**20:.0f} MiB, {args.conversations:,} conversations)")
    print(f"read_json scan: {base:.2f} s; auditor intercom ingest: {ours:.2f} s (median of {args.repeats})")
    print(f"ratio ingest / read_json: {ratio:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
