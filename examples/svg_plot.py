"""Line charts as a small SVG file, with the standard library: the examples' figures.

The engine has no plotting library, and a figure needs none: an SVG is a text file
of lines and labels that every browser (and GitHub's Markdown) shows.

    write_svg("curves.svg", [
        Panel("loss per step", [Series("loss", steps, losses)], log_y=True),
        Panel("w per step", [Series("w", steps, ws)], reference=(2.0, "closed form")),
    ])

One panel per chart, side by side. A Series is drawn as a line, or as dots with
`dots=True` (data points); a panel's `reference` is a dashed horizontal line (the
value the curve should reach).
"""
import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")   # one per series of a panel
WIDTH, HEIGHT = 340, 240                 # one panel's plot and labels, in pixels
LEFT, RIGHT, TOP, BOTTOM = 56, 14, 28, 36  # margins for the title and the axes' labels
LEGEND_ROW = 14                          # the legend: one row per series, under the plot


@dataclass
class Series:
    label: str
    xs: list
    ys: list
    dots: bool = False


@dataclass
class Panel:
    title: str
    series: list
    reference: tuple = None      # (y value, label): a dashed horizontal line
    log_y: bool = False          # a loss that falls by orders of magnitude
    x_label: str = "step"


def write_svg(path, panels, title=""):
    """Write the panels side by side into an SVG file at `path`."""
    top = 24 if title else 0
    rows = max(len(panel.series) for panel in panels)
    width = max(WIDTH * len(panels), 8 * len(title))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{HEIGHT + top + rows * LEGEND_ROW}" font-family="sans-serif" '
             f'font-size="11">',
             f'<rect width="100%" height="100%" fill="white"/>']
    if title:
        parts.append(f'<text x="8" y="16" font-size="13" font-weight="bold">{escape(title)}</text>')
    for i, panel in enumerate(panels):
        parts.append(f'<g transform="translate({i * WIDTH},{top})">')
        parts += _panel(panel)
        parts.append('</g>')
    parts.append('</svg>')
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")


def _panel(panel):
    every = panel.series
    xs = [x for s in every for x in s.xs]
    ys = [y for s in every for y in s.ys if math.isfinite(y)]
    if panel.reference is not None:
        ys.append(panel.reference[0])
    if panel.log_y:
        ys = [y for y in ys if y > 0]
    if not xs or not ys:
        raise ValueError(f"panel {panel.title!r}: nothing finite to plot")
    fy = (lambda y: math.log10(y)) if panel.log_y else (lambda y: y)
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x0, x1 = _span(x0, x1)
    y0, y1 = _span(fy(min(ys)), fy(max(ys)))
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def point(x, y):
        return LEFT + (x - x0) / (x1 - x0) * w, TOP + (1 - (fy(y) - y0) / (y1 - y0)) * h

    title = panel.title + (" (log scale)" if panel.log_y else "")
    out = [f'<text x="{LEFT}" y="16" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{LEFT}" y="{TOP}" width="{w}" height="{h}" fill="none" stroke="#888"/>']
    for value, anchor_y in ((y0, TOP + h), (y1, TOP)):              # y range at the corners
        text = f"{10 ** value:.3g}" if panel.log_y else f"{value:.3g}"
        out.append(f'<text x="{LEFT - 4}" y="{anchor_y + 4}" text-anchor="end">{text}</text>')
    out.append(f'<text x="{LEFT}" y="{TOP + h + 14}">{x0:.3g}</text>')
    out.append(f'<text x="{LEFT + w}" y="{TOP + h + 14}" text-anchor="end">{x1:.3g}</text>')
    out.append(f'<text x="{LEFT + w / 2}" y="{TOP + h + 14}" text-anchor="middle">'
               f'{escape(panel.x_label)}</text>')
    if panel.reference is not None:
        value, label = panel.reference
        _, y = point(x0, value)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + w}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#444" stroke-dasharray="5,4"/>')
        label_y = y + 13 if y < TOP + 16 else y - 4   # below the line when it runs along the top
        out.append(f'<text x="{LEFT + w - 4}" y="{label_y:.1f}" text-anchor="end" '
                   f'fill="#444">{escape(label)}</text>')
    for k, s in enumerate(panel.series):
        colour = COLOURS[k % len(COLOURS)]
        dashes = ' stroke-dasharray="6,4"' if k else ""   # a second curve on the first shows
        pts = [point(x, y) for x, y in zip(s.xs, s.ys)
               if math.isfinite(y) and (y > 0 or not panel.log_y)]
        if s.dots:
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6" fill="{colour}" '
                    f'fill-opacity="0.6"/>' for x, y in pts]
        else:
            line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                       f'stroke-width="1.6"{dashes}/>')
        row = HEIGHT + k * LEGEND_ROW          # the legend, under the axis labels
        if s.dots:
            out.append(f'<circle cx="{LEFT + 10}" cy="{row - 4}" r="2" fill="{colour}"/>')
        else:
            out.append(f'<line x1="{LEFT}" x2="{LEFT + 20}" y1="{row - 4}" y2="{row - 4}" '
                       f'stroke="{colour}" stroke-width="1.6"{dashes}/>')
        out.append(f'<text x="{LEFT + 26}" y="{row}">{escape(s.label)}</text>')
    return out


def _span(low, high):
    """A range with a little room around the data (and some width when it is flat)."""
    pad = (high - low) * 0.05 or abs(high) * 0.05 or 1.0
    return low - pad, high + pad
