from django.urls import path

from gmg.site import cite, open_data, reports, views
from gmg.site.feeds import OutputsFeed

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("members/", views.members, name="members"),
    path("members/<slug:slug>/", views.member, name="member"),
    path("governance/", views.governance, name="governance"),
    path("working-groups/", views.working_groups, name="working_groups"),
    path("working-groups/<slug:key>/", views.working_group, name="working_group"),
    path("working-groups/<slug:key>/events.ics", views.working_group_ical, name="group_ical"),
    path("bodies/<slug:key>/events.ics", views.body_ical, name="body_ical"),
    path("outputs/", views.outputs, name="outputs"),
    path("outputs/feed.atom", OutputsFeed(), name="feed"),
    path("outputs/<slug:key>/", views.output, name="output"),
    path("outputs/<slug:key>/cite.json", cite.output_citation_json, name="output_cite_json"),
    path("outputs/<slug:key>/cite.bib", cite.output_citation_bib, name="output_cite_bib"),
    path("outputs/<slug:key>/cite.ris", cite.output_citation_ris, name="output_cite_ris"),
    path("events/", views.events, name="events"),
]

# Reports generated from the record (gmg.reports), as HTML and PDF.
urlpatterns += [
    path("reports/", reports.reports, name="reports"),
    path("reports/<slug:body>/final/", reports.final_report, name="final_report"),
    path("reports/<slug:body>/final.pdf", reports.final_report_pdf, name="final_report_pdf"),
    path("reports/<slug:body>/<int:year>/", reports.annual_report, name="annual_report"),
    path("reports/<slug:body>/<int:year>.pdf", reports.annual_report_pdf, name="annual_report_pdf"),
]

# The public record as an open-data package (gmg.record.opendata), built once per version.
urlpatterns += [
    path("data/", open_data.open_data, name="open_data"),
    path("data/gmg-record.zip", open_data.open_data_zip, name="open_data_zip"),
]
