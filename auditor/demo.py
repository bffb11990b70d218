"""The bundled sample month: where it lives in a wheel and in a source checkout."""

from __future__ import annotations

from pathlib import Path

from auditor.errors import UsageError
from auditor.pipeline import AuditRequest
from auditor.reconcile import Period

EXPORT = "intercom_2026-10.jsonl.gz"
BILLED = "billed_2026-10.csv"


def sample_dir() -> Path:
    """The wheel's bundled copy first, then the repository's sample_data/."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_bundled" / "sample_data", package.parent / "sample_data"):
        if (candidate / EXPORT).exists():
            return candidate
    raise UsageError("the sample month is missing from this installation",
                     "reinstall with `pip install .` from the repository")


def demo_request() -> AuditRequest:
    folder = sample_dir()
    export, billed = folder / EXPORT, folder / BILLED
    return AuditRequest(
        exports=[str(export)], format="intercom", billed_csv=str(billed),
        vendor="intercom-fin", contract="strict", period=Period.parse("2026-10-01..2026-10-31"),
        display_names={export: f"sample_data/{EXPORT}", billed: f"sample_data/{BILLED}"},
    )
