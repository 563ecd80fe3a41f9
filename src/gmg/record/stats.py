"""Counts of the record, as the README and docs state them (and tests hold them to)."""

from __future__ import annotations

from gmg.core.viewer import Viewer
from gmg.repository.models import OutputType
from gmg.repository.selectors import counts_by_type_and_year


def counts_table_markdown(viewer: Viewer) -> str:
    """Outputs per type (rows) and year (columns); each output under its earliest stated year."""
    counts = counts_by_type_and_year(viewer)
    years = sorted({y for _, y in counts if y is not None})
    has_undated = any(y is None for _, y in counts)
    columns = [str(y) for y in years] + (["not stated"] if has_undated else []) + ["total"]
    lines = [
        "| type | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    keys = years + ([None] if has_undated else [])
    for value, label in OutputType.choices:
        row = [counts.get((value, y), 0) for y in keys]
        if sum(row):
            cells = [str(n) if n else "·" for n in row] + [str(sum(row))]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    totals = [sum(n for (_, y), n in counts.items() if y == year) for year in keys]
    lines.append("| **all** | " + " | ".join(str(n) for n in totals) + f" | {sum(totals)} |")
    return "\n".join(lines)
