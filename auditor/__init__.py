"""Resolution Auditor: check AI-agent vendors' per-resolution bills against your own conversation logs.

The pipeline is a straight line, one module per stage:

    sources (auditor.sources) -> canonical events (auditor.schema)
    -> conversation facts (auditor.facts) -> rule verdicts (auditor.verdicts)
    -> reconciliation (auditor.reconcile) -> reports (auditor.report)

`auditor.pipeline.audit` runs all of it; the CLI (`auditor.cli`) is a thin shell over it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path


def _version() -> str:
    # A source tree (a clone, an editable install) says it in pyproject.toml; reading it is
    # cheaper than importlib.metadata (about 0.1 s of imports at every start).
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "resolution-auditor":
            return str(project["version"])
    from importlib.metadata import version

    return version("resolution-auditor")


__version__ = _version()

__all__ = ["__version__"]
