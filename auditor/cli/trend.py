"""`auditor trend`: several months' audits side by side, flagging months that moved."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.cli import cli
from auditor.errors import ExitCode
from auditor.trend import DEFAULT_ALERT_POINTS, Trend, table_rows, trend, write_outputs


@cli.command(name="trend", epilog="Exit codes: 0 no month flagged, 1 a month flagged, "
                                  "2 usage or input error.")
@click.argument("report_dirs", nargs=-1, required=True,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--alert-points", type=float, default=DEFAULT_ALERT_POINTS, show_default=True,
              metavar="N", help="Flag a month whose dispute rate or reproduction gap moves by "
                                "more than N percentage points from the month before.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write trend.md, trend.json and trend.html (with charts) here.")
def trend_command(report_dirs: tuple[Path, ...], alert_points: float, out: Path | None) -> None:
    """Month over month: billed units, dispute rate (overall and by reason), reproduction gap
    and price per confirmed resolution, from several audits' --out folders.

    Months are ordered by their --period. A month is flagged when its dispute rate or
    reproduction gap moves by more than --alert-points from the month before.

    \b
    Example:
        auditor trend audits/2026-10 audits/2026-11 audits/2026-12
        auditor trend audits/* --alert-points 3 --out trend/
    """
    result = trend(list(report_dirs), alert_points)
    for line in render(result):
        click.echo(line)
    if out is not None:
        write_outputs(result, out)
        click.echo(f"\nWritten to {out}/ (trend.md, trend.json, trend.html)")
    sys.exit(ExitCode.DISPUTES_FOUND if result.flagged else ExitCode.OK)


def render(result: Trend) -> list[str]:
    rows = table_rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:])]
        lines.append("  ".join(cells) + (f"  FLAG: {row[-1]}" if n and row[-1] else ""))
    flagged = [m for m in result.months if m.flags]
    lines.append("")
    lines.append(f"{len(flagged)} month(s) flagged (moves over {result.alert_points:g} points)."
                 if flagged else f"No month moved by more than {result.alert_points:g} points.")
    return lines
