"""One joint statement run end to end with the GMG's 22 members, as the issue's "done when"
asks: from first draft to publication on the platform alone, and afterwards who cleared
which version when. The numbers it prints are quoted in docs/performance.md.

Run it alone to see them: pytest tests/clearance/test_full_run.py -s
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gmg.clearance import notifications, selectors, services
from gmg.clearance.models import Answer, Comment, Notification, Round
from tests.clearance.conftest import START
from tests.clearance.test_pages import client_for

HOUR = dt.timedelta(hours=1)


def queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_a_gfmd_statement_with_22_agencies(cast, statement, clock, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    acronyms = sorted(cast.entities)
    assert len(acronyms) == 22
    services.update_text(
        statement, **cast.as_("IOM"), changes={}, drafters=[cast.user("IOM"), cast.user("UNICEF")]
    )
    v1 = statement.versions.get(number=1)

    # Consultation on version 1: six comments from five agencies.
    said = [
        ("UNHCR", 2, "substantive", "Refer to refugees as well as migrants."),
        ("OHCHR", 2, "substantive", "Say 'regardless of migration status'."),
        ("UNICEF", 1, "editorial", "'welcomes' → 'warmly welcomes'."),
        ("ILO", 3, "substantive", "Mention labour migration governance."),
        ("UN DESA", None, "editorial", "Use UN spelling throughout."),
        ("UNHCR", 3, "editorial", "Comma after 'States'."),
    ]
    comments = [
        services.add_comment(v1, **cast.as_(who), kind=kind, body=body, paragraph=para)
        for who, para, kind, body in said
    ]
    for comment, (resolution, reason) in zip(
        comments,
        [
            ("accepted", ""),
            ("accepted", ""),
            ("declined", "Keeps the agreed GFMD wording."),
            ("accepted", ""),
            ("accepted", ""),
            ("declined", "Not UN style."),
        ],
        strict=True,
    ):
        services.resolve_comment(comment, **cast.as_("IOM"), resolution=resolution, reason=reason)
    services.add_version(
        statement,
        **cast.as_("UNICEF"),
        content=(
            "The Global Migration Group welcomes the Global Compact process.\n\n"
            "The human rights of all migrants and refugees must be protected regardless of "
            "migration status.\n\n"
            "The GMG stands ready to support Member States, including on labour migration "
            "governance."
        ),
        note="Comments of UNHCR, OHCHR, ILO and UN DESA",
    )

    # Round 1: 72 hours; most clear, some with comments, ILO objects; FAO answers twice.
    clock(START + 2 * HOUR)
    round1 = services.open_round(statement, **cast.as_("IOM"), deadline=START + 74 * HOUR)
    notifications.tick()
    clock(START + 10 * HOUR)
    silent1 = {"UNU", "UNITAR"}
    for acronym in acronyms:
        if acronym in silent1 or acronym == "ILO":
            continue
        kind = "clear_with_comments" if acronym in {"WHO", "UNFPA", "UNEP"} else "clear"
        services.answer(
            round1,
            **cast.as_(acronym),
            entity=cast.entity(acronym),
            kind=kind,
            comments="A typo in paragraph 2." if kind != "clear" else "",
        )
    services.answer(
        round1,
        **cast.as_("ILO"),
        entity=cast.entity("ILO"),
        kind="object",
        reason="Paragraph 3 must not pre-empt the negotiation on labour migration.",
    )
    services.answer(
        round1,
        **cast.as_("FAO"),
        entity=cast.entity("FAO"),
        kind="clear_with_comments",
        comments="On reflection: 'rural migrants' in paragraph 2.",
    )
    for hours in (26, 50, 74):  # ticks as the scheduler would make them
        clock(START + hours * HOUR)
        notifications.tick()
    round1.refresh_from_db()
    assert round1.outcome == Round.Outcome.SILENCE_BROKEN

    # The leads amend paragraph 3 and circulate version 3.
    services.choose_next_step(round1, **cast.as_("IOM"), step="new_version", note="ILO's point")
    services.add_version(
        statement,
        **cast.as_("IOM"),
        content=(
            "The Global Migration Group welcomes the Global Compact process.\n\n"
            "The human rights of all migrants and refugees must be protected regardless of "
            "migration status.\n\n"
            "The GMG stands ready to support Member States as they negotiate the Global "
            "Compact."
        ),
        note="Paragraph 3 as ILO asked",
    )
    clock(START + 75 * HOUR)
    round2 = services.open_round(statement, **cast.as_("IOM"), deadline=START + 147 * HOUR)
    clock(START + 80 * HOUR)
    silent2 = {"UNU", "UNITAR", "UNIDO"}
    for acronym in acronyms:
        if acronym not in silent2:
            services.answer(round2, **cast.as_(acronym), entity=cast.entity(acronym), kind="clear")
    for hours in (99, 123, 147):
        clock(START + hours * HOUR)
        notifications.tick()

    # Adopted; the secretariat publishes it.
    statement.refresh_from_db()
    assert statement.status == "adopted" and statement.adopted_version.number == 3
    output = services.publish(statement, **cast.as_("secretariat"))
    assert output.visibility == "public"

    # Afterwards: who cleared which version when.
    grid1, grid2 = selectors.grid(round1), selectors.grid(round2)
    assert grid1.counts == {
        "asked": 22,
        "clear": 15,
        "clear_with_comments": 4,
        "object": 1,
        "silent": 2,
    }
    assert grid2.counts == {
        "asked": 22,
        "clear": 19,
        "clear_with_comments": 0,
        "object": 0,
        "silent": 3,
    }
    assert {e.acronym for e in grid2.silent()} == silent2
    fao = next(r for r in grid1.rows if r.entity.acronym == "FAO")
    assert [a.kind for a in fao.history] == ["clear", "clear_with_comments"]
    assert fao.answer.kind == "clear_with_comments"

    sent = Counter(n.kind for n in Notification.objects.exclude(sent_at=None))
    lead = client_for(cast, "IOM")
    grid_queries = queries(lead, reverse("members_area:text_round", args=[statement.key, 2]))
    text_queries = queries(lead, reverse("members_area:text", args=[statement.key]))
    public_queries = queries(Client(), reverse("site:output", args=[output.key]))
    figures = {
        "versions": statement.versions.count(),
        "comments": Comment.objects.filter(version__text=statement).count(),
        "answers": Answer.objects.filter(round__text=statement).count(),
        "mails": len(mail.outbox),
        "mails by kind": dict(sorted(sent.items())),
        "queries, grid page": grid_queries,
        "queries, text page": text_queries,
        "queries, public output page": public_queries,
    }
    print("\nclearance run:", figures)
    assert figures["versions"] == 3 and figures["comments"] == 6
    assert figures["answers"] == 21 + 19  # round 1: FAO answered twice
    # Every queued mail was sent once; reminders went only to the entities still silent
    # (2 in round 1, 3 in round 2); adoption reached the 22 and the secretariat; the
    # objection reached the leads (IOM, UNICEF, also the drafters) and the secretariat.
    assert figures["mails"] == sum(sent.values())
    assert sent == {
        "round_opened": 44,
        "reminder_48h": 5,
        "reminder_24h": 5,
        "silence_broken": 3,
        "not_adopted": 3,
        "adopted": 23,
    }
    assert grid_queries <= 30 and text_queries <= 40
