"""Resolution Auditor: check AI-agent vendors' per-resolution bills against your own conversation logs.

The pipeline is a straight line, one module per stage:

    sources (auditor.sources) -> canonical events (auditor.schema)
    -> conversation facts (auditor.facts) -> rule verdicts (auditor.verdicts)
    -> reconciliation (auditor.reconcile) -> reports (auditor.report)

`auditor.pipeline.audit` runs all of it; the CLI (`auditor.cli`) is a thin shell over it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("resolution-auditor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
