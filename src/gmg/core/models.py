"""Provenance: every fact in the record says where it comes from."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class SourceDocument(models.Model):
    """A document the record is built from, such as the GMG final report."""

    key = models.SlugField(unique=True)
    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.title


class Citation(models.Model):
    """One place in a source document that states something about one record.

    ``field`` and ``value`` are set when the citation backs a particular value of a field
    (a "claim"); several claims for one field are how conflicting sources are kept side by
    side rather than merged.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    document = models.ForeignKey(SourceDocument, on_delete=models.PROTECT, related_name="citations")
    heading = models.CharField(max_length=300, blank=True)
    quote = models.TextField()
    line = models.PositiveIntegerField(null=True, blank=True)
    field = models.CharField(max_length=60, blank=True)
    value = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["content_type_id", "object_id", "position"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.document.key} § {self.heading}: {self.quote[:60]}"
