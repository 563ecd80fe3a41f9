"""Joint texts, their versions and comments, and clearance rounds under the silence procedure.

A text is drafted in versions that are never overwritten. A lead opens a clearance round on
one version with a deadline; each entity asked answers (clear, clear with editorial
comments, or object). The round's outcome follows from the answers given before the
deadline, so it is derived on every read and needs no job to close it (``gmg.clearance.
state``); ``gmg tick`` only records the closing and sends the mails due.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from gmg.core.visibility import RestrictedContent
from gmg.registry.models import Body, Entity

DEFAULT_NOTICE_HOURS = 72  # the General Assembly's practice for the silence procedure


class ClearancePolicy(models.Model):
    """How a body clears texts. A body without a policy uses the defaults."""

    body = models.OneToOneField(Body, on_delete=models.CASCADE, related_name="clearance_policy")
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=DEFAULT_NOTICE_HOURS,
        help_text="The shortest time between opening a round and its deadline.",
    )

    class Meta:
        verbose_name_plural = "clearance policies"

    def __str__(self) -> str:
        return f"{self.body}: {self.minimum_notice_hours} h notice"


class TextKind(models.TextChoices):
    JOINT_STATEMENT = "joint_statement", "Joint statement"
    MESSAGE = "message", "Message"
    JOINT_COMMUNIQUE = "joint_communique", "Joint communiqué"
    ISSUE_BRIEF = "issue_brief", "Issue brief"
    BRIEFING_NOTE = "briefing_note", "Briefing note"
    CONCEPT_NOTE = "concept_note", "Concept note"
    POSITION_PAPER = "position_paper", "Position paper"
    MINUTES = "minutes", "Minutes of a meeting"


class Status(models.TextChoices):
    """Where a text stands. ``in_clearance`` becomes ``adopted`` or ``silence_broken`` at
    the round's deadline; readers see that at once (``state.current_status``)."""

    DRAFTING = "drafting", "Drafting"
    IN_CLEARANCE = "in_clearance", "In clearance"
    SILENCE_BROKEN = "silence_broken", "Silence broken: the leads decide the way on"
    REVISING = "revising", "Being amended for a new round"
    RETURNED = "returned", "Returned to the drafters"
    REFERRED = "referred", "Referred to the Principals"
    ADOPTED = "adopted", "Adopted"
    NOTED = "noted", "Noted by the Principals"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Statuses in which the drafters may add versions and the leads may open a round.
OPEN_FOR_DRAFTING = (Status.DRAFTING, Status.REVISING, Status.RETURNED)


class JointText(RestrictedContent):
    """A text the group means to issue in its own name, from first draft to publication."""

    key = models.SlugField(max_length=120, unique=True)
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="joint_texts")
    working_group = models.ForeignKey(
        "workgroups.WorkingGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="joint_texts",
        help_text="When the text speaks for a working group rather than the whole body",
    )
    kind = models.CharField(max_length=30, choices=TextKind.choices)
    title = models.CharField(max_length=300)
    occasion = models.CharField(
        max_length=400, blank=True, help_text="e.g. GFMD Friends of the Forum, 5 February 2018"
    )
    event = models.ForeignKey(
        "repository.Output",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delivered_texts",
        help_text="The event (an output of type event) at which the text is delivered",
    )
    meeting = models.ForeignKey(
        "governance.Meeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="minutes_texts",
        help_text="For minutes: the meeting they record",
    )
    language = models.CharField(max_length=35, default="en", help_text="BCP 47 tag, e.g. en, fr")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFTING)
    status_note = models.TextField(blank=True, help_text="Why, for returned or withdrawn texts")
    adopted_at = models.DateTimeField(null=True, blank=True)
    adopted_version = models.ForeignKey(
        "Version", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    output = models.OneToOneField(
        "repository.Output",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="joint_text",
        help_text="The published output, once the adopted text is published",
    )
    drafters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="drafted_texts"
    )
    lead_entities = models.ManyToManyField(Entity, through="TextLead", related_name="led_texts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["visibility", "body"])]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.working_group and self.body_id and self.working_group.body_id != self.body_id:
            raise ValidationError({"working_group": "The working group belongs to another body."})
        if self.meeting and self.body_id and self.meeting.body_id != self.body_id:
            raise ValidationError({"meeting": "The meeting belongs to another body."})
        if self.kind == TextKind.MINUTES and self.meeting_id is None:
            raise ValidationError({"meeting": "Minutes record a meeting: name it."})
        if self.event is not None and self.event.type != "event":
            raise ValidationError({"event": "The text must be delivered at an event output."})
        self.clean_audience()


class TextLead(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        CO_LEAD = "co_lead", "Co-lead"

    text = models.ForeignKey(JointText, on_delete=models.CASCADE, related_name="lead_links")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["text", "position"]
        constraints = [models.UniqueConstraint(fields=["text", "entity"], name="lead_once")]

    def __str__(self) -> str:
        return f"{self.entity} ({self.get_role_display()})"


class Version(models.Model):
    """One version of a text, as paragraphs. Never changed once saved."""

    text = models.ForeignKey(JointText, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    paragraphs = models.JSONField(default=list)
    note = models.TextField(blank=True, help_text="What changed, and why")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["text", "number"]
        constraints = [
            models.UniqueConstraint(fields=["text", "number"], name="version_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.text.key} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("A version is never changed: add a new version instead.")
        super().save(*args, **kwargs)


class Comment(models.Model):
    """A member's comment on a version, on one paragraph or on the whole text."""

    class Kind(models.TextChoices):
        EDITORIAL = "editorial", "Editorial"
        SUBSTANTIVE = "substantive", "Substantive"

    class Resolution(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    version = models.ForeignKey(Version, on_delete=models.PROTECT, related_name="comments")
    paragraph = models.PositiveIntegerField(
        null=True, blank=True, help_text="1-based; empty for the text as a whole"
    )
    quote = models.TextField(blank=True, help_text="The paragraph as it read when commented on")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    resolution = models.CharField(
        max_length=10, choices=Resolution.choices, default=Resolution.OPEN
    )
    reason = models.TextField(blank=True, help_text="Why it was declined (or how accepted)")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version__number", "paragraph", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} comment on {self.version}"


class Round(models.Model):
    """A clearance round on one version: every entity asked answers by the deadline."""

    class Outcome(models.TextChoices):
        ADOPTED = "adopted", "Adopted under the silence procedure"
        SILENCE_BROKEN = "silence_broken", "Silence broken"

    class NextStep(models.TextChoices):
        NEW_VERSION = "new_version", "Amend it and circulate a new version"
        RETURNED = "returned", "Return it to the drafters"
        REFERRED = "referred", "Refer it to the Principals"

    text = models.ForeignKey(JointText, on_delete=models.PROTECT, related_name="rounds")
    number = models.PositiveIntegerField()
    version = models.ForeignKey(Version, on_delete=models.PROTECT, related_name="rounds")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()
    deadline = models.DateTimeField(db_index=True)
    # Recorded by the first write or tick after the deadline; readers derive it before that.
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    next_step = models.CharField(max_length=20, choices=NextStep.choices, blank=True)
    next_step_note = models.TextField(blank=True)
    next_step_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    next_step_at = models.DateTimeField(null=True, blank=True)
    referred_to = models.ForeignKey(
        "governance.Meeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_rounds",
        help_text="The Principals' meeting a referred text goes to, when known",
    )
    asked = models.ManyToManyField(Entity, through="AskedEntity", related_name="+")

    class Meta:
        ordering = ["text", "number"]
        constraints = [models.UniqueConstraint(fields=["text", "number"], name="round_number_once")]

    def __str__(self) -> str:
        return f"{self.text.key} round {self.number}"


class AskedEntity(models.Model):
    """An entity asked to clear in a round: the members in force when it opened."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="asked_links")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["round", "entity__acronym"]
        constraints = [models.UniqueConstraint(fields=["round", "entity"], name="asked_once")]

    def __str__(self) -> str:
        return f"{self.entity} in {self.round}"


class Answer(models.Model):
    """An entity's answer in a round. Every answer is kept; the last before the deadline
    counts."""

    class Kind(models.TextChoices):
        CLEAR = "clear", "Clear"
        CLEAR_WITH_COMMENTS = "clear_with_comments", "Clear with editorial comments"
        OBJECT = "object", "Object (breaks silence)"

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="answers")
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.TextField(blank=True, help_text="The substantive reason for an objection")
    comments = models.TextField(blank=True, help_text="Editorial comments")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf = models.BooleanField(
        default=False, help_text="Recorded by the secretariat for the entity (e.g. by email)"
    )
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["round", "entity__acronym", "answered_at", "id"]
        indexes = [models.Index(fields=["round", "entity", "answered_at"])]

    def __str__(self) -> str:
        return f"{self.entity}: {self.get_kind_display()} ({self.round})"


class Notification(models.Model):
    """A mail due to one person about one round. Unique per person, round and kind, so
    several servers ticking at once send it once."""

    class Kind(models.TextChoices):
        ROUND_OPENED = "round_opened", "Round opened"
        REMINDER_48H = "reminder_48h", "Reminder: 48 hours left"
        REMINDER_24H = "reminder_24h", "Reminder: 24 hours left"
        SILENCE_BROKEN = "silence_broken", "Silence broken"
        NOT_ADOPTED = "not_adopted", "Closed without adoption"
        ADOPTED = "adopted", "Adopted"
        REFERRED = "referred", "Referred to the Principals"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clearance_mail"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    in_digest = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "round", "kind"], name="notification_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.round})"


class DigestMail(models.Model):
    """A daily digest sent to a person (one per day, whichever server sends it)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    sent_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="digest_once")]

    def __str__(self) -> str:
        return f"Digest for {self.recipient} on {self.day}"
