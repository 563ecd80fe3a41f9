from django.contrib.sitemaps.views import index, sitemap
from django.urls import include, path

from gmg.api.api import api
from gmg.core.admin import back_office
from gmg.site.sitemaps import SITEMAPS
from gmg.site.views import robots

urlpatterns = [
    path("api/", api.urls),
    path("admin/", back_office.urls),
    path(
        "sitemap.xml",
        index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path("sitemap-<section>.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap-section"),
    path("robots.txt", robots, name="robots"),
    path("accounts/", include("gmg.accounts.urls")),
    path("members-area/", include("gmg.site.area_urls")),
    path("", include("gmg.site.urls")),
]
