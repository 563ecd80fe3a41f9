from django.contrib import admin

from gmg.core.admin import ServiceAdmin, ServiceInline, back_office
from gmg.governance.models import (
    AgendaItem,
    ChairTerm,
    ChairTermChair,
    Decision,
    Meeting,
    Participant,
)


class ChairInline(ServiceInline):
    model = ChairTermChair
    autocomplete_fields = ("entity",)


@admin.register(ChairTerm, site=back_office)
class ChairTermAdmin(ServiceAdmin):
    list_display = ("key", "body", "start", "end", "interim", "theme")
    list_filter = ("body", "interim")
    search_fields = ("key", "theme", "chairs__acronym")
    exclude = ("start_date", "end_date")
    inlines = [ChairInline]


class AgendaInline(ServiceInline):
    model = AgendaItem
    # Items about joint texts are written by the clearance services.
    readonly_fields = ("joint_text",)


class ParticipantInline(ServiceInline):
    model = Participant
    autocomplete_fields = ("entity",)


class DecisionInline(ServiceInline):
    model = Decision
    # Decisions on joint texts are recorded by the clearance services (consensus rules).
    readonly_fields = ("joint_text", "outcome")
    exclude = ("objections",)


@admin.register(Meeting, site=back_office)
class MeetingAdmin(ServiceAdmin):
    list_display = ("key", "title", "kind", "date", "body", "working_group", "visibility")
    list_filter = ("body", "kind", "visibility")
    search_fields = ("key", "title")
    exclude = ("date_start", "date_end")
    filter_horizontal = ("audience_entities",)
    inlines = [AgendaInline, ParticipantInline, DecisionInline]
