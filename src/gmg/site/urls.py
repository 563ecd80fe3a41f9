from django.urls import path

from gmg.site import views
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
    path("events/", views.events, name="events"),
]
