from django.contrib import admin

from gmg.accounts.models import ApiToken, AuditEntry, Invitation, Person, RoleAssignment
from gmg.accounts.services import Actor, set_active, sync_back_office_access
from gmg.core import services
from gmg.core.admin import ReadOnlyAdmin, ServiceAdmin, ServiceInline, back_office


class RoleInline(ServiceInline):
    model = RoleAssignment
    autocomplete_fields = ("working_group",)


@admin.register(Person, site=back_office)
class PersonAdmin(ServiceAdmin):
    """People are created by invitation; here the secretariat changes their entity and
    roles. The back-office access (``is_staff``) follows the secretariat role."""

    list_display = ("name", "user", "entity", "job_title", "active")
    actions = ["deactivate", "reactivate"]

    @admin.display(boolean=True)
    def active(self, person: Person) -> bool:
        return person.user.is_active

    @admin.action(description="Deactivate: sign-in, sessions and tokens stop working")
    def deactivate(self, request, queryset) -> None:
        for person in queryset.select_related("user"):
            set_active(person, False, by=Actor.for_user(request.user))

    @admin.action(description="Reactivate")
    def reactivate(self, request, queryset) -> None:
        for person in queryset.select_related("user"):
            set_active(person, True, by=Actor.for_user(request.user))

    list_filter = ("roles__role", "entity")
    search_fields = ("name", "user__username", "entity__acronym")
    readonly_fields = ("user",)
    autocomplete_fields = ("entity",)
    inlines = [RoleInline]

    def has_add_permission(self, request, *args) -> bool:
        return False

    def write(self, request, obj, write_related) -> None:
        def children(saved):
            write_related(saved)
            sync_back_office_access(saved)

        services.save_record(
            obj, by=Actor.for_user(request.user), children=children, action="accounts.person.roles"
        )


@admin.register(AuditEntry, site=back_office)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_key")
    list_filter = ("action",)
    search_fields = ("action", "object_key", "actor_label")
    date_hierarchy = "at"


@admin.register(Invitation, site=back_office)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = (
        "email",
        "name",
        "entity",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    search_fields = ("email", "name")
    exclude = ("token_hash",)


@admin.register(ApiToken, site=back_office)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    search_fields = ("name", "user__username", "prefix")
    exclude = ("token_hash",)
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        from gmg.accounts.services import revoke_token

        for token in queryset.filter(revoked_at__isnull=True):
            revoke_token(token, by=Actor.for_user(request.user))
