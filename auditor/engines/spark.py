"""Apache Spark (4.x) through pyspark: `pip install 'resolution-auditor[spark]'` and a Java
runtime. Work tables are checkpointed temporary views (kept by the executors), so a run writes
nothing to the warehouse, and each statement's plan starts from its inputs' data rather than
from their whole lineage (cached views would make Spark analyse every earlier stage again);
inputs are tables Spark knows or Parquet paths it can read (local, s3a://, hdfs://).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from auditor.errors import UsageError

PATH = re.compile(r"^(/|\.{1,2}/|[a-z][a-z0-9+.-]*://)|\.parquet$")
TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")


def _import_pyspark() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--engine spark needs pyspark and a Java runtime",
                         "pip install 'resolution-auditor[spark]'") from None
    return SparkSession


class SparkEngine:
    dialect = "spark"

    def __init__(self, session: Any, *, owned: bool = False) -> None:
        """Wrap a SparkSession (e.g. the one spark-submit gives a job); `owned`: stop it on
        close."""
        self.spark, self.owned = session, owned

    @classmethod
    def start(cls, master: str = "local[*]", **config: str) -> SparkEngine:
        builder = (_import_pyspark().builder.master(master).appName("resolution-auditor")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.ui.enabled", "false")
                   # Work tables are views: no spark-warehouse/ folder in the user's directory.
                   .config("spark.sql.warehouse.dir",
                           str(Path(tempfile.gettempdir()) / "auditor-spark-warehouse")))
        for key, value in config.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # no Java, an unreachable master
            first = (str(exc).strip().splitlines() or [""])[0]
            raise UsageError(f"cannot start Spark ({master}): {first}",
                             "is a Java runtime installed (java -version)?") from None
        session.sparkContext.setLogLevel("ERROR")
        return cls(session, owned=True)

    def execute(self, sql: str) -> None:
        self.spark.sql(sql)

    def create_table(self, name: str, select_sql: str) -> None:
        self.spark.sql(select_sql).localCheckpoint(eager=True).createOrReplaceTempView(name)

    def fetch_arrow(self, sql: str) -> pa.Table:
        table = self.spark.sql(sql).toArrow()
        # Times as naive UTC, like the other engines (the session is pinned to UTC).
        columns = [c.cast(pa.timestamp("us")) if pa.types.is_timestamp(c.type) else c
                   for c in table.columns]
        return pa.table(columns, names=table.column_names)

    def table_exists(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name))

    def columns(self, name: str) -> list[str]:
        return [c.lower() for c in self.spark.table(name).columns]

    def load_arrow(self, name: str, table: pa.Table) -> None:
        frame = self.spark.createDataFrame(table) if table.num_rows else \
            self.spark.createDataFrame([], _spark_schema(table.schema))
        frame.createOrReplaceTempView(name)

    def register_input(self, view: str, source: str) -> str:
        """A table name as it is; a Parquet path as a temporary view named `view`."""
        if PATH.search(source):
            try:
                self.spark.read.parquet(source).createOrReplaceTempView(view)
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [""])[0]
                raise UsageError(f"Spark cannot read {source} as Parquet: {first}") from None
            return view
        if not TABLE.match(source):
            raise UsageError(f"'{source}' is neither a table name nor a Parquet path")
        return source

    def close(self) -> None:
        if self.owned:
            self.spark.stop()


def _spark_schema(schema: pa.Schema) -> str:
    names = {pa.string(): "STRING", pa.int64(): "BIGINT", pa.int32(): "INT",
             pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN", pa.timestamp("us"): "TIMESTAMP"}
    parts = []
    for field in schema:
        kind = (f"DECIMAL({field.type.precision}, {field.type.scale})"
                if pa.types.is_decimal(field.type) else names.get(field.type, "STRING"))
        parts.append(f"{field.name} {kind}")
    return ", ".join(parts)
