"""A joint statement from first draft to publication, in a real browser against a real
`gmg serve`, as the people would do it: IOM drafts and leads, UNICEF co-leads and
comments, ILO objects then clears, the secretariat publishes, and the public reads it.

Waiting 72 hours is not possible here, so the deadline is reached by moving the round's
instants back in the server's database (the round, its answers), then `gmg tick` runs as
the scheduler would: exactly what would be stored had the time passed.
"""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_problems, gmg_cli, keep_screenshot
from tests.browser.test_members_area import csp_errors, invite_and_accept

TITLE = "Joint statement of the GMG to the GFMD Friends of the Forum"
DRAFT = (
    "The Global Migration Group welcomes the opportunity to address the Friends of the Forum."
    "\n\nMigrants' human rights must be protected at every stage of migration."
    "\n\nThe GMG stands ready to support Member States in the Global Compact process."
)


def age_round(key: str, number: int, hours: int) -> None:
    """Move round ``number`` of text ``key`` ``hours`` into the past, answers included."""
    code = (
        "import datetime as dt\n"
        "from django.db.models import F\n"
        "from gmg.clearance.models import Answer, Round\n"
        f"shift = dt.timedelta(hours={hours})\n"
        f"r = Round.objects.get(text__key={key!r}, number={number})\n"
        "Round.objects.filter(pk=r.pk).update(opened_at=F('opened_at') - shift, "
        "deadline=F('deadline') - shift)\n"
        "Answer.objects.filter(round=r).update(answered_at=F('answered_at') - shift)\n"
    )
    gmg_cli("manage", "shell", "-c", code)
    gmg_cli("tick")


@pytest.fixture(scope="module")
def people(browser, base_url):
    """Signed-in browser pages: focal points of IOM, UNICEF, ILO and a TOTP secretariat."""
    from django_otp.oath import TOTP

    contexts, pages = [], {}
    for name in ("IOM", "UNICEF", "ILO"):
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        invite_and_accept(
            page,
            f"focal@{name.lower()}.clearance.example",
            "--name",
            f"{name} Focal Point",
            "--entity",
            name,
            "--role",
            "focal_point",
        )
        contexts.append(context)
        pages[name] = page
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    invite_and_accept(page, "clerk@gmg.example", "--name", "GMG Support", "--role", "secretariat")
    secret = page.locator("code.secret").inner_text().strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Six-digit code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    contexts.append(context)
    pages["secretariat"] = page
    yield pages
    for context in contexts:
        context.close()


def test_a_joint_statement_from_first_draft_to_the_public_page(people, page):
    iom, unicef, ilo, secretariat = (people[n] for n in ("IOM", "UNICEF", "ILO", "secretariat"))
    csp = csp_errors(iom)

    # IOM starts the text, UNICEF as co-lead.
    iom.goto("/members-area/texts/")
    iom.get_by_role("link", name="Start a text").click()
    iom.get_by_label("Title").fill(TITLE)
    iom.get_by_label("Body", exact=True).select_option("gmg")
    iom.get_by_label("Occasion").fill("GFMD Friends of the Forum, 5 February 2018")
    iom.get_by_label("Co-lead entities").select_option("UNICEF")
    iom.get_by_label("Text", exact=True).fill(DRAFT)
    iom.get_by_role("button", name="Save").click()
    expect(iom.get_by_text("is started, at version 1")).to_be_visible()
    key = iom.url.rstrip("/").rsplit("/", 1)[-1]
    expect(iom.get_by_text("IOM, UNICEF (co-lead)")).to_be_visible()
    # UNICEF comments on paragraph 2, substantively.
    unicef.goto(f"/members-area/texts/{key}/")
    paragraph = unicef.locator("#p-2")
    paragraph.get_by_text("Comment on paragraph 2").click()
    paragraph.get_by_label("Substantive").check()
    paragraph.get_by_label("Comment", exact=True).fill("Name children, whatever their status.")
    paragraph.get_by_role("button", name="Add the comment").click()
    expect(unicef.get_by_text("Your comment is recorded.")).to_be_visible()
    # IOM accepts it and writes version 2; the comparison shows what changed.
    iom.goto(f"/members-area/texts/{key}/")
    comment = iom.locator("#p-2 .comment")
    comment.get_by_text("Resolve").click()
    comment.get_by_label("Accepted").check()
    comment.get_by_role("button", name="Save").click()
    iom.get_by_role("link", name="New version").click()
    iom.get_by_label("Text", exact=True).fill(
        DRAFT.replace("at every stage of migration", "at every stage of migration, children first")
    )
    iom.get_by_label("What changed").fill("UNICEF's comment on paragraph 2")
    iom.get_by_role("button", name="Save").click()
    expect(iom.get_by_text("Version 2 is saved.")).to_be_visible()
    expect(iom.locator("#p-2 .comment").get_by_text("carried over")).to_be_visible()
    keep_screenshot(iom, "clearance-text")
    iom.get_by_role("link", name="Compare versions").click()
    assert "children first" in iom.locator("ins").first.inner_text()
    keep_screenshot(iom, "clearance-compare")

    # Round 1: IOM circulates version 2 with the default deadline (72 hours and more).
    iom.goto(f"/members-area/texts/{key}/")
    iom.get_by_role("button", name="Open the round").click()
    expect(iom.get_by_text(re.compile(r"22 entities are asked"))).to_be_visible()
    # ILO objects; UNICEF clears.
    ilo.goto(f"/members-area/texts/{key}/rounds/1/")
    ilo.get_by_label("Object (breaks silence)").check()
    ilo.get_by_label("Reason").fill("Paragraph 3 pre-empts the Member States' negotiation.")
    ilo.get_by_role("button", name="Send the answer").click()
    expect(ilo.get_by_text("ILO's answer is recorded: Object (breaks silence).")).to_be_visible()
    unicef.goto(f"/members-area/texts/{key}/rounds/1/")
    unicef.get_by_label("Clear", exact=True).check()
    unicef.get_by_role("button", name="Send the answer").click()
    grid = iom.goto(f"/members-area/texts/{key}/rounds/1/")
    assert grid is not None and grid.status == 200
    assert iom.locator("tr.state-object th").inner_text() == "ILO"
    keep_screenshot(iom, "clearance-grid-objection")
    problems = axe_problems(iom)
    assert problems == [], problems

    # The deadline passes: not adopted. IOM chooses to amend and circulate again.
    age_round(key, 1, 80)
    iom.goto(f"/members-area/texts/{key}/rounds/1/")
    expect(iom.get_by_text("not adopted, silence broken")).to_be_visible()
    iom.get_by_label("Amend it and circulate a new version").check()
    iom.get_by_role("button", name="Record the way on").click()
    iom.get_by_role("link", name="New version").click()
    iom.get_by_label("Text", exact=True).fill(
        DRAFT.replace(
            "at every stage of migration", "at every stage of migration, children first"
        ).replace("in the Global Compact process", "as they negotiate the Global Compact")
    )
    iom.get_by_role("button", name="Save").click()
    iom.get_by_role("button", name="Open the round").click()
    expect(iom.get_by_text(re.compile(r"Round 2 is open until"))).to_be_visible()
    # Round 2: ILO clears this time; the rest stay silent.
    ilo.goto(f"/members-area/texts/{key}/rounds/2/")
    ilo.get_by_label("Clear", exact=True).check()
    ilo.get_by_role("button", name="Send the answer").click()
    age_round(key, 2, 80)
    iom.goto(f"/members-area/texts/{key}/")
    assert iom.locator(".tag.status-adopted").inner_text() == "Adopted"

    # The secretariat publishes it; the public reads it, with who cleared it.
    secretariat.goto(f"/members-area/texts/{key}/")
    secretariat.get_by_role("button", name="Publish version 3").click()
    assert "/outputs/" in secretariat.url
    public_url = secretariat.url
    page.goto(public_url)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_text("as they negotiate the Global Compact")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Cleared by: ILO"))).to_be_visible()
    assert page.get_by_role("link", name="The clearance record").count() == 0
    keep_screenshot(page, "clearance-published")
    missing = page.goto(f"/members-area/texts/{key}/")
    assert missing is not None and missing.status == 404
    assert csp == []
