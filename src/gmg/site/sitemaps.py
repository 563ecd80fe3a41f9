"""sitemap.xml: every public page, through django.contrib.sitemaps."""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from gmg.core.viewer import ANONYMOUS
from gmg.registry.models import Entity
from gmg.repository.selectors import outputs_visible_to
from gmg.workgroups.models import WorkingGroup


class StaticPages(Sitemap):
    def items(self):
        return [
            "site:home",
            "site:members",
            "site:governance",
            "site:working_groups",
            "site:outputs",
            "site:events",
            "site:open_data",
            "site:reports",
        ]

    def location(self, item):
        return reverse(item)


class OutputPages(Sitemap):
    limit = 10_000

    def items(self):
        return outputs_visible_to(ANONYMOUS).order_by("pk").only("key", "updated_at")

    def location(self, item):
        return reverse("site:output", args=[item.key])

    def lastmod(self, item):
        return item.updated_at


class MemberPages(Sitemap):
    def items(self):
        return Entity.objects.filter(memberships__isnull=False).distinct().order_by("slug")

    def location(self, item):
        return reverse("site:member", args=[item.slug])


class GroupPages(Sitemap):
    def items(self):
        return WorkingGroup.objects.order_by("key")

    def location(self, item):
        return reverse("site:working_group", args=[item.key])


class ReportPages(Sitemap):
    """The web pages of the reports (their PDFs are linked from them)."""

    def items(self):
        from gmg.site.reports import report_catalogue

        found = []
        for entry in report_catalogue():
            found.append(("site:final_report", [entry["body"].key]))
            found += [("site:annual_report", [entry["body"].key, y]) for y in entry["years"]]
        return found

    def location(self, item):
        name, args = item
        return reverse(name, args=args)


SITEMAPS = {
    "pages": StaticPages,
    "outputs": OutputPages,
    "members": MemberPages,
    "groups": GroupPages,
    "reports": ReportPages,
}
