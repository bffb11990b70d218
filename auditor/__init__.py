"""Resolution Auditor: check AI-agent vendors' per-resolution bills against your own conversation logs.

The pipeline is a straight line, one module per stage:

    sources (auditor.sources) -> canonical events (auditor.schema)
    -> conversation facts (auditor.facts) -> rule verdicts (auditor.verdicts)
    -> reconciliation (auditor.reconcile) -> reports (auditor.report)

`auditor.pipeline.audit` runs all of it; the CLI (`auditor.cli`) is a thin shell over it.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _version() -> str:
    try:
        return version("resolution-auditor")
    except PackageNotFoundError:  # a source tree that was never installed: pyproject says
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])


__version__ = _version()

__all__ = ["__version__"]
