"""``gmg check``: validate the record and say what is inconsistent.

Two kinds of finding:
- ``conflict``: the sources disagree (two stated values of one field that cannot both be
  true, or two stated facts that contradict each other, such as a chair term that runs past
  the stated end of its body). The record keeps both; these are reported, not errors.
- ``error``: the record is inconsistent in itself (overlapping chair terms, a chair who was
  not a member, a record without a source). These make ``gmg check`` exit non-zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType

from gmg.core import partial_dates
from gmg.core.claims import values_disagree
from gmg.core.models import Citation
from gmg.governance.models import ChairTerm
from gmg.registry.models import Body, Membership
from gmg.repository.models import Output
from gmg.workgroups.models import WorkingGroup


@dataclass(frozen=True)
class Finding:
    kind: str  # "conflict" or "error"
    subject: str  # e.g. "output pub-2017-data-handbook"
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.message}"


def _label(content_type: ContentType, obj: object) -> str:
    key = getattr(obj, "key", None) or str(obj)
    model = content_type.model_class()
    name = model._meta.verbose_name if model else content_type.model
    return f"{name} {key}"


def claim_conflicts() -> list[Finding]:
    grouped: dict[tuple[int, int, str], list[Citation]] = defaultdict(list)
    for citation in Citation.objects.exclude(field="").select_related("content_type"):
        grouped[(citation.content_type_id, citation.object_id, citation.field)].append(citation)
    findings = []
    for (_, object_id, field), cites in sorted(grouped.items()):
        values = [c.value for c in cites]
        if not values_disagree(field, values):
            continue
        content_type = cites[0].content_type
        obj = content_type.get_object_for_this_type(pk=object_id)
        stated = "; ".join(f"{c.value!r} ({c.document.key} § {c.heading})" for c in cites)
        findings.append(
            Finding("conflict", _label(content_type, obj), f"sources disagree on {field}: {stated}")
        )
    return findings


def chronology() -> list[Finding]:
    findings = []
    for body in Body.objects.all():
        terms = list(
            ChairTerm.objects.filter(body=body)
            .order_by("start_date")
            .prefetch_related("chair_links__entity")
        )
        for earlier, later in zip(terms, terms[1:], strict=False):
            if later.start_date <= earlier.end_date:
                findings.append(
                    Finding("error", f"chair term {later.key}", f"overlaps {earlier.key}")
                )
        ended = partial_dates.parse_optional(body.ended)
        founded = partial_dates.parse_optional(body.founded)
        for term in terms:
            if ended and term.end_date > ended.end:
                findings.append(
                    Finding(
                        "conflict",
                        f"chair term {term.key}",
                        f"runs to {term.end} but {body.short_name or body.name} ended "
                        f"{body.ended} (both as stated by the sources)",
                    )
                )
            if founded and term.start_date < founded.start:
                findings.append(
                    Finding("error", f"chair term {term.key}", f"starts before {body} was founded")
                )
            for link in term.chair_links.all():
                # The coordinator-led chair is held by a member; any membership that had
                # (possibly) begun by the term's end counts, since admissions are partial dates.
                member = Membership.objects.filter(
                    body=body, entity=link.entity, joined_start__lte=term.end_date
                ).exists()
                if not member:
                    findings.append(
                        Finding(
                            "error",
                            f"chair term {term.key}",
                            f"{link.entity.acronym} chaired but was not a member of {body}",
                        )
                    )
    for group in WorkingGroup.objects.prefetch_related("co_chair_links__entity"):
        for co_chair in group.co_chair_links.all():
            if not Membership.objects.filter(body=group.body, entity=co_chair.entity).exists():
                findings.append(
                    Finding(
                        "error",
                        f"working group {group.key}",
                        f"co-chair {co_chair.entity.acronym} was never a member of {group.body}",
                    )
                )
    return findings


def uncited() -> list[Finding]:
    findings = []
    for model in (Body, Membership, ChairTerm, WorkingGroup, Output):
        content_type = ContentType.objects.get_for_model(model)
        cited = set(
            Citation.objects.filter(content_type=content_type).values_list("object_id", flat=True)
        )
        for obj in model._default_manager.exclude(pk__in=cited):
            findings.append(Finding("error", _label(content_type, obj), "has no source"))
    return findings


def check_record() -> list[Finding]:
    return claim_conflicts() + chronology() + uncited()
