"""DuckDB as an engine of the portable SQL: the reference the other engines are compared to."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from auditor.warehouse import dialects


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = con if con is not None else duckdb.connect(":memory:")

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def create_table(self, name: str, select_sql: str) -> None:
        for statement in dialects.create_table(self.dialect, name, select_sql):
            self.execute(statement)

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def table_exists(self, name: str) -> bool:
        return bool(self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0]
            or self.con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?",
                                [name]).fetchall()[0][0])

    def columns(self, name: str) -> list[str]:
        return [str(r[0]).lower() for r in self.con.execute(f"DESCRIBE {name}").fetchall()]

    def load_arrow(self, name: str, table: pa.Table) -> None:
        self.con.register("_auditor_upload", table)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _auditor_upload")
        finally:
            self.con.unregister("_auditor_upload")

    def close(self) -> None:
        self.con.close()
