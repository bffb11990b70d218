"""The bundled sample month: where it lives in a wheel and in a source checkout."""

from __future__ import annotations

from pathlib import Path

from auditor.errors import UsageError
from auditor.pipeline import AuditRequest
from auditor.reconcile import Period

EXPORT = "intercom_2026-10.jsonl.gz"
BILLED = "billed_2026-10.csv"
# The months after October, for `auditor demo --trend` (sample_data/generate.py writes them).
LATER_MONTHS = {"2026-11": "2026-11-01..2026-11-30", "2026-12": "2026-12-01..2026-12-31"}


def sample_dir() -> Path:
    """The wheel's bundled copy first, then the repository's sample_data/."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_bundled" / "sample_data", package.parent / "sample_data"):
        if (candidate / EXPORT).exists():
            return candidate
    raise UsageError("the sample month is missing from this installation",
                     "reinstall with `pip install .` from the repository")


def demo_request(month: str = "2026-10") -> AuditRequest:
    """The audit of a sample month: October 2026 (the demo), or one of LATER_MONTHS."""
    folder = sample_dir()
    names = (f"intercom_{month}.jsonl.gz", f"billed_{month}.csv")
    export, billed = folder / names[0], folder / names[1]
    period = LATER_MONTHS.get(month, "2026-10-01..2026-10-31")
    return AuditRequest(
        exports=[str(export)], format="intercom", billed_csv=str(billed),
        vendor="intercom-fin", contract="strict", period=Period.parse(period),
        display_names={export: f"sample_data/{names[0]}", billed: f"sample_data/{names[1]}"},
    )
