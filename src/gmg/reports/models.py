from django.conf import settings
from django.db import models

from gmg.registry.models import Body


class Foreword(models.Model):
    """The one part of a generated report that people write: its foreword.

    ``report`` names the report: ``final``, or ``annual-YYYY``.
    """

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="forewords")
    report = models.CharField(max_length=20)
    text = models.TextField(blank=True, help_text="Paragraphs separated by a blank line.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["body", "report"], name="one_foreword_per_report")
        ]

    def __str__(self) -> str:
        return f"Foreword of the {self.report} report of {self.body.key}"
