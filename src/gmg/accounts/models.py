"""People, their roles, invitations, API tokens, and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One write through a service. Never updated or deleted: database triggers refuse it."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: people are deactivated, never deleted, so the log keeps naming them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(max_length=150, help_text="e.g. 'cli:root' or an email")
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_key = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_key}"


class Person(models.Model):
    """A user of the members' area: who they are and which entity (agency) they belong to.

    Sign-in is Django's ``User`` (its username is the email); this adds what the group knows.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="person"
    )
    name = models.CharField(max_length=200)
    entity = models.ForeignKey(
        "registry.Entity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="people",
        help_text="The agency the person works for; empty for registered non-members.",
    )
    job_title = models.CharField(max_length=200, blank=True)
    email_digest = models.BooleanField(
        default=False, help_text="One daily digest instead of single notification mails."
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name or self.user.get_username()


class RoleAssignment(models.Model):
    """A role given to a person. Roles that follow from the record (chair, working-group
    co-chair, member of a body) are derived in ``gmg.accounts.roles``, not stored here."""

    class Role(models.TextChoices):
        SECRETARIAT = "secretariat", "Secretariat"
        PRINCIPAL = "principal", "Principal of their entity"
        FOCAL_POINT = "focal_point", "Focal point of their entity"
        WORKING_GROUP_MEMBER = "working_group_member", "Member of a working group"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    working_group = models.ForeignKey(
        "workgroups.WorkingGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="member_roles",
    )

    class Meta:
        ordering = ["person", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "role", "working_group"],
                name="role_once_per_person",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(role="working_group_member", working_group__isnull=False)
                    | (
                        ~models.Q(role="working_group_member")
                        & models.Q(working_group__isnull=True)
                    )
                ),
                name="working_group_only_for_group_members",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_role_display()
        return f"{label}: {self.working_group}" if self.working_group_id else label


class Invitation(models.Model):
    """An invitation by the secretariat to join the members' area, by an expiring link."""

    email = models.EmailField()
    name = models.CharField(max_length=200)
    entity = models.ForeignKey(
        "registry.Entity", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The roles the person gets on accepting: [{"role": ..., "working_group": key|None}, ...]
    roles = models.JSONField(default=list, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the token is shown once, at creation."""

    class Scope(models.TextChoices):
        READ = "read", "Read what I may see"
        WRITE_REGISTRY = "write:registry", "Write bodies, entities and memberships"
        WRITE_GOVERNANCE = "write:governance", "Write chair terms and meetings"
        WRITE_WORKGROUPS = "write:workgroups", "Write working groups"
        WRITE_REPOSITORY = "write:repository", "Write outputs"
        WRITE_DOCUMENTS = "write:documents", "Upload and edit internal documents"
        WRITE_ACCOUNTS = "write:accounts", "Write people and roles"
        WRITE_CLEARANCE = "write:clearance", "Draft, comment on, answer and decide joint texts"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, help_text="Shown to tell tokens apart")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    # Made from a session that passed two-factor sign-in: only such tokens carry the
    # secretariat's rights (a password alone must not be enough to get them).
    two_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
