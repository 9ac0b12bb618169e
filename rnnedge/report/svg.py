"""Inline SVG charts for the HTML report: no scripts, no external files, crisp when printed.

`step_chart` (live bytes per time scope, one line per planner), `rect_chart` (tensor
placement: time x arena offset), `bar_chart` (one bar per layer, e.g. Vela cycles) and
`split_bar` (one stacked bar, e.g. NPU/CPU). Each returns one `<svg>` element as a string;
every label is escaped. May import: html (the standard library's) only.
"""

from html import escape

WIDTH, HEIGHT = 860, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 12, 36
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
           "#e377c2", "#7f7f7f", "#bcbd22")


def _frame(title, xlabel, ylabel, ymax, body, height=HEIGHT, legend=""):
    """The axes box, y ticks (0, half, max), labels and `body` inside one <svg>."""
    plot_h = height - TOP - BOTTOM
    ticks = "".join(
        f'<line x1="{LEFT - 4}" x2="{LEFT}" y1="{TOP + plot_h * (1 - f):.1f}" '
        f'y2="{TOP + plot_h * (1 - f):.1f}" stroke="#444"/>'
        f'<text x="{LEFT - 6}" y="{TOP + plot_h * (1 - f) + 4:.1f}" text-anchor="end">'
        f'{ymax * f:,.0f}</text>' for f in (0, 0.5, 1))
    return (f'<svg role="img" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" style="max-width:{WIDTH}px" font-family="sans-serif" font-size="11">'
            f'<title>{escape(title)}</title>'
            f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{plot_h}" '
            f'fill="#fafafa" stroke="#444"/>{body}{ticks}'
            f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{height - 6}" text-anchor="middle">'
            f'{escape(xlabel)}</text>'
            f'<text x="12" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'transform="rotate(-90 12 {TOP + plot_h / 2})">{escape(ylabel)}</text>{legend}</svg>')


def _scale(n_x, ymax, height=HEIGHT):
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    sx = plot_w / max(n_x, 1)
    sy = plot_h / max(ymax, 1)
    return (lambda x: LEFT + x * sx), (lambda y: TOP + plot_h - y * sy), sx


def _legend(items):
    """A boxed legend in the plot's top right corner."""
    if not items:
        return ""
    box_w = 24 + 6.2 * max(len(label) for label, _ in items)
    x = WIDTH - RIGHT - box_w - 6
    return (f'<rect x="{x:.1f}" y="{TOP + 4}" width="{box_w:.1f}" height="{6 + 15 * len(items)}" '
            f'fill="#fff" fill-opacity="0.9" stroke="#bbb"/>' + "".join(
                f'<rect x="{x + 6:.1f}" y="{TOP + 12 + 15 * i}" width="12" height="4" '
                f'fill="{color}"/><text x="{x + 22:.1f}" y="{TOP + 18 + 15 * i}">'
                f'{escape(label)}</text>' for i, (label, color) in enumerate(items)))


def step_chart(series, title, xlabel, ylabel, hlines=()):
    """One step line per (label, values) in `series`; `hlines`: (label, y) dashed lines."""
    n_x = max((len(v) for _, v in series), default=1)
    ymax = max([max(v, default=0) for _, v in series] + [y for _, y in hlines] + [1])
    fx, fy, sx = _scale(n_x, ymax)
    body, legend = [], []
    for i, (label, values) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{fx(x):.1f},{fy(v):.1f} {fx(x + 1):.1f},{fy(v):.1f}"
                          for x, v in enumerate(values))
        dash = ("", ' stroke-dasharray="6 3"', ' stroke-dasharray="2 2"')[i % 3]
        body.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                    f'stroke-width="1.6"{dash}/>')
        legend.append((label, color))
    for label, y in hlines:
        body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{fy(y):.1f}" y2="{fy(y):.1f}" '
                    f'stroke="#888" stroke-dasharray="4 4"/>')
        legend.append((label, "#888"))
    return _frame(title, xlabel, ylabel, ymax, "".join(body), legend=_legend(legend))


def rect_chart(rects, n_x, ymax, title, xlabel, ylabel):
    """Rectangles (first, last, offset, size, label) on time x offset axes."""
    fx, fy, sx = _scale(n_x, ymax)
    body = []
    for i, (first, last, offset, size, label) in enumerate(rects):
        x, y = fx(first), fy(offset + size)
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(fx(last + 1) - x, 0.5):.1f}" '
                    f'height="{max(fy(offset) - y, 0.5):.1f}" fill="{PALETTE[i % len(PALETTE)]}" '
                    f'fill-opacity="0.75" stroke="#fff" stroke-width="0.3">'
                    f'<title>{escape(label)}</title></rect>')
    return _frame(title, xlabel, ylabel, ymax, "".join(body))


def bar_chart(bars, title, xlabel, ylabel, legend=()):
    """One bar per (value, color, label), in order along x."""
    ymax = max([v for v, _, _ in bars] + [1])
    fx, fy, sx = _scale(len(bars), ymax)
    body = "".join(
        f'<rect x="{fx(i) + 0.1 * sx:.2f}" y="{fy(v):.1f}" width="{max(0.8 * sx, 0.4):.2f}" '
        f'height="{fy(0) - fy(v):.1f}" fill="{color}"><title>{escape(label)}</title></rect>'
        for i, (v, color, label) in enumerate(bars) if v > 0)
    return _frame(title, xlabel, ylabel, ymax, body, legend=_legend(legend))


def split_bar(parts, title):
    """One horizontal stacked bar of (label, value, color) parts, labelled with shares."""
    total = sum(v for _, v, _ in parts) or 1
    width, x, body = WIDTH - LEFT - RIGHT, LEFT, []
    for label, value, color in parts:
        w = width * value / total
        if w > 0:
            body.append(f'<rect x="{x:.1f}" y="10" width="{w:.1f}" height="26" fill="{color}">'
                        f'<title>{escape(label)}: {value:,}</title></rect>')
            if w > 60:
                body.append(f'<text x="{x + w / 2:.1f}" y="27" text-anchor="middle" fill="#fff">'
                            f'{escape(label)} {100 * value / total:.1f}%</text>')
        x += w
    keys = "  ".join(f"{label}: {value:,}" for label, value, _ in parts)
    return (f'<svg role="img" viewBox="0 0 {WIDTH} 58" '
            f'width="100%" style="max-width:{WIDTH}px" font-family="sans-serif" font-size="11">'
            f'<title>{escape(title)}</title>{"".join(body)}'
            f'<text x="{LEFT}" y="52">{escape(keys)}</text></svg>')
