from django.urls import path

from gmg.site import views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("members/", views.members, name="members"),
    path("governance/", views.governance, name="governance"),
    path("working-groups/", views.working_groups, name="working_groups"),
    path("working-groups/<slug:key>/", views.working_group, name="working_group"),
    path("outputs/", views.outputs, name="outputs"),
    path("outputs/<slug:key>/", views.output, name="output"),
]
