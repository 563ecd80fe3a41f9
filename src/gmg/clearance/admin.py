"""The back office shows the clearance record; it does not change it. Texts move only
through ``gmg.clearance.services`` (pages, API), which keep the state machine and the
audit log. The one setting kept here is each body's minimum notice, through its service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gmg.accounts.services import Actor
from gmg.clearance import services
from gmg.clearance.models import Answer, ClearancePolicy, JointText, Notification, Round, Version
from gmg.core.admin import ReadOnlyAdmin, ServiceAdmin, back_office
from gmg.core.viewer import Viewer


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return Viewer.from_request(request).is_secretariat

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VersionInline(ReadOnlyInline):
    model = Version
    fields = ("number", "title", "note", "created_by", "created_at")
    readonly_fields = fields


class RoundInline(ReadOnlyInline):
    model = Round
    fields = ("number", "version", "opened_at", "deadline", "closed_at", "outcome", "next_step")
    readonly_fields = fields


@admin.register(JointText, site=back_office)
class JointTextAdmin(ReadOnlyAdmin):
    list_display = ("key", "title", "kind", "body", "status", "created_at")
    list_filter = ("status", "kind", "body")
    search_fields = ("key", "title", "occasion")
    inlines = [VersionInline, RoundInline]


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = ("entity", "kind", "reason", "comments", "answered_by", "on_behalf", "answered_at")
    readonly_fields = fields


@admin.register(Round, site=back_office)
class RoundAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "deadline", "closed_at", "outcome", "next_step")
    list_filter = ("outcome", "next_step")
    search_fields = ("text__key", "text__title")
    inlines = [AnswerInline]


@admin.register(Notification, site=back_office)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "recipient", "round", "created_at", "sent_at", "in_digest")
    list_filter = ("kind", "in_digest")
    search_fields = ("recipient__username", "round__text__key")


@admin.register(ClearancePolicy, site=back_office)
class ClearancePolicyAdmin(ServiceAdmin):
    list_display = ("body", "minimum_notice_hours")

    def write(self, request, obj, write_related) -> None:
        services.set_policy(
            obj.body,
            viewer=Viewer.from_request(request),
            by=Actor.for_user(request.user),
            minimum_notice_hours=obj.minimum_notice_hours,
        )

    def delete_model(self, request, obj) -> None:
        services.set_policy(
            obj.body,
            viewer=Viewer.from_request(request),
            by=Actor.for_user(request.user),
            minimum_notice_hours=services.DEFAULT_NOTICE_HOURS,
        )
