"""Charts of the record, drawn by matplotlib as SVG, each with a text alternative.

The same functions serve the web pages (inline SVG) and the PDF reports (vector graphics).
Text stays text in the SVG (``svg.fonttype = none``) so it is searchable, selectable and
read by screen readers; every chart also carries a ``<title>``, a ``<desc>`` and a data table.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("svg")  # no GUI backend on servers

from matplotlib import rcParams  # noqa: E402 - the backend must be chosen first
from matplotlib.dates import YearLocator, date2num  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from gmg.core import partial_dates  # noqa: E402

rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "gmg",  # stable element ids, so the same data gives the same SVG
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
        "font.size": 9,
        "axes.edgecolor": "#8796a5",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

INK = "#1b2733"
ACCENT = "#00558c"
CO_CHAIR = "#2f6f9f"
INTERIM = "#b35c00"
SOFT = "#9fc3dd"
# Fills that carry white labels: each must reach WCAG AA contrast (4.5:1) with white.
LABELLED_FILLS = (ACCENT, CO_CHAIR, INTERIM)


@dataclass
class Chart:
    """An SVG chart with what a reader without sight of it needs."""

    key: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    svg: str = ""

    @property
    def data_uri(self) -> str:
        """The SVG as a standalone image (for the PDF, where it is laid out as a picture)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


def _to_svg(figure: Figure, chart: Chart) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: inlined in HTML
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    # Fixed pixel sizes would overflow a phone; let CSS size it by width.
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    title_id, desc_id = f"{chart.key}-title", f"{chart.key}-desc"
    svg = svg.replace(
        "<svg ", f'<svg role="img" aria-labelledby="{title_id} {desc_id}" class="chart" ', 1
    )
    # matplotlib numbers its ids from 1 in every figure: prefix them, so several charts on
    # one page (or in one report) never share an id or point at each other's clip paths.
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{chart.key}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart.key}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{chart.key}-\1"', svg)
    opening_end = svg.index(">") + 1  # after the edits above, so the offset is right
    alt = (
        f'<title id="{title_id}">{_escape(chart.title)}</title>'
        f'<desc id="{desc_id}">{_escape(chart.description)}</desc>'
    )
    return svg[:opening_end] + alt + svg[opening_end:]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Admission:
    entity: str
    joined: str  # partial date text


def membership_chart(body_name: str, admissions: list[Admission], end: dt.date | None) -> Chart:
    """Members over time: a step line of the count, with each admission wave named."""
    waves: dict[str, list[str]] = {}
    for a in admissions:
        waves.setdefault(a.joined, []).append(a.entity)
    ordered = sorted(waves.items(), key=lambda item: partial_dates.parse(item[0]).start)
    chart = Chart(
        key="membership",
        title=f"Members of the {body_name} over time",
        description="",
        columns=["Admitted", "Entities", "Members after"],
    )
    if not ordered:
        chart.description = "No memberships are recorded."
        return chart
    days, counts, total = [], [], 0
    for joined, entities in ordered:
        total += len(entities)
        day = partial_dates.parse(joined).start
        days.append(day)
        counts.append(total)
        chart.rows.append([partial_dates.humanise(joined), ", ".join(entities), str(total)])
    last = end or dt.date.today()  # noqa: DTZ011 - a chart's right edge, not an instant
    chart.description = (
        f"The membership grew from {counts[0]} in {days[0].year} to {counts[-1]} in "
        f"{days[-1].year}, in {len(ordered)} admission{'s' if len(ordered) != 1 else ''}."
    )
    figure = Figure(figsize=(7.5, 3.2), layout="constrained")
    axes = figure.add_subplot()
    xs = [*map(date2num, days), date2num(last)]
    axes.step(xs, [*counts, counts[-1]], where="post", color=ACCENT, linewidth=2)
    axes.fill_between(xs, [*counts, counts[-1]], step="post", color=SOFT, alpha=0.35)
    for index, ((_joined, entities), x, y) in enumerate(zip(ordered, xs, counts, strict=False)):
        # Two names a line; labels alternate above and below the line so neighbours never touch.
        lines = [", ".join(entities[i : i + 2]) for i in range(0, len(entities), 2)]
        above = index % 2 == 0
        axes.annotate(
            f"{y}\n" + "\n".join(lines) if above else "\n".join(lines) + f"\n{y}",
            (x, y),
            xytext=(3, 6 if above else -8),
            textcoords="offset points",
            va="bottom" if above else "top",
            fontsize=6.8,
            color=INK,
            linespacing=1.15,
        )
    axes.set_ylim(0, counts[-1] * 1.45 + 1)
    axes.set_ylabel("members")
    axes.xaxis_date()
    axes.xaxis.set_major_locator(YearLocator(2))
    axes.grid(axis="y", color="#e3e8ee")
    chart.svg = _to_svg(figure, chart)
    return chart


@dataclass(frozen=True)
class Term:
    start: dt.date
    end: dt.date
    chairs: list[str]
    interim: bool
    theme: str  # empty when not stated
    label: str  # e.g. "January 2009 – May 2009"
    coordinator: str = ""


def chair_timeline_chart(body_name: str, terms: list[Term]) -> Chart:
    """One bar per chair term along time; interim terms hatched, co-chairs stacked."""
    chart = Chart(
        key="chairs",
        title=f"Chairs of the {body_name}",
        description="",
        columns=["Term", "Chair(s)", "Interim", "Theme"],
    )
    for t in terms:
        chairs = " and ".join(t.chairs) + (
            f" (coordinated by {t.coordinator})" if t.coordinator else ""
        )
        chart.rows.append(
            [t.label, chairs, "interim" if t.interim else "", t.theme or "not stated"]
        )
    if not terms:
        chart.description = "No chair terms are recorded."
        return chart
    interim = sum(1 for t in terms if t.interim)
    shared = sum(1 for t in terms if len(t.chairs) > 1)
    chart.description = (
        f"{len(terms)} chair terms from {terms[0].start.year} to {terms[-1].end.year}: "
        f"{interim} interim, {shared} co-chaired. The table below lists each term, its "
        "chair(s) and its theme where a source states one."
    )
    figure = Figure(figsize=(7.5, 2.6), layout="constrained")
    axes = figure.add_subplot()
    for index, t in enumerate(terms):
        left = date2num(t.start)
        width = date2num(t.end) - left + 1
        lane = index % 2  # alternate lanes so neighbouring labels do not collide
        share = 0.8 / len(t.chairs)
        for position, chair in enumerate(t.chairs):
            bottom = lane + position * share - 0.4
            axes.broken_barh(
                [(left, width)],
                (bottom, share),
                facecolors=INTERIM if t.interim else (ACCENT if position == 0 else CO_CHAIR),
                edgecolor="white",
                hatch="///" if t.interim else None,
            )
            axes.text(
                left + width / 2,
                bottom + share / 2,
                chair if len(chair) <= 8 else chair.split()[0][:8] + "…",
                ha="center",
                va="center",
                fontsize=6.5 if len(t.chairs) > 1 else 7,
                color="white",
                rotation=90 if width < 200 else 0,
            )
    axes.set_yticks([])
    axes.xaxis_date()
    axes.xaxis.set_major_locator(YearLocator(1))
    axes.tick_params(axis="x", labelsize=7, rotation=45)
    axes.spines["left"].set_visible(False)
    axes.legend(
        handles=[
            Patch(facecolor=ACCENT, label="chair"),
            Patch(facecolor=CO_CHAIR, label="co-chair"),
            Patch(facecolor=INTERIM, hatch="///", label="interim"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, 1.22),
        ncols=3,
        frameon=False,
        fontsize=7.5,
    )
    chart.svg = _to_svg(figure, chart)
    return chart


# Qualitative colours for stacked series, in the order of the largest series first. Picked
# from the colour-blind-safe Okabe-Ito palette, darkened where a neighbour needs contrast.
SERIES = ("#00558c", "#b35c00", "#2a8a6e", "#b8336a", "#6a4c93", "#7a6a00", "#4d7ea8", "#8796a5")


def outputs_per_year_chart(
    body_name: str, counts: dict[tuple[str, int], int], *, highlight: int | None = None
) -> Chart:
    """Outputs per year, stacked by type. ``counts`` maps (type label, year) to a count;
    types beyond the seven largest are drawn together as "other types"."""
    years = sorted({year for _, year in counts})
    totals: dict[str, int] = {}
    for (label, _), n in counts.items():
        totals[label] = totals.get(label, 0) + n
    ranked = sorted(totals, key=lambda label: (-totals[label], label))
    shown, rest = ranked[: len(SERIES) - 1], ranked[len(SERIES) - 1 :]
    series = [*shown, *(["other types"] if rest else [])]
    chart = Chart(
        key="outputs-per-year",
        title=f"Outputs of the {body_name} per year, by type",
        description="",
        columns=["Year", *series, "All"],
    )
    if not years:
        chart.description = "No dated outputs are recorded."
        return chart

    def count(label: str, year: int) -> int:
        labels = rest if label == "other types" else [label]
        return sum(counts.get((name, year), 0) for name in labels)

    for year in years:
        row = [count(label, year) for label in series]
        chart.rows.append([str(year), *map(str, row), str(sum(row))])
    busiest = max(years, key=lambda y: sum(count(label, y) for label in series))
    chart.description = (
        f"{sum(totals.values())} dated outputs from {years[0]} to {years[-1]}; the busiest year "
        f"was {busiest} with {sum(count(label, busiest) for label in series)}. Each output is "
        "counted once, in the year of its earliest stated date."
    )
    figure = Figure(figsize=(7.5, 3.4), layout="constrained")
    axes = figure.add_subplot()
    bottoms = [0] * len(years)
    for colour, label in zip(SERIES, series, strict=False):
        heights = [count(label, y) for y in years]
        axes.bar(years, heights, bottom=bottoms, color=colour, label=label, width=0.75)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    if highlight in years:
        axes.axvspan(highlight - 0.5, highlight + 0.5, color=SOFT, alpha=0.35, zorder=0)
    axes.set_xticks(years, [str(y) for y in years], rotation=45, fontsize=7)
    axes.set_ylabel("outputs")
    axes.grid(axis="y", color="#e3e8ee")
    axes.set_axisbelow(True)
    axes.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
    chart.svg = _to_svg(figure, chart)
    return chart


def led_matrix_chart(
    body_name: str, entities: list[str], columns: list[str], counts: dict[tuple[str, str], int]
) -> Chart:
    """Entities (rows) against kinds of output (columns): how many each entity led or co-led.
    Every count is written in its cell, so the colour is never the only carrier."""
    chart = Chart(
        key="led-matrix",
        title=f"Outputs of the {body_name} led or co-led by each entity",
        description="",
        columns=["Entity", *columns, "All"],
    )
    rows = [e for e in entities if any(counts.get((e, c), 0) for c in columns)]
    for entity in rows:
        cells = [counts.get((entity, c), 0) for c in columns]
        chart.rows.append([entity, *(str(n) if n else "" for n in cells), str(sum(cells))])
    if not rows:
        chart.description = "No output records a leading entity."
        return chart
    totals = {e: sum(counts.get((e, c), 0) for c in columns) for e in rows}
    top = max(totals.values())
    leaders = [e for e in rows if totals[e] == top]
    chart.description = (
        f"{len(rows)} entities are recorded as leading or co-leading outputs; the most led by "
        f"one entity is {top} ({', '.join(leaders)}). Outputs that record no lead entity are "
        "not counted."
    )
    values = [[counts.get((e, c), 0) for c in columns] for e in rows]
    # The scale tops out well above the largest count, so every filled cell stays a light
    # or mid tone that dark ink reads on.
    peak = max(max(row) for row in values)
    figure = Figure(figsize=(7.5, 0.9 + 0.2 * len(rows)), layout="constrained")
    axes = figure.add_subplot()
    # Cells are drawn as shapes (a mesh), not an image, so the chart stays vector in the PDF.
    axes.pcolormesh(values, cmap="Blues", vmin=0, vmax=peak * 2.2, edgecolors="white", linewidth=1)
    axes.set_ylim(len(rows), 0)
    for y, row in enumerate(values):
        for x, n in enumerate(row):
            if n:
                axes.text(x + 0.5, y + 0.5, str(n), ha="center", va="center", fontsize=7, color=INK)
    axes.set_xticks(
        [x + 0.5 for x in range(len(columns))], columns, rotation=30, ha="right", fontsize=7
    )
    axes.set_yticks([y + 0.5 for y in range(len(rows))], rows, fontsize=7)
    axes.tick_params(length=0)
    for side in ("left", "bottom"):
        axes.spines[side].set_visible(False)
    chart.svg = _to_svg(figure, chart)
    return chart
