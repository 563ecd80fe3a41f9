from django.contrib import admin

from gmg.core.admin import ServiceAdmin, ServiceInline, back_office
from gmg.workgroups.models import CoChair, WorkingGroup, WorkingGroupName


class CoChairInline(ServiceInline):
    model = CoChair
    autocomplete_fields = ("entity",)


class NameInline(ServiceInline):
    model = WorkingGroupName


@admin.register(WorkingGroup, site=back_office)
class WorkingGroupAdmin(ServiceAdmin):
    list_display = ("key", "name", "kind", "body", "established")
    list_filter = ("body", "kind")
    search_fields = ("key", "name")
    exclude = ("established_start",)
    inlines = [CoChairInline, NameInline]
