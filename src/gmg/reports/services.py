"""Writes of the reports app: the foreword, the only part of a report people write."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from gmg.accounts.services import Actor, audit
from gmg.core.viewer import Viewer
from gmg.reports.content import find_body
from gmg.reports.models import Foreword

REPORT_KEY = re.compile(r"^(final|annual-\d{4})$")
MAX_FOREWORD = 20_000


def set_foreword(viewer: Viewer, *, body_key: str, report: str, text: str, by: Actor) -> Foreword:
    """Write (or clear, with an empty text) the foreword of a report. Secretariat only."""
    if not viewer.is_secretariat:
        raise PermissionDenied("Only the secretariat writes the forewords of reports.")
    if not REPORT_KEY.match(report):
        raise ValidationError({"report": "Name the report as 'final' or 'annual-YYYY'."})
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_FOREWORD:
        raise ValidationError(
            {"text": f"A foreword holds at most {MAX_FOREWORD} characters ({len(text)} given)."}
        )
    body = find_body(body_key)
    with transaction.atomic():
        foreword = Foreword.objects.select_for_update().filter(body=body, report=report).first()
        before = foreword.text if foreword else None
        if foreword is None:
            foreword = Foreword(body=body, report=report)
        foreword.text = text
        foreword.updated_by_id = by.user_id
        foreword.save()
        audit(
            by=by,
            action="reports.foreword",
            object_type="reports.foreword",
            object_key=f"{body.key}:{report}",
            before={"text": before} if before is not None else None,
            after={"text": text},
        )
    return foreword
