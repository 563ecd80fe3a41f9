"""Every search engine behind the interface gives the same answers (on this database)."""

from __future__ import annotations

from collections import Counter

import pytest

from gmg.core.viewer import ANONYMOUS, Viewer
from gmg.registry.models import Body, Entity
from gmg.repository import search
from gmg.repository.models import Output, OutputEntity, OutputYear
from gmg.repository.search import SearchQuery

pytestmark = pytest.mark.django_db

PUBLIC = ANONYMOUS
EVERYONE = Viewer(user_id=1, is_secretariat=True)


def run(text="", sort="relevance", limit=20, offset=0, viewer=PUBLIC, **filters):
    return search.search(
        SearchQuery(text=text, filters=filters),
        viewer=viewer,
        sort=sort,
        offset=offset,
        limit=limit,
        with_facets=True,
    )


def test_stemming_and_ranking(engine):
    result = run("remittance")
    assert result.total >= 6
    assert "remittances" in search.words(Output.objects.get(key=result.hits[0].key).title.lower())
    data = run("handbook migration data")
    assert data.hits[0].key == "pub-2017-data-handbook"


def test_facet_counts_equal_the_database(engine):
    result = run("")
    assert result.total == Output.objects.filter(visibility="public").count() == 153
    assert dict(result.facets["type"]) == dict(
        Counter(Output.objects.values_list("type", flat=True))
    )
    by_year = Counter(OutputYear.objects.values_list("year", flat=True))
    assert {int(k): v for k, v in result.facets["year"]} == dict(by_year)
    iom = OutputEntity.objects.filter(entity__acronym="IOM").values("output").distinct().count()
    assert dict(result.facets["entity"])["IOM"] == iom


def test_filters_combine_and_role_facet_follows_the_entity(engine):
    result = run("", entity="IOM")
    roles = dict(result.facets["role"])
    expected = Counter(
        OutputEntity.objects.filter(entity__acronym="IOM").values_list("role", flat=True)
    )
    assert roles == dict(expected)
    briefs = run("", type="issue_brief", entity="UNHCR", role="co_lead")
    assert [h.key for h in briefs.hits] == ["ib-2017-02-drivers-of-migration"]


def test_snippets_are_escaped_and_marked(engine):
    result = run("briefing note remittances")
    assert result.hits
    snippets = [h.snippet for h in result.hits if h.snippet]
    assert snippets and "<mark>" in snippets[0]
    assert "<script" not in "".join(snippets)


def test_misspelling_is_corrected(engine):
    result = run("remmittances")
    assert result.corrected_from == "remmittances" and result.suggestion == "remittances"
    assert result.total >= 6


def test_sorting_by_date_puts_undated_last_and_pages_add_up(engine):
    newest = run("", sort="-date", limit=5)
    dates = [Output.objects.get(key=h.key).date_start for h in newest.hits]
    assert dates == sorted(dates, reverse=True) and all(dates)
    oldest = run("", sort="date", limit=200)
    assert Output.objects.get(key=oldest.hits[-1].key).date_start is None
    keys = [h.key for page in range(8) for h in run("", sort="date", offset=page * 20).hits]
    assert len(keys) == len(set(keys)) == 153


def test_hidden_outputs_stay_hidden_in_results_facets_and_suggestions(engine):
    before = run("handbook")
    assert dict(before.facets["working_group"])["wg-data-research"] == 1
    output = Output.objects.get(key="pub-2017-data-handbook")
    output.visibility = "body"
    output.save()
    search.reindex_outputs([output.key])
    try:
        public = run("handbook")
        assert output.key not in [h.key for h in public.hits]
        assert public.total == before.total - 1
        assert "wg-data-research" not in dict(public.facets["working_group"])
        assert all(v != "handbok" for v in search.words(public.suggestion))
        assert output.key in [h.key for h in run("handbook", viewer=EVERYONE).hits]
    finally:
        output.visibility = "public"
        output.save()
        search.reindex_outputs([output.key])


@pytest.mark.parametrize(
    ("level", "sees", "does_not_see"),
    [
        ("body", "gmg_member", "outsider"),
        ("working_group", "group_member", "gmg_member"),
        ("entities", "named_entity", "gmg_member"),
        ("secretariat", "secretariat", "gmg_member"),
    ],
)
def test_each_level_reaches_its_audience_and_no_one_else(engine, level, sees, does_not_see):
    output = Output.objects.get(key="pub-2017-data-handbook")
    gmg = Body.objects.get(key="gmg")
    unicef, ilo = Entity.objects.get(acronym="UNICEF"), Entity.objects.get(acronym="ILO")
    viewers = {
        "gmg_member": Viewer(
            user_id=2, body_ids=frozenset([gmg.pk]), entity_ids=frozenset([ilo.pk])
        ),
        "outsider": Viewer(user_id=3),
        "group_member": Viewer(user_id=4, working_group_ids=frozenset([output.working_group_id])),
        "named_entity": Viewer(user_id=5, entity_ids=frozenset([unicef.pk])),
        "secretariat": EVERYONE,
    }
    output.visibility = level
    output.save()
    output.audience_entities.set([unicef] if level == "entities" else [])
    search.reindex_outputs([output.key])
    try:
        for who, expected in ((sees, True), (does_not_see, False)):
            found = run("handbook", viewer=viewers[who])
            assert (output.key in [h.key for h in found.hits]) is expected, (level, who)
            groups = dict(found.facets["working_group"])
            assert ("wg-data-research" in groups) is expected, (level, who)
    finally:
        output.visibility = "public"
        output.save()
        output.audience_entities.set([])
        search.reindex_outputs([output.key])


def test_query_syntax_is_never_an_error(engine):
    for text in ['"unbalanced', "a AND OR NOT", "*", "title:x", "NEAR(x y)", "ü", "-", "'"]:
        assert run(text).total >= 0


def test_facets_are_sampled_above_the_threshold_and_say_so(engine, monkeypatch):
    exact = run("")
    assert not exact.facets_approximate
    monkeypatch.setattr(search, "SAMPLE_ABOVE", 40)
    sampled = run("")
    assert sampled.facets_approximate
    assert sampled.total == exact.total == 153  # the number of results stays exact
    counts = [n for values in sampled.facets.values() for _, n in values]
    assert counts and all(n % 100 == 0 for n in counts)  # scaled estimates, rounded


def test_ensure_index_leaves_a_current_index_alone(engine):
    assert search.ensure_index() is False  # current: nothing to do
    search.get_engine().update([])  # no-op write must not disturb it
    assert search.index_size() == 153


def test_ensure_index_builds_a_missing_tantivy_index(settings, tmp_path):
    settings.GMG_SEARCH_ENGINE = "tantivy"
    settings.GMG_SEARCH_INDEX_DIR = tmp_path / "fresh"
    assert search.index_size() is None
    assert search.ensure_index() is True
    assert search.index_size() == 153
    assert run("remittances").total >= 6
    settings.GMG_SEARCH_ENGINE = "auto"
