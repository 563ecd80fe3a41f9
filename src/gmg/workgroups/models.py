"""Working groups and task forces of a body."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from gmg.core import partial_dates
from gmg.core.models import Citation
from gmg.registry.models import Body, Entity


class WorkingGroup(models.Model):
    class Kind(models.TextChoices):
        WORKING_GROUP = "working_group", "Working group"
        TASK_FORCE = "task_force", "Task force"

    key = models.SlugField(unique=True)
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="working_groups")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=250)
    mandate = models.TextField(blank=True)
    # The earliest stated establishment date; every stated value is a Citation claim
    # on field "established", so disagreeing sources stay visible.
    established = models.CharField(max_length=30, blank=True)
    established_start = models.DateField(null=True, blank=True)
    co_chairs = models.ManyToManyField(Entity, through="CoChair", related_name="co_chaired_groups")
    citations = GenericRelation(Citation)

    class Meta:
        ordering = ["body", "established_start", "key"]

    def __str__(self) -> str:
        return self.name

    def derive_dates(self) -> None:
        """Set the date columns from the stated partial dates (write services call this)."""
        partial_dates.derive_span(self, "established", start="established_start")


class WorkingGroupName(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="variant_names")
    name = models.CharField(max_length=250)

    class Meta:
        ordering = ["group", "name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="group_variant_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CoChair(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="co_chair_links")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="co_chair_links")
    position = models.PositiveSmallIntegerField(default=0)
    # The sources say "co-chaired" of some groups and "co-convened" of others.
    title = models.CharField(max_length=40, default="co-chair")

    class Meta:
        ordering = ["group", "position"]
        constraints = [
            models.UniqueConstraint(fields=["group", "entity"], name="co_chair_once_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.entity} ({self.title}) of {self.group}"
