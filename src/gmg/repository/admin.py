from django.contrib import admin

from gmg.accounts.services import Actor
from gmg.core.admin import ServiceAdmin, ServiceInline, back_office
from gmg.repository.models import (
    Document,
    Output,
    OutputEntity,
    OutputLink,
    OutputTitle,
    Process,
    Theme,
)
from gmg.repository.services import save_output


class EntityLinkInline(ServiceInline):
    model = OutputEntity
    autocomplete_fields = ("entity",)


class TitleInline(ServiceInline):
    model = OutputTitle


class LinkInline(ServiceInline):
    model = OutputLink


@admin.register(Output, site=back_office)
class OutputAdmin(ServiceAdmin):
    list_display = ("key", "title", "type", "date", "working_group", "visibility")
    list_filter = ("type", "visibility", "body", "working_group")
    search_fields = ("key", "title")
    exclude = ("date_start", "date_end")
    filter_horizontal = ("processes", "themes", "audience_entities", "related")
    inlines = [EntityLinkInline, TitleInline, LinkInline]

    def write(self, request, obj, write_related) -> None:
        save_output(obj, by=Actor.for_user(request.user), write_related=write_related)


@admin.register(Process, site=back_office)
class ProcessAdmin(ServiceAdmin):
    list_display = ("key", "name", "short_name")
    search_fields = ("key", "name")


@admin.register(Theme, site=back_office)
class ThemeAdmin(ServiceAdmin):
    list_display = ("key", "name")
    search_fields = ("key", "name")


@admin.register(Document, site=back_office)
class DocumentAdmin(ServiceAdmin):
    """Documents are shared from the members' area (with their file checks); here the
    secretariat corrects their metadata and visibility, or deletes them."""

    list_display = ("title", "kind", "visibility", "body", "working_group", "entity", "created_at")
    list_filter = ("visibility", "kind", "body")
    search_fields = ("title", "text")
    readonly_fields = ("uid", "file", "file_name", "content_type", "size", "sha256", "uploaded_by")
    filter_horizontal = ("audience_entities",)

    def has_add_permission(self, request, *args) -> bool:
        return False
