"""Forms of the accounts pages. Checks that belong to the record live in the services."""

from __future__ import annotations

from django import forms

from gmg.accounts.models import ApiToken, RoleAssignment
from gmg.registry.models import Entity
from gmg.workgroups.models import WorkingGroup


class SignInForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Six-digit code from your authenticator app",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class AcceptInvitationForm(forms.Form):
    password = forms.CharField(
        strip=False,
        label="Choose a password (at least 12 characters)",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What the token is for, e.g. 'reporting script'"
    )
    scopes = forms.MultipleChoiceField(
        choices=[c for c in ApiToken.Scope.choices if c[0] != ApiToken.Scope.READ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every token can read what you may see. Add write scopes only if needed.",
    )
    expires_in_days = forms.IntegerField(min_value=1, max_value=730, required=False, initial=90)


class InvitationForm(forms.Form):
    email = forms.EmailField()
    name = forms.CharField(max_length=200)
    entity = forms.ModelChoiceField(
        queryset=Entity.objects.order_by("acronym"), required=False, to_field_name="acronym"
    )
    roles = forms.MultipleChoiceField(
        choices=[
            c
            for c in RoleAssignment.Role.choices
            if c[0] != RoleAssignment.Role.WORKING_GROUP_MEMBER
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    working_groups = forms.ModelMultipleChoiceField(
        queryset=WorkingGroup.objects.order_by("name"),
        required=False,
        to_field_name="key",
        widget=forms.CheckboxSelectMultiple,
        help_text="Member of these working groups",
    )
