"""Finding input files (directories, gzip) and fingerprinting them for provenance."""

from __future__ import annotations

import gzip
import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from auditor.errors import InputError

DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".parquet", ".tsv")

# Inputs are hashed in the background while DuckDB reads them (hashlib releases the GIL), not
# in a pass of their own before: one thread, so files are hashed one after the other.
_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditor-sha256")


@dataclass(frozen=True)
class InputFile:
    """One input file: where it is, how to show it, and its content hash."""

    path: Path
    display: str
    digest: Future[str] = field(repr=False, compare=False)

    @property
    def sha256(self) -> str:
        """sha256 of the file's bytes (waits for the background hash to finish)."""
        try:
            return self.digest.result()
        except OSError as exc:
            raise InputError(self.display, f"cannot be read ({exc.strerror})") from exc

    @property
    def gzipped(self) -> bool:
        return self.path.suffix == ".gz"

    @property
    def data_suffix(self) -> str:
        """The suffix that says the format: `.jsonl` for both `x.jsonl` and `x.jsonl.gz`."""
        name = self.path.name[:-3] if self.gzipped else self.path.name
        return Path(name).suffix.lower()

    def head(self, size: int = 4096) -> bytes:
        """The first bytes of the (decompressed) content, for format detection."""
        opener = gzip.open if self.gzipped else open
        try:
            with opener(self.path, "rb") as handle:
                return handle.read(size)
        except (OSError, EOFError) as exc:
            raise InputError(self.display, f"cannot be read ({exc})") from exc


def display_path(path: Path) -> str:
    """Path as shown in reports: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_pull_manifest(path: Path) -> bool:
    from auditor.pull.store import is_pull_manifest as check

    return check(path)


def is_data_file(path: Path) -> bool:
    return skip_reason(path) is None


def skip_reason(path: Path) -> str | None:
    """Why a file inside an input folder is not read, or None when it is a data file."""
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if name.startswith("."):
        return "hidden file"
    if is_pull_manifest(path):
        return "the manifest of `auditor pull` (in the report's provenance)"
    if not name.lower().endswith(DATA_SUFFIXES):
        return f"not a data file ({', '.join(DATA_SUFFIXES)}, optionally .gz)"
    return None


def skipped_files(paths: list[str | Path],
                  display: dict[Path, str] | None = None) -> list[tuple[str, str]]:
    """(file, reason) for every file inside the input folders that is not read (but for the
    manifest of `auditor pull`, which the report's provenance shows instead)."""
    skipped = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for member in sorted(p for p in path.rglob("*") if p.is_file()):
                reason = skip_reason(member)
                if reason is not None and not is_pull_manifest(member):
                    skipped.append(((display or {}).get(member) or display_path(member), reason))
    return skipped


def expand_inputs(paths: list[str | Path], display: dict[Path, str] | None = None) -> list[InputFile]:
    """Expand directories (recursively, sorted) into data files; fail clearly on missing paths."""
    files: list[InputFile] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise InputError(str(given), "no such file or directory")
        members = sorted(p for p in path.rglob("*") if p.is_file() and is_data_file(p)) \
            if path.is_dir() else [path]
        if path.is_dir() and not members:
            raise InputError(str(given), "directory holds no .json, .jsonl, .csv or .parquet files")
        for member in members:
            shown = (display or {}).get(member) or display_path(member)
            try:
                open(member, "rb").close()  # an unreadable file fails here, not mid-run
            except OSError as exc:
                raise InputError(shown, f"cannot be read ({exc.strerror})") from exc
            files.append(InputFile(member, shown, _HASHING.submit(sha256_of, member)))
    return files


def mapping_error(files: list[InputFile], exc: Exception) -> InputError:
    """A value no mapping rule expected, as one line naming the inputs (never a traceback)."""
    names = files[0].display + (f" (and {len(files) - 1} more)" if len(files) > 1 else "")
    detail = str(exc).strip().splitlines()[0]
    return InputError(names, f"cannot be mapped to events ({detail})")
