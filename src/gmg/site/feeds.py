"""The Atom feed of outputs, through Django's syndication framework."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.db.models import F
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from gmg.core.partial_dates import humanise
from gmg.core.viewer import ANONYMOUS
from gmg.repository.models import Output
from gmg.repository.selectors import outputs_visible_to, with_list_relations


class OutputsFeed(Feed):
    feed_type = Atom1Feed
    title = "Global Migration Group: outputs"
    subtitle = "Publications, statements, events and briefs added to the repository."

    def link(self) -> str:
        return reverse("site:outputs")

    def items(self):
        # The feed is public: always the anonymous viewer's outputs, whoever fetches it.
        return with_list_relations(outputs_visible_to(ANONYMOUS)).order_by(
            F("created_at").desc(), F("date_start").desc(nulls_last=True), "key"
        )[:50]

    def item_title(self, item: Output) -> str:
        return item.title

    def item_description(self, item: Output) -> str:
        entities = ", ".join(link.entity.acronym for link in item.entity_links.all())
        parts = [item.get_type_display(), humanise(item.date), item.occasion, entities]
        return " · ".join(p for p in parts if p)

    def item_link(self, item: Output) -> str:
        return reverse("site:output", args=[item.key])

    def item_pubdate(self, item: Output):
        return item.created_at

    def item_updateddate(self, item: Output):
        return item.updated_at

    def item_categories(self, item: Output):
        return [item.get_type_display()]
