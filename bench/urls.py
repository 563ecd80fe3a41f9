"""The platform's URLs plus /_bench/bare: a Django view returning fixed bytes.

It goes through the same middleware and WSGI server as the real pages, so the ratio of
their rates is the cost of the page's own work (search, facets, SQL, templates).
"""

from pathlib import Path

from django.http import HttpResponse
from django.urls import path

from gmg.urls import urlpatterns as platform_urls

BARE_PAGE = Path(__file__).with_name(".bare-page.html")
_BYTES = BARE_PAGE.read_bytes() if BARE_PAGE.exists() else b""


def bare(request):
    return HttpResponse(_BYTES)


urlpatterns = [path("_bench/bare", bare), *platform_urls]
