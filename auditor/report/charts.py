"""Charts as inline SVG, drawn with matplotlib.

Why matplotlib: it is the longest-kept Python charting library (NumFOCUS), installs as a wheel
everywhere, and draws SVG in-process: no server, no browser, no network, no JavaScript in the
page. With a fixed `svg.hashsalt` and no date in the metadata its SVG is byte-identical for the
same data; with `svg.fonttype = none` labels stay real `<text>` (selectable, read by screen
readers, crisp in print). Vega-Lite rendered by vl-convert was the alternative: it embeds a
JavaScript engine in the wheel and has no hatching, which greyscale printing needs.

Accessibility: every chart is an `<svg role="img">` with a `<title>` and a description; the
same figures are in a table next to it. Colours are greys of clearly different lightness plus
hatching, so they stay apart printed in black and white. Bars carry ids (`<chart>-bar-<n>`) so
tests can count them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from io import StringIO
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit

from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# Greys far apart in lightness, and hatches: distinguishable in colour, greyscale and print.
INK, DARK, MID, LIGHT, PALE = "#1a1a1a", "#4d4d4d", "#8c8c8c", "#bfbfbf", "#e6e6e6"
STYLES = {
    "confirmed": (PALE, ""), "unverifiable": ("#ffffff", "..."), "billed": (DARK, ""),
    "disputed": (MID, "//"),
}
DISPUTE_STYLES = [(INK, ""), (MID, "//"), (DARK, "xx"), (LIGHT, "\\\\"), (MID, ".."),
                  (DARK, "--"), (LIGHT, "++"), (MID, "oo")]
RC = {"svg.hashsalt": "resolution-auditor", "svg.fonttype": "none", "font.size": 10,
      "font.family": "sans-serif", "hatch.linewidth": 0.8, "axes.spines.top": False,
      "axes.spines.right": False, "axes.edgecolor": DARK, "text.color": INK,
      "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK}


class Bar(NamedTuple):
    label: str
    value: float
    text: str  # written at the end of the bar: the figure in words
    style: tuple[str, str]  # (fill, hatch)


def hbar_chart(name: str, title: str, description: str, bars: Sequence[Bar],
               axis_label: str) -> str:
    """Horizontal bars, one per category, top to bottom in the given order."""
    with matplotlib.rc_context(RC):
        height = 0.45 * len(bars) + 1.1
        figure = Figure(figsize=(8.0, height))
        longest = max((len(b.label) for b in bars), default=10)
        # Fixed margins instead of tight_layout (which measures every label: slow).
        figure.subplots_adjust(left=min(0.5, 0.02 + 0.0105 * longest), right=0.98,
                               top=1 - 0.15 / height, bottom=0.75 / height)
        axes = figure.add_subplot()
        top = max((b.value for b in bars), default=0) or 1
        rows = [len(bars) - 1 - n for n in range(len(bars))]
        patches = axes.barh(rows, [b.value for b in bars], color=[b.style[0] for b in bars],
                            edgecolor=INK, linewidth=0.8)
        for n, (patch, bar) in enumerate(zip(patches, bars)):
            patch.set_hatch(bar.style[1])
            patch.set_gid(f"{name}-bar-{n}")
            axes.text(bar.value + top * 0.01, rows[n], bar.text, va="center")
        axes.set_yticks(rows, [b.label for b in bars])
        axes.set_xlim(0, top * 2.1)  # room for the text after the longest bar
        axes.set_xlabel(axis_label)
        return _svg(figure, name, title, description)


def day_chart(name: str, title: str, description: str,
              days: Sequence[tuple[str, int, int]], label_from: int = 5,
              unit: str = "items") -> str:
    """Billed and contract-confirmed items per day (or month), side by side; tick labels are
    the keys from character `label_from` on (2026-10-04 -> 10-04)."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(10.0, 3.6))
        figure.subplots_adjust(left=0.07, right=0.99, top=0.95, bottom=0.2)
        axes = figure.add_subplot()
        width, xs = 0.4, range(len(days))
        billed = axes.bar([x - width / 2 for x in xs], [d[1] for d in days], width, color=DARK,
                          edgecolor=INK, linewidth=0.6)
        confirmed = axes.bar([x + width / 2 for x in xs], [d[2] for d in days], width,
                             color=PALE, hatch="//", edgecolor=INK, linewidth=0.6)
        for n, (b, c) in enumerate(zip(billed, confirmed)):
            b.set_gid(f"{name}-billed-{n}")
            c.set_gid(f"{name}-confirmed-{n}")
        axes.set_xticks(xs, [d[0][label_from:] for d in days],
                        rotation=90 if len(days) > 12 else 0, fontsize=8)
        axes.set_ylabel(unit)
        axes.legend(handles=[
            _patch(DARK, "", "billed"), _patch(PALE, "//", "confirmed by the contract")],
            loc="upper left", frameon=False, ncols=2)
        return _svg(figure, name, title, description)


def line_chart(name: str, title: str, description: str, labels: Sequence[str],
               series: Sequence[tuple[str, Sequence[float | None], str]],
               axis_label: str) -> str:
    """One line per series (label, values, marker) over the labels (months)."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(8.0, 3.4))
        axes = figure.add_subplot()
        dashes = ["-", "--", ":", "-."]
        for s, (label, values, marker) in enumerate(series):
            xs = [i for i, v in enumerate(values) if v is not None]
            ys = [v for v in values if v is not None]
            (line,) = axes.plot(xs, ys, dashes[s % 4], marker=marker, color=INK if s == 0 else
                                DARK if s == 1 else MID, label=label, linewidth=1.6)
            line.set_gid(f"{name}-series-{s}")
        axes.set_xticks(range(len(labels)), list(labels))
        axes.set_ylabel(axis_label)
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left", frameon=False)
        figure.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.12)
        return _svg(figure, name, title, description)


def _patch(fill: str, hatch: str, label: str) -> object:
    from matplotlib.patches import Patch

    return Patch(facecolor=fill, hatch=hatch, edgecolor=INK, label=label)


def _svg(figure: Figure, name: str, title: str, description: str) -> str:
    """The figure as an inline <svg>: no XML prolog or metadata, ids prefixed with the chart's
    name (several charts share one page), a title and description for screen readers."""
    buffer = StringIO()
    FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'id="(?!' + re.escape(name) + r'-)([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#(?!" + re.escape(name) + r"-)([^)]+)\)", rf"url(#{name}-\1)", svg)
    svg = re.sub(r'href="#(?!' + re.escape(name) + r'-)([^"]+)"', rf'href="#{name}-\1"', svg)
    head = (f'<svg role="img" aria-labelledby="{name}-title {name}-desc" '
            f'data-chart="{name}" ')
    svg = svg.replace("<svg ", head, 1)
    close = svg.index(">", svg.index("<svg")) + 1
    return (svg[:close] + f'\n <title id="{name}-title">{escape(title)}</title>'
            f'\n <desc id="{name}-desc">{escape(description)}</desc>' + svg[close:]).strip()
