"""Server-side SVG charts: readable without JavaScript, printable, labelled for screen readers."""

from __future__ import annotations

import math
from html import escape

BAR_HEIGHT = 22
LABEL_WIDTH = 260
PLOT_WIDTH = 360


def interval_bars(rows: list[dict], *, title: str) -> str:
    """Horizontal bars (value) with 95% interval whiskers; rows carry label, value, low, high, n."""
    height = BAR_HEIGHT * len(rows) + 30
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {LABEL_WIDTH + PLOT_WIDTH + 90} '
             f'{height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = LABEL_WIDTH + tick * PLOT_WIDTH
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{height - 6}" class="tick">{tick:g}</text>')
    for index, row in enumerate(rows):
        y = index * BAR_HEIGHT + 4
        label = escape(str(row["label"]))
        if row.get("value") is None:
            parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" class="label">{label}</text>'
                         f'<text x="{LABEL_WIDTH + 4}" y="{y + 14}" class="value">no data</text>')
            continue
        value, low, high = (max(0.0, min(1.0, float(row[key]))) for key in ("value", "low", "high"))
        description = f"{row['label']}: {value:.3f}, 95% interval {low:.3f} to {high:.3f}, n={row['n']}"
        parts.append(
            f'<g><title>{escape(description)}</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" class="label">{label}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{value * PLOT_WIDTH:.1f}" height="{BAR_HEIGHT - 8}" class="bar"/>'
            f'<line x1="{LABEL_WIDTH + low * PLOT_WIDTH:.1f}" y1="{y + 10}" x2="{LABEL_WIDTH + high * PLOT_WIDTH:.1f}" '
            f'y2="{y + 10}" class="whisker"/>'
            f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 8}" y="{y + 14}" class="value">{value:.3f} (n={int(row["n"])})</text></g>')
    parts.append("</svg>")
    return "".join(parts)


TREND_WIDTH = 640
TREND_HEIGHT = 180
TREND_MARGIN = 40


def trend_chart(points: list[dict], *, title: str) -> str:
    """One metric across runs, oldest first: a point per run with its 95% interval as a vertical whisker.

    `points` carry label (the run's date), value, low, high, n; a run without the metric is a gap.
    """
    plot_width, plot_height = TREND_WIDTH - 2 * TREND_MARGIN, TREND_HEIGHT - 50
    step = plot_width / max(1, len(points) - 1)
    parts = [f'<svg class="chart trend" role="img" aria-label="{escape(title)}" viewBox="0 0 {TREND_WIDTH} '
             f'{TREND_HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']

    def y_of(value: float) -> float:
        return 10 + (1 - max(0.0, min(1.0, value))) * plot_height

    for tick in (0.0, 0.5, 1.0):
        y = y_of(tick)
        parts.append(f'<line x1="{TREND_MARGIN}" y1="{y:.1f}" x2="{TREND_WIDTH - TREND_MARGIN}" y2="{y:.1f}" '
                     f'class="grid"/><text x="{TREND_MARGIN - 6}" y="{y + 4:.1f}" class="label">{tick:g}</text>')
    line = []
    for index, point in enumerate(points):
        x = TREND_MARGIN + index * step if len(points) > 1 else TREND_MARGIN + plot_width / 2
        label = escape(str(point["label"]))
        parts.append(f'<text x="{x:.1f}" y="{TREND_HEIGHT - 8}" class="tick">{label}</text>')
        if point.get("value") is None:
            continue
        value, low, high = (float(point[key]) for key in ("value", "low", "high"))
        line.append(f"{x:.1f},{y_of(value):.1f}")
        description = f"{point['label']}: {value:.3f}, 95% interval {low:.3f} to {high:.3f}, n={point['n']}"
        parts.append(f'<g><title>{escape(description)}</title>'
                     f'<line x1="{x:.1f}" y1="{y_of(high):.1f}" x2="{x:.1f}" y2="{y_of(low):.1f}" class="whisker"/>'
                     f'<circle cx="{x:.1f}" cy="{y_of(value):.1f}" r="4" class="point"/></g>')
    if len(line) > 1:
        parts.insert(1, f'<polyline points="{" ".join(line)}" class="trendline"/>')
    parts.append("</svg>")
    return "".join(parts)


def _plottable(metric: dict) -> bool:
    """Rates in [0, 1]; differences such as order_effect run from -1 to 1 and stay in the tables."""
    return metric["value"] is not None and 0 <= metric["low"] and metric["high"] <= 1


def run_chart(summary: dict) -> str:
    return interval_bars([{"label": f"{m.get('category', '')} · {m['name']}", **m} for m in summary["metrics"]
                          if _plottable(m)], title=f"Metrics of run {summary['run_id']} with 95% intervals")


def category_charts(data: dict) -> dict[str, str]:
    """One chart per metric of a category page: a bar per model (per model and variant for a metric reported below
    the category, e.g. sabotage_rate under agentic_self_preservation)."""
    def label(model: dict, metric: dict) -> str:
        below = (metric.get("category") or "")[len(data["category"]) + 1:]
        return f"{model['model']} · {below}" if below else model["model"]

    return {name: interval_bars([{"label": label(model, metric), **metric} for model in data["models"]
                                 for metric in model["metrics"] if metric["name"] == name and _plottable(metric)],
                                title=f"{name} by model, 95% intervals")
            for name in data["metric_names"]}


def trend_charts(card: dict) -> dict[str, str]:
    """A model card's headline metrics across its runs."""
    return {key: trend_chart(points, title=f"{card['model']['spec']}: {key} across runs, 95% intervals")
            for key, points in card["trends"].items()}


def self_preservation_charts(data: dict) -> dict[str, str]:
    """Per model: the rate per variation, pooled over scenarios and split by option order."""
    charts = {}
    for model in data["models"]:
        rows = []
        for row in model["by_variation"]:
            rows.append({"label": row["variation"], **row})
            for order, shown in (("first", "as (A)"), ("second", "as (B)")):
                if row[order]:
                    rows.append({**row[order], "label": f"{row['variation']} {shown}"})
        charts[model["run_id"]] = interval_bars(
            rows, title=f"{model['model']}: self-preservation rate by variation and option order, 95% intervals")
    return charts


def agentic_charts(data: dict) -> dict[str, str]:
    """The agentic section (hub.agentic_view), per model with results: sabotage_rate per task and variant."""
    return {model["run_id"]: interval_bars(
        [{"label": f"{row['subcategory']} · {variant}", **row["cells"][variant]} for row in model["rows"]
         for variant in model["variants"] if variant in row["cells"]],
        title=f"{model['model']}: sabotage rate by task and variant, 95% Wilson intervals")
        for model in data["models"] if model["run_id"]}


TIMELINE_SERIES = (("blocks", "block rate", "block"), ("flags", "flag rate", "flag"))
TIMELINE_TOPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def rate_timeline(points: list[dict], *, title: str) -> str:
    """Block and flag rates per time bucket, oldest first, each point with its 95% interval as a vertical whisker.

    `points` carry label, n and a {value, low, high} per series (TIMELINE_SERIES); an empty bucket
    (n=0) is a gap. The y axis runs from 0 to the smallest round ceiling above every interval, so a
    rate of a few percent is not flattened against the floor; its top is labelled.
    """
    width, height, left, right, top, bottom = TREND_WIDTH, 210, 48, 12, 26, 30
    plot_width, plot_height = width - left - right, height - top - bottom
    shown = [point for point in points if point["n"]]
    ceiling = next((tick for tick in TIMELINE_TOPS
                    if all(point[key]["high"] <= tick for point in shown for key, _, _ in TIMELINE_SERIES)), 1.0)
    step = plot_width / max(1, len(points))
    offset = 2.5 if step >= 8 else 0.0  # the two series' whiskers side by side when there is room

    def x_of(index: int) -> float:
        return left + (index + 0.5) * step

    def y_of(value: float) -> float:
        return top + (1 - max(0.0, min(ceiling, value)) / ceiling) * plot_height

    parts = [f'<svg class="chart timeline" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in (0.0, ceiling / 2, ceiling):
        y = y_of(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="label">{tick:g}</text>')
    every = max(1, math.ceil(len(points) / 6))
    for index, point in enumerate(points):
        if index % every == 0:
            parts.append(f'<text x="{x_of(index):.1f}" y="{height - 10}" class="tick">{escape(str(point["label"]))}</text>')
    for number, (key, name, css) in enumerate(TIMELINE_SERIES):
        shift = offset * (2 * number - 1)
        segments, segment = [], []
        for index, point in enumerate(points):
            if not point["n"]:
                segments, segment = segments + [segment], []
                continue
            segment.append(f"{x_of(index) + shift:.1f},{y_of(point[key]['value']):.1f}")
        parts.extend(f'<polyline points="{" ".join(line)}" class="trendline {css}"/>' for line in segments + [segment]
                     if len(line) > 1)
        for index, point in enumerate(points):
            if not point["n"]:
                continue
            value, low, high = (float(point[key][bound]) for bound in ("value", "low", "high"))
            x = x_of(index) + shift
            description = (f"{point['label']}: {name} {value:.3f}, 95% interval {low:.3f} to {high:.3f}, "
                           f"n={point['n']}")
            parts.append(f'<g class="{css}"><title>{escape(description)}</title>'
                         f'<line x1="{x:.1f}" y1="{y_of(high):.1f}" x2="{x:.1f}" y2="{y_of(low):.1f}" class="whisker"/>'
                         f'<circle cx="{x:.1f}" cy="{y_of(value):.1f}" r="3" class="point"/></g>')
        legend_x = left + 8 + number * 110
        parts.append(f'<g class="{css}"><circle cx="{legend_x}" cy="10" r="4" class="point"/>'
                     f'<text x="{legend_x + 8}" y="14" class="legend">{escape(name)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def guard_charts(summary: dict | None, label_of) -> dict[str, str]:
    """The guard page: one chart per stage (input, output) of block and flag rates over time."""
    if summary is None:
        return {}
    return {stage: rate_timeline([{**point, "label": label_of(point["bucket"], summary["bucket"])} for point in points],
                                 title=f"{stage} screens: block and flag rates per {summary['bucket']}, "
                                       "95% Wilson intervals")
            for stage, points in summary["timeline"].items()}
