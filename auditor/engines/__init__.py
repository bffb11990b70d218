"""Engines the audit's portable SQL runs on, behind one small interface.

An engine executes SQL text in its own dialect, creates a table from a SELECT, returns query results as Arrow tables, says
whether a table exists, loads a small Arrow table (the billed list), and closes. The local
DuckDB run does not go through here (auditor/engine.py is its connection); these are for
`auditor audit --engine` and the tests proving every engine gives the same answers.
"""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa


class Engine(Protocol):
    dialect: str

    def execute(self, sql: str) -> None: ...

    def create_table(self, name: str, select_sql: str) -> None:
        """Replace table `name` with the result of a SELECT in the engine's dialect."""

    def fetch_arrow(self, sql: str) -> pa.Table: ...

    def table_exists(self, name: str) -> bool: ...

    def columns(self, name: str) -> list[str]: ...

    def load_arrow(self, name: str, table: pa.Table) -> None: ...

    def close(self) -> None: ...
