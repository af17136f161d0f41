"""The opportunities web app: moderation lifecycle, search, bookings, result cards, signposting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import BRIXTON, LAMBETH, SOUTHWARK, offset, opportunity, org, young_person
from opportunities_helpers import _search

from vru.web.opportunities import bookings, lifecycle, search, signposting
from vru.web.opportunities.models import Opportunity, Registration

pytestmark = pytest.mark.django_db


def test_approval_inside_the_window_publishes_and_records_every_step(moderator):
    opp = opportunity(status="pending")
    lifecycle.transition(opp, "approve", moderator)
    opp.refresh_from_db()
    assert opp.status == "published"
    steps = [(e.from_status, e.to_status, e.by) for e in opp.events.all()]
    assert steps == [("pending", "approved", moderator), ("approved", "published", None)]


def test_approval_before_the_window_waits_until_the_time_rules_publish(moderator):
    now = timezone.now()
    opp = opportunity(status="pending")
    lifecycle.transition(opp, "approve", moderator, visible_from=now + dt.timedelta(days=2),
                         visible_to=now + dt.timedelta(days=5))
    opp.refresh_from_db()
    assert opp.status == "approved"
    assert opp not in _search()
    assert lifecycle.apply_time_rules(now + dt.timedelta(days=2, hours=1)) == {"expired": 0, "published": 1}
    opp.refresh_from_db()
    assert opp.status == "published"


def test_reject_and_archive_need_a_reason(moderator):
    opp = opportunity(status="pending")
    with pytest.raises(lifecycle.TransitionError, match="reason"):
        lifecycle.transition(opp, "reject", moderator, "  ")
    lifecycle.transition(opp, "reject", moderator, "No safeguarding policy given")
    opp.refresh_from_db()
    assert opp.status == "rejected"
    assert opp.events.last().reason == "No safeguarding policy given"
    with pytest.raises(lifecycle.TransitionError, match="reason"):
        lifecycle.transition(opp, "archive", moderator, "")


def test_who_may_do_what(moderator, provider, other_provider):
    opp = opportunity(provider=provider.organisation, status="pending")
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.transition(opp, "approve", provider)  # providers do not approve their own
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.transition(opp, "archive", other_provider, "not yours")
    assert lifecycle.allowed_actions(provider, opp) == ["archive", "resubmit"]
    assert set(lifecycle.allowed_actions(moderator, opp)) == {"approve", "reject", "archive"}
    lifecycle.transition(opp, "archive", provider, "cancelled by the club")
    opp.refresh_from_db()
    assert opp.status == "archived"
    with pytest.raises(lifecycle.TransitionError, match="archived"):
        lifecycle.transition(opp, "approve", moderator)


def test_time_rules_expire_past_window_or_end_date_and_are_idempotent():
    now = timezone.now()
    today = timezone.localdate()
    past_window = opportunity(title="a", visible_to=now - dt.timedelta(minutes=1))
    past_end = opportunity(title="b", start_date=today - dt.timedelta(days=3),
                           end_date=today - dt.timedelta(days=1))
    current = opportunity(title="c")
    # search never shows them, even before the scheduled command runs
    assert _search() == [current]
    assert lifecycle.apply_time_rules(now) == {"expired": 2, "published": 0}
    assert lifecycle.apply_time_rules(now) == {"expired": 0, "published": 0}
    for o in (past_window, past_end):
        o.refresh_from_db()
        assert o.status == "expired"
        assert o.events.last().by is None and o.events.last().to_status == "expired"
    current.refresh_from_db()
    assert current.status == "published"


def test_distance_filter_boundary_and_sort():
    near = opportunity(title="near", latitude=offset(*BRIXTON, north_km=1.9)[0])
    nearer = opportunity(title="nearer", latitude=offset(*BRIXTON, north_km=0.5)[0])
    far = opportunity(title="far", latitude=offset(*BRIXTON, north_km=2.1)[0])
    far_east = opportunity(title="far east", longitude=offset(*BRIXTON, east_km=2.1)[1])
    got = _search(lat=BRIXTON[0], lon=BRIXTON[1], radius=2, sort="distance")
    assert got == [nearer, near]
    assert got[1].distance_km == pytest.approx(1.9, abs=0.005)
    assert set(_search(lat=BRIXTON[0], lon=BRIXTON[1], radius=2.2)) == {near, nearer, far, far_east}


def test_distance_from_the_borough_centre_when_no_point_is_given():
    from vru.web.opportunities import geo

    centre = geo.borough_centre(LAMBETH)
    assert geo.borough_at(*centre) == [LAMBETH]
    inside = opportunity(title="in", latitude=centre[0], longitude=centre[1])
    opportunity(title="out", latitude=offset(*centre, north_km=3)[0], longitude=centre[1])
    assert _search(borough=LAMBETH, radius=1) == [inside]


def test_age_filter_boundaries():
    opp = opportunity(min_age=14, max_age=18)
    assert _search(age=14) == [opp]
    assert _search(age=18) == [opp]
    assert _search(age=13) == []
    assert _search(age=19) == []


def test_borough_kind_free_keyword_and_date_filters():
    today = timezone.localdate()
    football = opportunity(title="Saturday Football", topic="football")
    coding = opportunity(title="Code club", description="Learn Python", topic="coding", kind="training",
                         is_free=False, price="5.00")
    southwark = opportunity(title="Boxing", topic="boxing", borough=SOUTHWARK, latitude=51.474,
                            longitude=-0.069,
                            start_date=today + dt.timedelta(days=20), end_date=today + dt.timedelta(days=40))
    assert _search(borough=SOUTHWARK) == [southwark]
    assert _search(kind="training") == [coding]
    assert set(_search(free=True)) == {football, southwark}
    assert _search(q="FOOTBALL") == [football]  # case-insensitive, title or topic
    assert _search(q="python") == [coding]  # description
    assert _search(q="code python") == [coding]  # every word must match
    assert _search(q="code boxing") == []
    # date range: overlapping, both ends inclusive
    assert _search(date_from=today + dt.timedelta(days=40)) == [southwark]
    assert set(_search(date_to=today + dt.timedelta(days=3))) == {football, coding}
    assert _search(date_from=today + dt.timedelta(days=41)) == []


def test_only_live_opportunities_are_found():
    now = timezone.now()
    live = opportunity(title="live")
    opportunity(title="pending", status="pending")
    opportunity(title="rejected", status="rejected")
    opportunity(title="archived", status="archived")
    opportunity(title="not yet", visible_from=now + dt.timedelta(hours=1))
    assert _search() == [live]
    assert Client().get(reverse("opportunities:detail", args=[live.pk])).status_code == 200
    hidden = Opportunity.objects.exclude(pk=live.pk)
    for o in hidden:
        assert Client().get(reverse("opportunities:detail", args=[o.pk])).status_code == 404


def test_result_card_shows_the_facts_a_young_person_needs_and_escapes_them():
    from vru.web.opportunities import cards

    opp = opportunity(title="Rock & <b>roll</b>", address="Hall <1>", is_free=False, price="4.50",
                      capacity=10, start_date=dt.date(2026, 8, 3), end_date=dt.date(2026, 8, 7),
                      start_time=dt.time(10, 0), end_time=dt.time(12, 30))
    opp.distance_km = 1.234
    html = str(cards.card(opp, sl="3,4"))
    assert "Rock &amp; &lt;b&gt;roll&lt;/b&gt;" in html and "<b>" not in html
    assert "Lambeth: Hall &lt;1&gt; <span class=\"lvn-distance\">(1.2 km away)</span></dd>" in html
    assert "Mon 3 Aug 2026 to Fri 7 Aug 2026, 10:00–12:30" in html
    assert "£4.50" in html and "Free" not in html
    assert "<dt>Places</dt><dd>10 left</dd>" in html and "<dt>Ages</dt><dd>14 to 18</dd>" in html
    assert f'href="/opportunities/{opp.pk}/?sl=3,4"' in html
    opp.places_taken = 10
    full = str(cards.card(opp, in_shortlist=True))
    assert "<dd>Full</dd>" in full and "On the shortlist" in full and "?sl=" not in full
    free = opportunity(title="Free football")
    free_html = str(cards.card(free))
    assert "govuk-tag--green\">Free<" in free_html and "<dt>Places</dt>" not in free_html


def test_capped_paginator_counts_with_a_limit_and_ends_pages_at_the_cap(django_assert_num_queries):
    p = org()
    for i in range(12):
        opportunity(provider=p, title=f"Session {i}")
    qs = Opportunity.objects.order_by("id")
    pager = search.CappedPaginator(qs, 4, cap=10)
    with django_assert_num_queries(1) as ctx:
        assert (pager.count, pager.capped, pager.num_pages) == (10, True, 3)
    assert "LIMIT 11" in ctx.captured_queries[0]["sql"]
    assert len(pager.page(3).object_list) == 2  # results 9 and 10, not 11 and 12
    exact = search.CappedPaginator(qs, 4, cap=12)
    assert (exact.count, exact.capped, exact.num_pages) == (12, False, 3)


def test_keywords_match_title_topic_or_description_in_any_case_on_page_and_api():
    opportunity(title="Street DANCE workshop", topic="dance", description="Learn moves")
    opportunity(title="Coding club", topic="coding", description="Build a game in Python")
    opportunity(title="Football session", topic="football", description="Five-a-side")
    found = {o.title for o in search.with_keywords(Opportunity.objects.all(), "dance")}
    assert found == {"Street DANCE workshop"}
    every = Opportunity.objects.all()
    assert {o.title for o in search.with_keywords(every, "PYTHON game")} == {"Coding club"}
    assert {o.title for o in search.with_keywords(every, "python football")} == set()
    api = Client().get("/api/v1/opportunities/services", {"search": "Python"}).json()
    assert [s["name"] for s in api["contents"]] == ["Coding club"]


def test_capacity_is_never_exceeded_and_remaining_places_shown():
    opp = opportunity(capacity=2)
    people = [young_person(f"yp{i}@example.org", f"YP{i}") for i in range(3)]
    bookings.register(people[0], opp, shared_name="YP0")
    bookings.register(people[1], opp, shared_name="YP1")
    with pytest.raises(bookings.BookingError, match="no places left"):
        bookings.register(people[2], opp, shared_name="YP2")
    opp.refresh_from_db()
    assert opp.places_taken == 2 and opp.remaining == 0
    assert Registration.objects.filter(opportunity=opp).count() == 2
    assert "Full" in Client().get(reverse("opportunities:detail", args=[opp.pk])).content.decode()


def test_registering_twice_is_refused_without_taking_a_place():
    opp = opportunity(capacity=5)
    yp = young_person()
    bookings.register(yp, opp, shared_name="Sam")
    with pytest.raises(bookings.BookingError, match="already registered"):
        bookings.register(yp, opp, shared_name="Sam")
    opp.refresh_from_db()
    assert opp.places_taken == 1


def test_cancel_frees_the_place_and_forgets_what_was_shared():
    opp = opportunity(capacity=1)
    yp, other = young_person(), young_person("alex@example.org", "Alex")
    reg = bookings.register(yp, opp, shared_name="Sam", shared_email=yp.email, note="uses a wheelchair")
    assert bookings.cancel(reg) is True
    assert bookings.cancel(reg) is False  # twice: no second place freed
    opp.refresh_from_db()
    assert opp.places_taken == 0
    reg.refresh_from_db()
    assert reg.shared_email == "" and reg.note == "" and reg.cancelled is not None
    bookings.register(other, opp, shared_name="Alex")  # the freed place can be taken
    bookings.cancel(Registration.objects.get(user=other))
    bookings.register(yp, opp, shared_name="Sam")  # and registering again after cancelling works


def test_a_closed_opportunity_takes_no_registrations():
    opp = opportunity(status="pending", capacity=3)
    with pytest.raises(bookings.BookingError, match="no longer open"):
        bookings.register(young_person(), opp, shared_name="Sam")


def test_shortlist_ids_are_parsed_defensively():
    assert signposting.parse_ids("3,1,3,x,-2,,7 8") == [3, 1, 7, 8]
    assert len(signposting.parse_ids(",".join(str(i) for i in range(1, 100)))) == signposting.MAX_ITEMS
    assert signposting.parse_ids(None) == []
