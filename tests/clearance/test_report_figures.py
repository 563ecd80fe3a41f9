"""A statement cleared on the platform shows its clearance figures in the annual report."""

from __future__ import annotations

from gmg.clearance import services
from gmg.core.viewer import ANONYMOUS
from gmg.reports.content import annual_report

from ._helpers import answer, closed, open_round


def test_the_annual_report_gives_the_clearance_figures_of_a_cleared_statement(
    cast, clock, statement
):
    round_ = open_round(cast, statement)
    everyone = sorted(cast.entities)
    silent = {"UNU", "UNITAR"}
    with_comments = {"FAO"}
    for acronym in everyone:
        if acronym in silent:
            continue
        kind = "clear_with_comments" if acronym in with_comments else "clear"
        extra = {"comments": "Paragraph 2: say 'migrants'."} if kind != "clear" else {}
        answer(cast, round_, acronym, kind, **extra)
    closed(clock, round_)
    output = services.publish(statement, **cast.as_("secretariat"))

    report = annual_report(ANONYMOUS, "gmg", 2018)
    chapter = next(c for c in report.chapters if c.key == "statements")
    item = next(i for i in chapter.sections[0].items if i.output_key == output.key)
    assert (
        f"Cleared under the silence procedure (round 1): {len(everyone)} entities asked, "
        f"{len(everyone) - 3} cleared, 1 cleared with comments, 2 stayed silent, 0 objected."
    ) in item.text
    assert "1 of them were cleared on this platform" in chapter.paragraphs[0]
    # The statements of the record, adopted before the platform, say so.
    others = [i for i in chapter.sections[0].items if i.output_key != output.key]
    assert others and all("Clearance figures: not recorded" in i.text for i in others)
