"""Shared test plumbing: paths, tiny event logs, and a CLI runner."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]
# Third-party samples, each folder with its license and provenance README (tests/fixtures/README.md).
SAMPLES = REPO / "tests" / "fixtures"
EVENT_HEADER = ["conversation_id", "created_at", "actor_role", "actor_id", "event_type", "body",
                "rating"]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    from auditor import engine

    connection = engine.connect()
    yield connection
    connection.close()


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_events(path: Path, rows: list[list[object]]) -> Path:
    """Rows in EVENT_HEADER order; short rows are padded with empty cells."""
    padded = [row + [""] * (len(EVENT_HEADER) - len(row)) for row in rows]
    return write_csv(path, EVENT_HEADER, padded)


def run_cli(args: list[str]) -> Result:
    """Invoke `auditor` in-process; unexpected exceptions fail the test instead of hiding."""
    from auditor.cli import cli  # imports each command's module when it is used

    return CliRunner().invoke(cli, args, catch_exceptions=False)


# The slowest modules (real engines, hypothesis over whole audits) first: with `-n auto
# --dist loadscope` (pyproject.toml) a long module handed out last would run on alone.
SLOWEST_FIRST = ["test_warehouse_engines", "test_warehouse_spark_standalone",
                 "test_warehouse_equivalence", "test_properties", "test_fuzz", "test_browser",
                 "test_reports"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.path.stem
        return SLOWEST_FIRST.index(module) if module in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within a module is kept
