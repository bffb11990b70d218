"""The audit in a warehouse engine: the portable SQL (facts, verdicts, reconciliation, summary),
the per-dialect macros, the lint of the subset, source mappings, `auditor sql` scripts and runs
through an engine connection. See docs/warehouse.md."""
