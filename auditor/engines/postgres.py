"""PostgreSQL (14 or later) through psycopg 3; results come back as Arrow via COPY ... CSV.

The DSN may carry a password: it is never printed or written. Every message built from a
connection error goes through `redact` first.
"""

from __future__ import annotations

import io
import re

import pyarrow as pa
import pyarrow.csv as pa_csv

from auditor.errors import UsageError
from auditor.warehouse import dialects

# PostgreSQL type OIDs -> Arrow types for what the audit reads back.
ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(), 20: pa.int64(), 21: pa.int16(), 23: pa.int32(), 25: pa.string(),
    1043: pa.string(), 700: pa.float32(), 701: pa.float64(), 1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"), 1082: pa.date32(), 1700: pa.decimal128(38, 4),
}
PG_TYPES: dict[str, str] = {"bool": "BOOLEAN", "int64": "BIGINT", "int32": "INTEGER",
                            "string": "TEXT", "large_string": "TEXT", "double": "DOUBLE PRECISION",
                            "timestamp[us]": "TIMESTAMP", "date32[day]": "DATE"}


def redact(text: str, dsn: str) -> str:
    """`text` with the DSN's password (key=value or URL form) replaced by ***."""
    secrets = re.findall(r"password\s*=\s*'((?:[^'\\]|\\.)*)'|password\s*=\s*([^\s']+)", dsn)
    secrets = [a or b for a, b in secrets]
    url = re.match(r"^\w+://[^:/@]*:([^@]*)@", dsn)
    if url:
        secrets.append(url.group(1))
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _import_psycopg():  # noqa: ANN202
    try:
        import psycopg
    except ImportError:
        raise UsageError("--engine postgres needs psycopg",
                         "pip install 'resolution-auditor[postgres]'") from None
    return psycopg


class PostgresEngine:
    dialect = "postgres"

    def __init__(self, dsn: str) -> None:
        psycopg = _import_psycopg()
        self.dsn = dsn
        try:
            self.conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise UsageError(f"cannot connect to PostgreSQL ({redact(dsn, dsn)}): "
                             f"{redact(first, dsn)}") from None

    def describe(self) -> str:
        """The connection for messages: host and database, never the password."""
        info = self.conn.info
        return f"PostgreSQL {info.server_version // 10000} at {info.host}:{info.port}/{info.dbname}"

    def execute(self, sql: str) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(sql)

    def create_table(self, name: str, select_sql: str) -> None:
        for statement in dialects.create_table(self.dialect, name, select_sql):
            self.execute(statement)

    def fetch_arrow(self, sql: str) -> pa.Table:
        with self.conn.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
            fields = [(c.name, ARROW_TYPES.get(c.type_code, pa.string()))
                      for c in cursor.description or []]
            buffer = io.BytesIO()
            with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    buffer.write(chunk)
        schema = pa.schema(fields)
        buffer.seek(0)
        if buffer.getbuffer().nbytes == 0:
            return schema.empty_table()
        return pa_csv.read_csv(buffer, read_options=pa_csv.ReadOptions(block_size=1 << 26),
                               convert_options=pa_csv.ConvertOptions(
                                   column_types=schema, true_values=["t"], false_values=["f"],
                                   strings_can_be_null=True, quoted_strings_can_be_null=False))

    def table_exists(self, name: str) -> bool:
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            return bool(cursor.fetchone()[0])  # type: ignore[index]

    def columns(self, name: str) -> list[str]:
        with self.conn.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {name} LIMIT 0")
            return [c.name.lower() for c in cursor.description or []]

    def load_arrow(self, name: str, table: pa.Table) -> None:
        columns = ", ".join(f"{f.name} {_pg_type(f.type)}" for f in table.schema)
        with self.conn.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TABLE {name} ({columns})")
            # CSV: an unquoted empty field is NULL, a quoted one an empty string.
            buffer = io.BytesIO()
            pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False,
                                                               quoting_style="needed"))
            with cursor.copy(f"COPY {name} FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())

    def close(self) -> None:
        self.conn.close()


def _pg_type(kind: pa.DataType) -> str:
    if pa.types.is_decimal(kind):
        return f"NUMERIC({kind.precision}, {kind.scale})"
    return PG_TYPES.get(str(kind), "TEXT")
