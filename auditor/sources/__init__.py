"""Source adapters: each turns one export format into the canonical staging tables.

An adapter is a module with three names:

    FORMAT: str                                     # the --format value
    def sniff(file: InputFile) -> bool              # is this file in my format? (for --format auto)
    def load(con, files: list[InputFile], *, options: SourceOptions) -> dict[str, int]
        # append rows to stage_events / stage_conversations, bad records to quarantine;
        # return the number of records read per file (keyed by InputFile.display);
        # options are the user's hints about the export (adapters ignore what they don't use)

and optionally:

    DEFAULT_VENDOR: str     # the vendor rule set an audit uses without --vendor (else
                            # FALLBACK_VENDOR)
    AI_AGENT_MISSING: str   # an adapter that tells the AI agent by its helpdesk user (it fills
                            # the ai_agent_users table): what to say when no user was taken

`load_sources` runs the adapter, then `validate.finish_ingest` turns the staging tables into the
validated `events` and `conversations` tables, shared by every format.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType

import duckdb
from pydantic import BaseModel, Field

from auditor.engine import QUARANTINE_SORT_KEY, error_line, error_text, first_row, scalar
from auditor.errors import InputError, UsageError, did_you_mean
from auditor.sources.files import InputFile, expand_inputs, skipped_files
from auditor.sources.validate import finish_ingest

ADAPTER_MODULES: dict[str, str] = {
    "canonical": "auditor.sources.canonical",
    "intercom": "auditor.sources.intercom",
    "zendesk": "auditor.sources.zendesk",
    "fivetran-intercom": "auditor.sources.fivetran_intercom",
}
FORMATS: tuple[str, ...] = ("auto", *ADAPTER_MODULES)


# How warehouses write a missing value in CSV: always read as missing in canonical CSV input.
DEFAULT_NULL_STRINGS: tuple[str, ...] = ("", "NULL", "null", "\\N")
BAD_RECORD_MODES = ("quarantine", "fail")


class SourceOptions(BaseModel):
    """What the user tells the adapters about an export that the data cannot say itself."""

    # Helpdesk user ids of the vendor's AI agent (Zendesk: the AI agent's user; --ai-agent-id).
    ai_agent_ids: list[str] = []
    # More spellings of a missing value in canonical CSV input (--null-string).
    null_strings: list[str] = []
    # quarantine: a bad record goes to quarantine and its conversation is not judged;
    # fail: any quarantined record ends the run with exit code 2 (--on-bad-record fail).
    on_bad_record: str = "quarantine"

    def csv_null_strings(self) -> list[str]:
        return list(dict.fromkeys([*DEFAULT_NULL_STRINGS, *self.null_strings]))


class InputProvenance(BaseModel):
    path: str
    sha256: str
    format: str
    rows: int


class SkippedFile(BaseModel):
    path: str
    reason: str
class AiAgentIdentity(BaseModel):
    """A helpdesk user taken as the vendor's AI agent, and what made it so."""

    id: str
    name: str | None
    how: str = Field(description="e.g. user name 'Answer Bot', --ai-agent-id, "
                                 "via.channel answer_bot*")


class IngestSummary(BaseModel):
    records_read: int
    events: int
    conversations: int | None  # None until counted (see load_sources' count_conversations)
    quarantined: int
    # The latest valid event, when the ingest saw it on the way (else read it from `events`).
    last_event_at: datetime | None = None
    inputs: list[InputProvenance]
    # Files inside input folders that were not read, with the reason.
    skipped_files: list[SkippedFile] = []
    # Conversations that cannot be judged, by reason (incomplete_export, quarantined_records),
    # and the most common detail of the incomplete ones, for the warning that names the cause.
    unjudgeable: dict[str, int] = {}
    incomplete_detail: str | None = None
    ai_agents: list[AiAgentIdentity] = []
    notes: list[str] = []  # things a report should say about how the export was read

    @property
    def formats(self) -> list[str]:
        """The formats the inputs were read as, sorted."""
        return sorted({i.format for i in self.inputs})


# The vendor rule set an audit uses without --vendor when no format read names its own
# (DEFAULT_VENDOR in the adapter): Intercom Fin, and for canonical logs too.
FALLBACK_VENDOR = "intercom-fin"


def default_vendor(formats: list[str]) -> str:
    """The vendor rule set for an export read as these formats, for an audit without --vendor."""
    vendors = {getattr(adapter(f), "DEFAULT_VENDOR", FALLBACK_VENDOR) if f in ADAPTER_MODULES
               else FALLBACK_VENDOR for f in formats}
    if len(vendors) > 1:
        raise UsageError(f"the export mixes formats of different vendors ({', '.join(formats)})"
                         f", so there is no default vendor rule set",
                         f"pass --vendor {' or --vendor '.join(sorted(vendors))}")
    return vendors.pop() if vendors else FALLBACK_VENDOR


def adapter(name: str) -> ModuleType:
    if name not in ADAPTER_MODULES:
        raise UsageError(f"unknown format '{name}'", did_you_mean(name, FORMATS))
    return importlib.import_module(ADAPTER_MODULES[name])


def detect_format(file: InputFile) -> str:
    """The first adapter whose sniff() accepts the file; canonical is tried last."""
    for name in sorted(ADAPTER_MODULES, key=lambda n: n == "canonical"):
        if adapter(name).sniff(file):
            return name
    raise InputError(
        file.display, "format not recognised",
        hint="use --format canonical|intercom|zendesk|fivetran-intercom; see "
             "docs/canonical-schema.md",
    )


def _group_by_format(files: list[InputFile], fmt: str) -> dict[str, list[InputFile]]:
    """Files by format. Under auto, an empty file has no format of its own: it joins the first
    detected one (listed with 0 rows), or, when every file is empty, fails as holding no records."""
    empty = [f for f in files if fmt == "auto" and not f.head(1)]
    by_format: dict[str, list[InputFile]] = {}
    for file in files:
        if file not in empty:
            by_format.setdefault(fmt if fmt != "auto" else detect_format(file), []).append(file)
    if empty and not by_format:
        raise InputError(empty[0].display, "holds no records", hint="is it the right file?")
    if empty:
        first = next(iter(by_format))
        by_format[first] = sorted(by_format[first] + empty, key=files.index)
    return by_format


def _reject_empty(files: list[InputFile], counts: dict[str, int]) -> None:
    """An export with no records at all is a mistake; one empty table among others is not (an
    account without chat has an empty ticket_chat table). Provenance shows it with 0 rows."""
    if files and not any(counts.get(file.display) for file in files):
        raise InputError(files[0].display, "holds no records", hint="is it the right file?")


def read_failure(files: list[InputFile], exc: duckdb.Error) -> InputError:
    """DuckDB's reader error, late in a file, as one line naming the file and line."""
    named = [f for f in files if str(f.path) in str(exc)]
    where = named[0].display if named else ", ".join(f.display for f in files)
    return InputError(where, f"cannot be read: {error_text(exc)}", record=error_line(exc))


def _reject_no_conversations(con: duckdb.DuckDBPyConnection, files: list[InputFile],
                             events: int) -> None:
    """Records were read, but none became an event or a conversation (users or tags alone)."""
    if not events and not scalar(con, "SELECT count(*) FROM conversation_attrs"):
        names = ", ".join(f.display for f in files)
        raise InputError(names, "no conversations in the export (every record was quarantined "
                         "or none is a conversation)", hint="are the tickets or events included?")


def load_sources(
    con: duckdb.DuckDBPyConnection, paths: list[str], fmt: str = "auto",
    display: dict | None = None, options: SourceOptions | None = None,
    count_conversations: bool = True,
) -> IngestSummary:
    """Read every input into the validated `events` and `conversations` tables.

    count_conversations=False leaves `conversations` None in the summary, for a caller that
    counts them more cheaply later (validate.finish_ingest says why).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", did_you_mean(fmt, FORMATS))
    files = expand_inputs(list(paths), display)
    by_format = _group_by_format(files, fmt)
    provenance: list[InputProvenance] = []
    try:
        for name, group in by_format.items():
            counts = adapter(name).load(con, group, options=options or SourceOptions())
            _reject_empty(group, counts)
            provenance += [InputProvenance(path=f.display, sha256=f.sha256, format=name,
                                           rows=counts.get(f.display, 0)) for f in group]
        ingested = finish_ingest(con, count_conversations)
    except duckdb.Error as exc:  # a reader that only fails deep in a file (a ragged CSV row)
        raise read_failure(files, exc) from exc
    _reject_no_conversations(con, files, ingested.events)
    if (options or SourceOptions()).on_bad_record == "fail":
        _fail_on_bad_record(con)
    provenance.sort(key=lambda p: p.path)
    unjudgeable = dict(con.execute(
        "SELECT reason, count(*) FROM (SELECT unnest(reasons) AS reason FROM unjudgeable) "
        "GROUP BY 1 ORDER BY 1").fetchall())
    ai_agents = [AiAgentIdentity(id=i, name=n, how=h) for i, n, h in con.execute(
        "SELECT user_id, name, how FROM ai_agent_users ORDER BY user_id").fetchall()]
    missing = [getattr(adapter(name), "AI_AGENT_MISSING", None) for name in sorted(by_format)]
    return IngestSummary(
        records_read=sum(p.rows for p in provenance), events=ingested.events,
        conversations=ingested.conversations, quarantined=ingested.quarantined,
        last_event_at=ingested.last_event_at, inputs=provenance,
        skipped_files=[SkippedFile(path=p, reason=r) for p, r in skipped_files(paths, display)],
        unjudgeable=unjudgeable,
        incomplete_detail=scalar(con, "SELECT mode(detail ORDER BY detail) "
                                      "FROM incomplete_conversations"),  # type: ignore[arg-type]
        ai_agents=ai_agents,
        notes=[*(n for (n,) in con.execute("SELECT note FROM ingest_notes ORDER BY rowid")
                 .fetchall()), *([m for m in missing if m] if not ai_agents else [])],
    )


def _fail_on_bad_record(con: duckdb.DuckDBPyConnection) -> None:
    """--on-bad-record fail: the first record that went to quarantine ends the run."""
    row = first_row(con, f"SELECT source_file, source_record, field, reason FROM quarantine "
                         f"WHERE NOT coalesce(redundant, false) ORDER BY {QUARANTINE_SORT_KEY} "
                         "LIMIT 1")
    if row:
        total = scalar(con, "SELECT count(*) FROM quarantine WHERE NOT coalesce(redundant, false)")
        raise InputError(row[0], row[3], record=row[1], field=row[2],
                         hint=f"{total:,} bad record(s) in all; without --on-bad-record fail they "
                              "go to quarantine.csv and their conversations are unverifiable")
