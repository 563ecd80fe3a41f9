"""The members' area in a real browser, against a real `gmg serve`.

People come in the way they would: the secretariat's invitation (here `gmg invite`), a
password chosen on the invitation page, then the sign-in form; the secretariat also sets up
TOTP from the QR code page's key.
"""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_problems, gmg_cli, keep_screenshot

PASSWORD = "a long passphrase for the browser"


def invite_and_accept(page, email: str, *args: str) -> None:
    link = gmg_cli("invite", email, "--no-mail", *args).strip().splitlines()[-1]
    page.goto(link)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()


def sign_in(page, email: str) -> None:
    page.goto("/accounts/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def csp_errors(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


@pytest.fixture(scope="module")
def focal_point(browser, base_url):
    """A UNICEF focal point (UNICEF is a GMG member): invited, account created, signed out."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    invite_and_accept(
        page,
        "focal@unicef.example",
        "--name",
        "Ama Focal",
        "--entity",
        "UNICEF",
        "--role",
        "focal_point",
    )
    assert page.url.endswith("/members-area/")
    context.close()
    return "focal@unicef.example"


def test_sign_in_see_a_members_only_document_sign_out_and_get_404(page, focal_point):
    csp = csp_errors(page)
    sign_in(page, focal_point)
    assert page.url.endswith("/members-area/")
    expect(page.get_by_role("heading", name="Members' area")).to_be_visible()
    keep_screenshot(page, "members-dashboard")

    page.get_by_role("link", name="Share a document").first.click()
    page.get_by_label("Title").fill("Internal note on the 2018 handover")
    page.get_by_label("Kind").select_option("note")
    page.get_by_label("Text").fill("Only GMG members may read this.")
    page.get_by_label("Body").select_option("gmg")
    page.get_by_label("Visibility").select_option("body")
    page.get_by_role("button", name="Share").click()
    expect(page.get_by_role("heading", name="Internal note on the 2018 handover")).to_be_visible()
    assert "Members of the body" in page.content()
    document_url = page.url
    assert re.search(r"/members-area/documents/[0-9a-f-]{36}/$", document_url)
    keep_screenshot(page, "members-document")
    assert axe_problems(page) == []

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    response = page.goto(document_url)
    assert response is not None and response.status == 404
    assert "Only GMG members may read this." not in page.content()
    assert csp == []


def test_a_bad_upload_is_a_form_error_and_keeps_what_was_typed(page, focal_point):
    sign_in(page, focal_point)
    page.goto("/members-area/documents/new/")
    page.get_by_label("Title").fill("Not really a PDF")
    page.get_by_label("File").set_input_files(
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf"}
    )
    page.get_by_label("Body").select_option("gmg")
    page.get_by_role("button", name="Share").click()
    expect(page.get_by_text("The file's content is not a .pdf file.")).to_be_visible()
    assert page.get_by_label("Title").input_value() == "Not really a PDF"
    keep_screenshot(page, "members-upload-refused")


def test_secretariat_sets_up_totp_then_opens_the_back_office(page):
    from django_otp.oath import TOTP

    csp = csp_errors(page)
    invite_and_accept(
        page, "support@gmg.example", "--name", "Support Team", "--role", "secretariat"
    )
    # Secretariat accounts are sent to set up the second factor before anything else.
    assert page.url.endswith("/accounts/two-factor/")
    keep_screenshot(page, "two-factor-setup")
    secret = page.locator("code.secret").inner_text().strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Six-digit code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="The record")).to_be_visible()
    page.goto("/admin/registry/entity/?q=UNICEF")
    expect(page.get_by_role("link", name="UNICEF").first).to_be_visible()
    keep_screenshot(page, "back-office-entities")
    page.goto("/members-area/audit/")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    assert "accounts.two_factor.enable" in page.content()
    keep_screenshot(page, "audit-log")
    assert axe_problems(page) == []

    # A new session must give the code again.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "support@gmg.example")
    assert page.url.endswith("/accounts/sign-in/code/")
    page.get_by_label("Six-digit code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    assert csp == []
