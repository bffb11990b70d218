"""JSON export files, for any adapter: what shape a file has, and why DuckDB could not read it.

Python only reads a file's head (to pick DuckDB's read_json format) or, after a read failed,
the file again to find the first invalid line; DuckDB reads the records.
"""

from __future__ import annotations

import gzip
import json
import re

import duckdb

from auditor.engine import error_text, sql_string
from auditor.errors import InputError
from auditor.sources.files import InputFile

HEAD_BYTES = 1 << 16
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
# Above this size an invalid single-document file is reported without a line number.
MAX_DIAGNOSE_BYTES = 256 << 20


def head_text(file: InputFile) -> str:
    return file.head(HEAD_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def first_record(text: str) -> dict | None:
    """The first JSON object in a file head (the first element of an array), or None."""
    text = text[1:].lstrip() if text.startswith("[") else text
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def json_format(file: InputFile) -> tuple[str, str]:
    """(DuckDB read_json format, how records are named) from the file head. Records of a .json
    file are "record n" even when it holds one record per line (a minified API response)."""
    if file.data_suffix != ".json":
        return "newline_delimited", "line"
    text = head_text(file)
    if text.startswith("["):
        return "array", "record"
    first_line, newline, _ = text.partition("\n")
    if not newline or _is_json(first_line):
        return "newline_delimited", "record"
    return "unstructured", "record"  # a pretty-printed document


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def malformed_json_error(con: duckdb.DuckDBPyConnection, file: InputFile, json_format: str,
                         message: str) -> InputError | None:
    """DuckDB's "Malformed JSON" error as one line naming the file and the first bad line."""
    malformed = re.search(r"Malformed JSON.*?: (.*?)\.?\s*$", message)
    if not malformed:
        return None
    line = bad_line(con, file, json_format)
    return InputError(file.display, f"invalid JSON ({malformed.group(1)})",
                      record=f"line {line}" if line else None)


def other_read_error(file: InputFile, exc: duckdb.Error, kind: str) -> InputError:
    """Any other reader error: the file cannot be read, or not as `kind` ("Zendesk JSON")."""
    detail = error_text(exc)
    if isinstance(exc, duckdb.IOException):
        return InputError(file.display, f"cannot be read ({detail})")
    return InputError(file.display, f"cannot be read as {kind} ({detail})")


# Diagnosis runs only after a read failed, so it may read the file again.
def bad_line(con: duckdb.DuckDBPyConnection, file: InputFile, json_format: str) -> int | None:
    """The first invalid line: per line in SQL for JSONL, by Python's parser for a document."""
    if json_format != "newline_delimited":
        return _document_error_line(file)
    query = (f"SELECT min(n) FROM {text_lines(str(file.path))} "
             f"WHERE trim(coalesce(line, '')) <> '' AND NOT json_valid(line)")
    try:
        rows = con.execute(query).fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def _document_error_line(file: InputFile) -> int | None:
    """The line of the first JSON syntax error in a whole document, by Python's parser."""
    if file.path.stat().st_size > MAX_DIAGNOSE_BYTES:
        return None
    opener = gzip.open if file.gzipped else open
    try:
        with opener(file.path, "rt", encoding="utf-8", errors="replace") as handle:
            json.load(handle)
    except json.JSONDecodeError as exc:
        return exc.lineno
    except (OSError, EOFError):
        return None
    return None


# A line longer than this fails the line reader, as a longer record fails DuckDB's JSON reader
# (its maximum_object_size default); DuckDB's CSV reader allocates twice it per buffer.
MAX_LINE_BYTES = 16 << 20


def line_reader(path: str) -> str:
    """The file's lines as rows of one column `line` (a blank line is an empty or NULL line)."""
    return (f"read_csv({sql_string(path)}, columns = {{'line': 'VARCHAR'}}, "
            f"delim = {sql_string(chr(31))}, quote = '', escape = '', header = false, "
            f"auto_detect = false, max_line_size = {MAX_LINE_BYTES}, "
            f"buffer_size = {2 * MAX_LINE_BYTES})")


def text_lines(path: str) -> str:
    """The file's lines as (n, line), n the physical line (1-based), blank lines included."""
    return f"(SELECT row_number() OVER () AS n, line FROM {line_reader(path)})"


def json_lines(path: str) -> str:
    """A newline-delimited file's non-blank lines as (line_no, record_no, line, valid): the
    physical line, its place among the records, its text and whether it is valid JSON. For
    reading a file whose JSON reader failed on a bad line, keeping the good ones."""
    return (f"(SELECT n AS line_no, row_number() OVER (ORDER BY n) AS record_no, line, "
            f"json_valid(line) AS valid FROM {text_lines(path)} "
            f"WHERE trim(coalesce(line, '')) <> '')")


def numbered_json_texts(path: str, json_format: str) -> str:
    """A JSON file's records as text, to read it record by record: (line, record, text).

    JSONL: every non-blank line, with its physical line and its number among records; a line
    that is not valid JSON is a row too. A document (array, pretty-printed): its records, with
    no line; an invalid document fails as a whole.
    """
    if json_format == "newline_delimited":
        # Both numberings stream, in file order (preserve_insertion_order): nothing is sorted.
        return (f"(SELECT n AS line, row_number() OVER () AS record, line AS text "
                f"FROM {text_lines(path)} WHERE regexp_matches(line, '\\S'))")
    limit = f", maximum_object_size = {256 << 20}" if json_format == "unstructured" else ""
    return (f"(SELECT NULL::BIGINT AS line, row_number() OVER () AS record, "
            f"CAST(json AS VARCHAR) AS text FROM read_json_objects({sql_string(path)}, "
            f"format = '{json_format}'{limit}))")
