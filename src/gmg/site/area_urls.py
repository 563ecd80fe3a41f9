from django.urls import path

from gmg.site import members_area as views
from gmg.site import reports, texts

app_name = "members_area"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("documents/", views.documents, name="documents"),
    path("documents/new/", views.new_document, name="new_document"),
    path("documents/<str:uid>/", views.document, name="document"),
    path("documents/<str:uid>/download/", views.download, name="download"),
    path("documents/<str:uid>/delete/", views.remove_document, name="delete_document"),
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/new/", views.edit_meeting, name="new_meeting"),
    path("meetings/<slug:key>/", views.meeting, name="meeting"),
    path("meetings/<slug:key>/edit/", views.edit_meeting, name="edit_meeting"),
    path("audit/", views.audit, name="audit"),
    path("audit.csv", views.audit_csv, name="audit_csv"),
]

# Joint texts and their clearance.
urlpatterns += [
    path("texts/", texts.texts, name="texts"),
    path("texts/new/", texts.new_text, name="new_text"),
    path("texts/calendar/<str:token>.ics", texts.clearance_calendar, name="clearance_calendar"),
    path("texts/<slug:key>/", texts.text, name="text"),
    path("texts/<slug:key>/edit/", texts.edit_text, name="edit_text"),
    path("texts/<slug:key>/versions/new/", texts.new_version, name="new_version"),
    path("texts/<slug:key>/versions/<int:number>/", texts.text, name="text_version"),
    path(
        "texts/<slug:key>/versions/<int:number>/comments/",
        texts.add_comment,
        name="add_comment",
    ),
    path(
        "texts/<slug:key>/comments/<int:comment_id>/resolution/",
        texts.resolve_comment,
        name="resolve_comment",
    ),
    path("texts/<slug:key>/compare/", texts.compare, name="compare"),
    path("texts/<slug:key>/rounds/", texts.open_round, name="open_round"),
    path("texts/<slug:key>/rounds/<int:number>/", texts.text_round, name="text_round"),
    path("texts/<slug:key>/rounds/<int:number>/next-step/", texts.next_step, name="next_step"),
    path("texts/<slug:key>/publication/", texts.publish, name="publish_text"),
    path("texts/<slug:key>/withdrawal/", texts.withdraw, name="withdraw_text"),
    path("meetings/<slug:key>/text-decisions/", texts.decide, name="decide_text"),
]

# The members-only variants of the reports, and their forewords (secretariat).
urlpatterns += [
    path("reports/", reports.area_reports, name="reports"),
    path("reports/<slug:body>/final/", reports.area_final_report, name="final_report"),
    path("reports/<slug:body>/final.pdf", reports.area_final_report_pdf, name="final_report_pdf"),
    path("reports/<slug:body>/<int:year>/", reports.area_annual_report, name="annual_report"),
    path(
        "reports/<slug:body>/<int:year>.pdf",
        reports.area_annual_report_pdf,
        name="annual_report_pdf",
    ),
]
