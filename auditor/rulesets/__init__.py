"""Pluggable rule sets: which conversations a vendor's bill (or the buyer's contract) counts.

A rule set is one TOML file (docs/rulesets.md): ordered criteria, each a checked SQL expression
over conversation facts; a conversation is counted when no criterion applies. Evaluation is in
`auditor.verdicts`; executable examples run through `auditor.rulesets.examples`.
"""

from __future__ import annotations

from auditor.rulesets.loader import load_case_file, load_ruleset, ruleset_from_text, with_params
from auditor.rulesets.model import CaseFile, Criterion, Example, Param, RuleSet
from auditor.rulesets.registry import (
    ENTRY_POINT_GROUP,
    builtin_ruleset_files,
    list_rulesets,
    resolve_ruleset,
)

__all__ = [
    "ENTRY_POINT_GROUP", "CaseFile", "Criterion", "Example", "Param", "RuleSet",
    "builtin_ruleset_files", "list_rulesets", "load_case_file", "load_ruleset",
    "resolve_ruleset", "ruleset_from_text", "with_params",
]
