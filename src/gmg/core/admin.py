"""The secretariat's back office: the Django admin, writing through the services.

Only the secretariat, signed in with two factors, gets in. Every save and delete goes
through ``gmg.core.services`` (validated the same way as the API and CLI, audited with the
before and after values); Django's own admin log is not used.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect

from gmg.accounts.services import Actor
from gmg.core import services
from gmg.core.viewer import Viewer


class BackOffice(admin.AdminSite):
    site_header = "GMG Platform back office"
    site_title = "Back office"
    index_title = "The record"

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and Viewer.from_request(request).is_secretariat

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponseRedirect:
        return redirect_to_login(request.get_full_path())

    def password_change(self, request: HttpRequest, extra_context: Any = None) -> Any:
        # One way to change a password (by mail, audited), not the admin's own form.
        return HttpResponseRedirect("/accounts/password-reset/")


back_office = BackOffice(name="admin")


class DerivingForm(forms.ModelForm):
    """Derived columns (dates from partial dates) are set before validation, so a bad date is
    a form error on its field rather than a failed save."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # copies the form values onto the instance
        derive = getattr(self.instance, "derive_dates", None)
        if callable(derive):
            try:
                derive()
            except ValidationError as exc:
                self._update_errors(exc)  # type: ignore[attr-defined]


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes go through ``gmg.core.services``."""

    form = DerivingForm
    save_on_top = True

    def _allowed(self, request: HttpRequest) -> bool:
        return Viewer.from_request(request).is_secretariat

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def save_model(self, request, obj, form, change) -> None:
        """Deferred to ``save_related``: the record and its inlines are one audited write."""

    def write(self, request, obj, write_related) -> None:
        services.save_record(obj, by=Actor.for_user(request.user), children=write_related)

    def save_related(self, request, form, formsets, change) -> None:
        def write_related(saved: models.Model) -> None:
            form.save_m2m()
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)

        self.write(request, form.instance, write_related)

    def delete_model(self, request, obj) -> None:
        try:
            services.delete_record(obj, by=Actor.for_user(request.user))
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    # Django's admin log would be a second, mutable history; the audit log is the one.
    def log_addition(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def log_change(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def log_deletion(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def log_deletions(self, *args: Any, **kwargs: Any) -> Any:
        return []


class ServiceInline(admin.TabularInline):
    extra = 0

    def _allowed(self, request: HttpRequest) -> bool:
        return Viewer.from_request(request).is_secretariat

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For logs and credentials: the secretariat looks, the services write."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return Viewer.from_request(request).is_secretariat

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return Viewer.from_request(request).is_secretariat

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
