from django.urls import path

from gmg.site import members_area as views

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
