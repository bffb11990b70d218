"""The Jinja2 environment every HTML and Markdown output is rendered with.

Templates live in auditor/report/templates/ (shipped in the wheel). Styles and scripts are
included inline by the templates, so each page is one self-contained file: no CDN, no web font,
nothing fetched when it is opened.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2

from auditor.errors import UsageError
from auditor.report.model import share, usd

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _number(value: int | float | Decimal | None) -> str:
    return "" if value is None else f"{value:,}"


def _money(value: float | Decimal | None) -> str:
    return "" if value is None else usd(value)


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


@cache
def environment(autoescape: bool = True) -> jinja2.Environment:
    """HTML templates escape every value; Markdown ones (autoescape=False) do not."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=_number, usd=_money, share=share, points=_points)
    return env


def render(name: str, **fields: object) -> str:
    """Render a built-in template; .md and .txt templates are not HTML-escaped."""
    return environment(not name.endswith((".md.j2", ".txt.j2"))).get_template(name).render(
        **fields)


def render_file(path: Path, **fields: object) -> str:
    """Render a user's own template (e.g. --letter-template), escaped when it is .html."""
    env = environment(path.suffix.lower() in (".html", ".htm") or path.name.endswith(".html.j2"))
    try:
        template = env.from_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read template {path}: {exc}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise UsageError(f"{path}, line {exc.lineno}: {exc.message}") from exc
    try:
        return template.render(**fields)
    except jinja2.UndefinedError as exc:
        raise UsageError(f"{path}: {exc.message}",
                         "the fields a letter template can use are in docs/reports.md") from exc
