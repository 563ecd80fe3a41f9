from django.contrib import admin

from gmg.core.admin import ServiceAdmin, ServiceInline, back_office
from gmg.registry.models import Body, Entity, EntityName, Fact, Membership, Organ


class OrganInline(ServiceInline):
    model = Organ


@admin.register(Body, site=back_office)
class BodyAdmin(ServiceAdmin):
    list_display = ("key", "name", "founded", "ended", "governance_model")
    search_fields = ("key", "name", "short_name")
    exclude = ("founded_start", "ended_end")
    inlines = [OrganInline]


class EntityNameInline(ServiceInline):
    model = EntityName


@admin.register(Entity, site=back_office)
class EntityAdmin(ServiceAdmin):
    list_display = ("acronym", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("acronym", "name", "variant_names__name")
    inlines = [EntityNameInline]


@admin.register(Membership, site=back_office)
class MembershipAdmin(ServiceAdmin):
    list_display = ("entity", "body", "joined", "left")
    list_filter = ("body",)
    search_fields = ("entity__acronym", "entity__name")
    exclude = ("joined_start", "joined_end", "left_start", "left_end")
    autocomplete_fields = ("entity",)


@admin.register(Fact, site=back_office)
class FactAdmin(ServiceAdmin):
    list_display = ("key", "body", "kind", "entity", "date")
    list_filter = ("body", "kind")
    search_fields = ("key", "statement")
    exclude = ("date_start", "date_end")
