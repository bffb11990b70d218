"""Keep generated parts of the docs in sync with the code (`python -m auditor.docs`).

Docs mark generated tables with `<!-- generated: NAME -->` ... `<!-- end generated -->`.
`python -m auditor.docs` rewrites them; `--check` (and a test) fails when they are stale.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from auditor.engine import QUARANTINE_COLUMNS
from auditor.facts import FACT_COLUMNS, FACT_PARAMETERS, FactParams
from auditor.schema import CONVERSATION_COLUMNS, EVENT_COLUMNS, Column

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n).*?(<!-- end generated -->)", re.S)


def _columns_table(columns: tuple[Column, ...]) -> str:
    rows = ["| column | type | required | meaning |", "|---|---|---|---|"]
    rows += [f"| `{c.name}` | {c.sql_type} | {'yes' if c.required else 'no'} | {c.meaning} |"
             for c in columns]
    return "\n".join(rows)


def _facts_table() -> str:
    rows = ["| fact | type | meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.sql_type} | {f.meaning} |" for f in FACT_COLUMNS]
    return "\n".join(rows)


def _fact_params_table() -> str:
    defaults = FactParams().model_dump()
    rows = ["| parameter | default | meaning |", "|---|---|---|"]
    rows += [f"| `{name}` | `{_short(defaults[name])}` | {meaning} |"
             for name, meaning in FACT_PARAMETERS.items()]
    return "\n".join(rows)


def _short(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


GENERATORS: dict[str, Callable[[], str]] = {
    "event_columns": lambda: _columns_table(EVENT_COLUMNS),
    "conversation_columns": lambda: _columns_table(CONVERSATION_COLUMNS),
    "quarantine_columns": lambda: _columns_table(QUARANTINE_COLUMNS),
    "fact_columns": _facts_table,
    "fact_parameters": _fact_params_table,
}
DOCS = ("docs/canonical-schema.md", "docs/facts.md")


def render(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + GENERATORS[m.group(2)]() + "\n" + m.group(3), text)


def stale_docs(root: Path = ROOT) -> list[str]:
    """Docs (under a source checkout `root`) whose generated blocks differ from the code."""
    return [d for d in DOCS if render((root / d).read_text()) != (root / d).read_text()]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_docs()
        print("\n".join(f"stale: {d} (run python -m auditor.docs)" for d in stale) or "docs ok")
        return 1 if stale else 0
    for doc in DOCS:
        path = ROOT / doc
        path.write_text(render(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
