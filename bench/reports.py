"""How long the generated files take, side by side in one run: the final and an annual
report (content, HTML, PDF) and the open-data package, for the shipped GMG record.

    .venv/bin/python bench/reports.py [--runs 5]

It loads the record into a scratch SQLite database (GMG_DATA_DIR in a temporary directory),
then times each step ``--runs`` times and prints the medians as a Markdown table, with the
queries each step makes (counted, so they do not depend on the machine's load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["GMG_DATA_DIR"] = tempfile.mkdtemp(prefix="gmg-bench-reports-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmg.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gmg.accounts.services import Actor
    from gmg.core.viewer import ANONYMOUS
    from gmg.record.bundle import DEFAULT_BUNDLE, read_bundle
    from gmg.record.loader import load_bundle
    from gmg.record.opendata import public_bundle, zip_bytes
    from gmg.reports.content import annual_report, final_report
    from gmg.reports.produce import ReportRequest, produce
    from gmg.reports.render import render_html

    call_command("migrate", verbosity=0)
    load_bundle(read_bundle(DEFAULT_BUNDLE), by=Actor.system("bench"), replace=True)

    steps: list[tuple[str, Callable[[], object]]] = [
        ("final report: content", lambda: final_report(ANONYMOUS, "gmg")),
        ("final report: content + HTML", lambda: render_html(final_report(ANONYMOUS, "gmg"))),
        ("final report: PDF", lambda: produce(ReportRequest("final", "gmg"), "pdf")),
        ("annual report 2016: content", lambda: annual_report(ANONYMOUS, "gmg", 2016)),
        ("annual report 2016: PDF", lambda: produce(ReportRequest("annual", "gmg", 2016), "pdf")),
        ("open-data package (zip)", lambda: zip_bytes(public_bundle())),
    ]
    print(f"| step | median of {args.runs} (s) | min (s) | queries |")
    print("|---|---:|---:|---:|")
    for name, step in steps:
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                step()
                times.append(time.perf_counter() - started)
        print(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | {len(queries)} |")


if __name__ == "__main__":
    main()
