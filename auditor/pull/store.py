"""EXPORT_DIR of a pull: gzip JSONL files rotated by size, the checkpoint, manifest.json.

Records are written in a fixed order (the listing's), to a hidden `.NAME.partial` file that is
sealed (renamed to `NAME`) when it holds `max_bytes` of JSON (before gzip, which makes that
5-10 times smaller) or `checkpoint_every` records; only then
does the checkpoint (`.pull-state.json`, hidden, so the audit never reads it) count its records.
A resumed pull deletes partial files and continues after the last sealed record, so the finished
export holds every record exactly once, whatever the interruptions. Files are gzip with mtime 0:
the same API answers give byte-identical files.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, Field

from auditor.errors import UsageError

STATE_FILE = ".pull-state.json"
MANIFEST_FILE = "manifest.json"
MANIFEST_GENERATOR = "auditor pull"
DEFAULT_MAX_BYTES = 64 << 20
DEFAULT_CHECKPOINT_EVERY = 500


class SealedFile(BaseModel):
    name: str
    records: int
    sha256: str


class Phase(BaseModel):
    """One step of a pull (listing, conversations, comments, users): its sealed files and how
    many of its items they hold."""

    done: bool = False
    position: int = 0
    files: list[SealedFile] = []
    extra: dict[str, Any] = {}


class State(BaseModel):
    fingerprint: dict[str, Any]
    started_at: str
    phases: dict[str, Phase] = {}
    listing: list[str] = Field(default=[], description="ids found, in order")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ExportDir:
    """The output folder and its checkpoint."""

    def __init__(self, path: Path, fingerprint: dict[str, Any], started_at: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        for partial in path.glob(".*.partial"):
            partial.unlink()
        state_path = path / STATE_FILE
        if state_path.exists():
            self.state = State.model_validate_json(state_path.read_text(encoding="utf-8"))
            if self.state.fingerprint != fingerprint:
                raise UsageError(f"{path} holds an unfinished pull with other arguments",
                                 hint="run the same command as before to resume it, or use an "
                                      "empty folder")
        else:
            if (path / MANIFEST_FILE).exists():
                raise UsageError(f"{path} already holds a finished pull ({MANIFEST_FILE})",
                                 hint="audit it, or pull into a new folder (--out)")
            if any(p for p in path.iterdir() if not p.name.startswith(".")):
                raise UsageError(f"{path} is not empty and holds no unfinished pull",
                                 hint="pull into a new folder (--out)")
            self.state = State(fingerprint=fingerprint, started_at=started_at)
            self.save()

    @property
    def resumed(self) -> bool:
        return any(p.position or p.done for p in self.state.phases.values())

    def phase(self, name: str) -> Phase:
        return self.state.phases.setdefault(name, Phase())

    def save(self) -> None:
        tmp = self.path / (STATE_FILE + ".tmp")
        tmp.write_text(self.state.model_dump_json(), encoding="utf-8")
        os.replace(tmp, self.path / STATE_FILE)

    def reset_phase(self, name: str) -> Phase:
        """Start a phase again from nothing (an interrupted listing is redone)."""
        for sealed in self.phase(name).files:
            (self.path / sealed.name).unlink(missing_ok=True)
        self.state.phases[name] = Phase()
        return self.state.phases[name]

    def writer(self, phase: str, stem: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
               checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY) -> RotatingWriter:
        return RotatingWriter(self, phase, stem, max_bytes, checkpoint_every)

    def data_files(self) -> list[SealedFile]:
        return [f for p in self.state.phases.values() for f in p.files]

    def read_records(self, phase: str) -> Iterator[dict]:
        """The records of a phase's sealed files, in order."""
        for sealed in self.phase(phase).files:
            with gzip.open(self.path / sealed.name, "rt", encoding="utf-8") as handle:
                for line in handle:
                    yield json.loads(line)

    def finish(self) -> None:
        (self.path / STATE_FILE).unlink(missing_ok=True)


class RotatingWriter:
    """Lines to gzip files `STEM-00001.jsonl.gz`, ...; `commit(items)` marks a point where the
    file may be sealed (after a whole conversation, or a ticket with all its comments)."""

    def __init__(self, export: ExportDir, phase: str, stem: str, max_bytes: int,
                 checkpoint_every: int) -> None:
        self.export, self.phase_name, self.stem = export, phase, stem
        self.max_bytes, self.checkpoint_every = max_bytes, max(1, checkpoint_every)
        self.raw: BinaryIO | None = None
        self.gz: gzip.GzipFile | None = None
        self.lines = self.items = self.size = 0  # size: JSON bytes before compression
        self.name = ""
        self.pending_extra: dict[str, list] = {}

    @property
    def phase(self) -> Phase:
        return self.export.phase(self.phase_name)

    def _next_name(self) -> str:
        number = sum(f.name.startswith(f"{self.stem}-") for f in self.phase.files) + 1
        return f"{self.stem}-{number:05d}.jsonl.gz"

    def write(self, record: Any) -> None:
        if self.gz is None:
            self.name = self._next_name()
            self.raw = open(self.export.path / f".{self.name}.partial", "wb")  # noqa: SIM115
            self.gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0)
        data = (dumps(record) + "\n").encode("utf-8")
        self.gz.write(data)
        self.lines += 1
        self.size += len(data)

    def note(self, key: str, value: Any) -> None:
        """Something to record in the checkpoint with this file (e.g. an incomplete id)."""
        self.pending_extra.setdefault(key, []).append(value)

    def commit(self, items: int = 1) -> None:
        self.items += items
        if self.items >= self.checkpoint_every or self.size >= self.max_bytes:
            self.seal()

    def seal(self) -> None:
        """Close the current file, name it, and count its items in the checkpoint."""
        phase = self.phase
        if self.gz is not None and self.raw is not None:
            self.gz.close()
            self.raw.close()
            name = self.name
            final = self.export.path / name
            os.replace(self.export.path / f".{name}.partial", final)
            phase.files.append(SealedFile(name=name, records=self.lines, sha256=sha256(final)))
        phase.position += self.items
        for key, values in self.pending_extra.items():
            phase.extra.setdefault(key, []).extend(values)
        self.gz = self.raw = None
        self.lines = self.items = self.size = 0
        self.pending_extra = {}
        self.export.save()

    def close(self) -> None:
        if self.gz is not None or self.items:
            self.seal()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(export: ExportDir, body: dict[str, Any]) -> Path:
    """manifest.json: the pull's arguments, counts and each data file's sha256."""
    files = sorted(export.data_files(), key=lambda f: f.name)
    manifest = {"generator": MANIFEST_GENERATOR, **body,
                "started_at": export.state.started_at,
                "files": [f.model_dump() for f in files]}
    path = export.path / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def is_pull_manifest(path: Path) -> bool:
    """A manifest.json written by `auditor pull` (the audit lists it in provenance, not data)."""
    if path.name != MANIFEST_FILE:
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(200)
    except OSError:
        return False
    return f'"generator": "{MANIFEST_GENERATOR}"'.encode() in head
