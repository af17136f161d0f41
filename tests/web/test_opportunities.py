"""Local Village Network: lifecycle, search, registrations, forms, and who may see what."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    BRIXTON,
    LAMBETH,
    PASSWORD,
    SOUTHWARK,
    offset,
    opportunity,
    org,
    prefilled,
    signed_in,
    user,
    young_person,
)

from vru.web.accounts.models import AuditLog, Organisation
from vru.web.opportunities import bookings, lifecycle, search, signposting
from vru.web.opportunities.forms import OpportunityForm
from vru.web.opportunities.models import Favourite, ModerationEvent, Opportunity, Registration
from vru.web.opportunities.roles import ROLE_PERMISSIONS
from vru.web.opportunities.urls import PUBLIC_VIEWS

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(db):
    return user("mod@example.org", "programme manager")


@pytest.fixture
def provider(db):
    return user("staff@brixtonyouth.example.org", "provider", org("Brixton Youth Club"))


@pytest.fixture
def other_provider(db):
    return user("staff@peckham.example.org", "provider", org("Peckham Boxing"))


def _error(html: str, field: str) -> str | None:
    """The GOV.UK error message shown next to ``field`` (unescaped), or None."""
    m = re.search(rf'<p id="id_{field}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    return unescape(m.group(1)) if m else None


def _search(**params) -> list[Opportunity]:
    form = search.SearchForm(params)
    assert form.is_valid(), form.errors
    return list(search.run(form, 1).object_list)


# --- roles --------------------------------------------------------------------------------------------


def test_roles_hold_this_apps_permissions_after_migrate():
    for name, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        got = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert perms <= got, name
    assert not Group.objects.get(name="provider").permissions.filter(codename="moderate_opportunity").exists()
    assert not Group.objects.get(name="analyst").permissions.filter(content_type__app_label="opportunities")


# --- lifecycle ----------------------------------------------------------------------------------------


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


def test_expire_command(capsys):
    opportunity(visible_to=timezone.now() - dt.timedelta(hours=1))
    call_command("expire_opportunities")
    assert "expired 1, published 0" in capsys.readouterr().out


# --- search -------------------------------------------------------------------------------------------


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


@pytest.mark.parametrize("params, field, message", [
    ({"lat": "51.46"}, "lon", "both latitude and longitude"),
    ({"lat": "53.48", "lon": "-2.24"}, "lat", "not in London"),  # Manchester
    ({"radius": "2"}, "radius", "latitude and longitude, or choose a borough"),
    ({"sort": "distance"}, "sort", "sort by distance"),
    ({"date_from": "2030-05-02", "date_to": "2030-05-01"}, "date_to", "after the 'from' date"),
    ({"age": "9"}, "age", "greater than or equal to 10"),
    ({"radius": "500", "borough": LAMBETH}, "radius", "less than or equal to 50"),
])
def test_search_form_rejects_bad_input_next_to_the_field(params, field, message):
    r = Client().get(reverse("opportunities:search"), params)
    assert r.status_code == 200
    html = r.content.decode()
    err = _error(html, field)
    assert err and message in err, html[:3000]
    assert "There is a problem" in html


def test_search_page_query_count_does_not_grow_with_results(django_assert_max_num_queries):
    p = org()
    for i in range(25):
        opportunity(provider=p, title=f"Session {i}")
    with django_assert_max_num_queries(6):
        r = Client().get(reverse("opportunities:search"), {"q": "session", "age": 15})
    assert r.status_code == 200
    assert r.content.decode().count('class="lvn-card"') == search.PAGE_SIZE
    assert "25 results" in r.content.decode()
    page2 = Client().get(reverse("opportunities:search"), {"q": "session", "age": 15, "page": 2})
    assert page2.content.decode().count('class="lvn-card"') == 5


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


def test_search_count_stops_at_the_cap_and_says_so(monkeypatch):
    p = org()
    for i in range(7):
        opportunity(provider=p, title=f"Session {i}")
    monkeypatch.setattr(search, "MAX_RESULTS", 5)
    html = Client().get(reverse("opportunities:search"), {"q": "session"}).content.decode()
    assert "More than 5 results" in html
    assert "Showing the first 5." in html
    # the results stop at the cap: one page of 5, not 7
    assert html.count('class="lvn-card"') == 5
    monkeypatch.setattr(search, "MAX_RESULTS", 7)
    html = Client().get(reverse("opportunities:search"), {"q": "session"}).content.decode()
    assert "7 results" in html and "More than" not in html


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


# --- registrations ------------------------------------------------------------------------------------


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


def test_register_page_shares_only_what_was_chosen_and_provider_sees_only_that(provider):
    opp = opportunity(provider=provider.organisation, capacity=3)
    yp = young_person("sam.private@example.org", "Sam")
    c = signed_in(yp)
    r = c.post(reverse("opportunities:register", args=[opp.pk]), {"note": "I use a wheelchair"})
    assert r.status_code == 302
    assert r.headers["Location"] == reverse("opportunities:mine")
    opp.refresh_from_db()
    assert opp.places_taken == 1
    regs_url = reverse("opportunities:provider_registrations", args=[opp.pk])
    page = signed_in(provider).get(regs_url).content.decode()
    assert "Sam" in page and "I use a wheelchair" in page
    assert "sam.private@example.org" not in page  # not shared
    assert AuditLog.objects.filter(user=provider, object_type="opportunities.opportunity",
                                   object_id=str(opp.pk)).exists()
    # another young person shares their email
    yp2 = young_person("alex@example.org", "Alex")
    signed_in(yp2).post(reverse("opportunities:register", args=[opp.pk]), {"share_email": "on"})
    regs_url = reverse("opportunities:provider_registrations", args=[opp.pk])
    page = signed_in(provider).get(regs_url).content.decode()
    assert "alex@example.org" in page


def test_register_page_refuses_the_wrong_age_and_contact_details_in_the_note():
    opp = opportunity(min_age=18, max_age=24, capacity=3)
    yp = young_person(age=15)
    r = signed_in(yp).post(reverse("opportunities:register", args=[opp.pk]), {})
    assert "you cannot book it" in r.content.decode()
    assert not Registration.objects.exists()
    ok = opportunity(title="For 15", capacity=3)
    r = signed_in(yp).post(reverse("opportunities:register", args=[ok.pk]),
                           {"note": "call me on 07700 900123"})
    assert "phone number" in _error(r.content.decode(), "note")
    assert not Registration.objects.exists()


def test_favourites_add_list_remove():
    opp = opportunity()
    yp = young_person()
    c = signed_in(yp)
    c.post(reverse("opportunities:favourite", args=[opp.pk]))
    assert Favourite.objects.filter(user=yp, opportunity=opp).exists()
    c.get(reverse("opportunities:mine"))  # shows (and uses up) the "saved" message
    assert opp.title in c.get(reverse("opportunities:mine")).content.decode()
    c.post(reverse("opportunities:favourite", args=[opp.pk]))
    c.get(reverse("opportunities:mine"))
    assert opp.title not in c.get(reverse("opportunities:mine")).content.decode()
    assert not Favourite.objects.exists()


# --- young people's sign-up ---------------------------------------------------------------------------------


def test_sign_up_creates_a_young_persons_account_once_the_emailed_link_is_used():
    from django.core import mail

    from vru.web.accounts.models import User

    year = timezone.localdate().year
    c = Client()
    r = c.post(reverse("opportunities:signup"), {"email": "Jo@Example.org", "nickname": "Jo",
                                                 "birth_year": year - 16})
    assert r.status_code == 302 and r["Location"] == reverse("opportunities:signup_check_email")
    u = User.objects.get(email="jo@example.org")
    assert not u.is_active and not u.has_usable_password()  # nothing can sign in until confirmed
    (msg,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/opportunities/sign-up/confirm/\S+/)", msg.body).group(1)
    r = c.get(link, follow=True)
    assert b"Choose your password" in r.content
    r = c.post(r.redirect_chain[-1][0], prefilled(r) | {"new_password1": PASSWORD,
                                                   "new_password2": PASSWORD})
    assert r.status_code == 302
    u = User.objects.get(email="jo@example.org")
    assert u.is_active and u.check_password(PASSWORD)
    assert u.roles == ["young person"]
    assert u.young_person.nickname == "Jo" and u.young_person.birth_year == year - 16
    assert u.has_perm("opportunities.add_registration") and not u.has_perm("opportunities.signpost")


@pytest.mark.parametrize("change, field, message", [
    ({"birth_year": timezone.localdate().year - 12}, "birth_year", "aged 14 to 24"),
    ({"birth_year": timezone.localdate().year - 30}, "birth_year", "aged 14 to 24"),
    ({"nickname": "jo@example.org"}, "nickname", "must not be an email"),
    ({"email": "not-an-email"}, "email", "valid email"),
])
def test_sign_up_rejects_bad_input_next_to_the_field(change, field, message):
    data = {"email": "jo@example.org", "nickname": "Jo",
            "birth_year": timezone.localdate().year - 16} | change
    r = Client().post(reverse("opportunities:signup"), data)
    assert r.status_code == 200
    err = _error(r.content.decode(), field)
    assert err and message in err


# --- providers: posting, editing, moderation ---------------------------------------------------------------


def _form_data(**kw) -> dict:
    today = timezone.localdate()
    data = {
        "kind": "activity", "title": "Basketball drop-in", "description": "Free basketball for 14-18s",
        "topic": "basketball", "borough": LAMBETH, "address": "Max Roach Park", "postcode": "sw9 8pq",
        "latitude": "51.4650", "longitude": "-0.1190", "min_age": "14", "max_age": "18",
        "start_date": (today + dt.timedelta(days=7)).isoformat(),
        "end_date": (today + dt.timedelta(days=60)).isoformat(), "recurrence": "weekly",
        "days_of_week": ["TU", "TH"], "start_time": "17:00", "end_time": "19:00", "is_free": "on",
        "price": "", "capacity": "20", "accessibility": "Step-free", "eligibility": "",
        "how_to_apply": "Just come",
        "apply_url": "", "visible_from": "", "visible_to": "",
    }
    data.update(kw)
    return data


def test_provider_posts_it_appears_only_after_approval(provider, moderator):
    c = signed_in(provider)
    r = c.post(reverse("opportunities:provider_new"), _form_data())
    assert r.status_code == 302, r.content.decode()[:3000]
    opp = Opportunity.objects.get(title="Basketball drop-in")
    assert opp.status == "pending" and opp.provider == provider.organisation
    assert opp.days_of_week == "TU,TH" and opp.postcode == "SW9 8PQ"
    assert opp not in _search(q="basketball")
    r = signed_in(moderator).post(reverse("opportunities:moderate", args=[opp.pk]), {"action": "approve"})
    assert r.status_code == 302
    assert _search(q="basketball") == [opp]


def test_editing_a_published_item_sends_it_back_to_moderation_and_keeps_places(provider):
    opp = opportunity(provider=provider.organisation, capacity=10)
    bookings.register(young_person(), opp, shared_name="Sam")
    data = _form_data(title="Football, new time", capacity="10")
    r = signed_in(provider).post(reverse("opportunities:provider_edit", args=[opp.pk]), data)
    assert r.status_code == 302
    opp.refresh_from_db()
    assert opp.title == "Football, new time" and opp.status == "pending" and opp.places_taken == 1
    assert opp.events.last().from_status == "published" and opp.events.last().to_status == "pending"
    assert _search() == []


def test_moderator_rejects_with_reason_and_provider_sees_it(provider, moderator):
    opp = opportunity(provider=provider.organisation, status="pending")
    mc = signed_in(moderator)
    r = mc.post(reverse("opportunities:moderate", args=[opp.pk]), {"action": "reject", "reject-reason": ""})
    assert "Enter the reason" in _error(r.content.decode(), "reject-reason")
    mc.post(reverse("opportunities:moderate", args=[opp.pk]),
            {"action": "reject", "reject-reason": "Add the venue's address"})
    opp.refresh_from_db()
    assert opp.status == "rejected"
    page = signed_in(provider).get(reverse("opportunities:provider_list")).content.decode()
    assert "Add the venue&#x27;s address" in page or "Add the venue's address" in page


def test_moderator_sets_the_visible_window_and_bad_windows_are_refused(moderator):
    opp = opportunity(status="pending")
    mc = signed_in(moderator)
    r = mc.post(reverse("opportunities:moderate", args=[opp.pk]), {
        "action": "approve", "approve-visible_from": "2030-06-10T10:00",
        "approve-visible_to": "2030-06-01T10:00"})
    assert "must be after" in _error(r.content.decode(), "approve-visible_to")
    opp.refresh_from_db()
    assert opp.status == "pending"


def test_queue_lists_pending_only(moderator):
    pending = opportunity(title="Waiting one", status="pending")
    opportunity(title="Already out")
    page = signed_in(moderator).get(reverse("opportunities:moderation")).content.decode()
    assert pending.title in page and "Already out" not in page


@pytest.mark.parametrize("change, field, message", [
    ({"end_date": "2000-01-01"}, "end_date", "same as or after the start date"),
    ({"min_age": "18", "max_age": "14"}, "max_age", "same as or more than the minimum age"),
    ({"min_age": "9"}, "min_age", "greater than or equal to 10"),
    ({"price": "5.00"}, "price", "Leave the price empty"),
    ({"is_free": "", "price": ""}, "price", "Enter the price"),
    ({"is_free": "", "price": "-3"}, "price", "greater than or equal to 0.01"),
    ({"latitude": "53.4808", "longitude": "-2.2426"}, "latitude", "not in London"),
    ({"latitude": "51.474", "longitude": "-0.069"}, "borough", "in Southwark, not in Lambeth"),
    ({"recurrence": "weekly", "days_of_week": []}, "days_of_week", "Choose the days"),
    ({"end_time": "16:00"}, "end_time", "after the start time"),
    ({"start_time": ""}, "start_time", "both times"),
    ({"capacity": "0"}, "capacity", "at least 1"),
    ({"postcode": "NOT A CODE"}, "postcode", "real postcode"),
    ({"visible_from": "2030-06-10T10:00", "visible_to": "2030-06-01T10:00"}, "visible_to", "must be after"),
    ({"title": ""}, "title", "required"),
    ({"kind": "party"}, "kind", "valid choice"),
    ({"apply_url": "javascript:alert(1)"}, "apply_url", "valid URL"),
])
def test_opportunity_form_rejects_bad_input_next_to_the_field(provider, change, field, message):
    r = signed_in(provider).post(reverse("opportunities:provider_new"), _form_data(**change))
    assert r.status_code == 200
    html = r.content.decode()
    err = _error(html, field)
    assert err and message in err, re.findall(r'govuk-error-message">(.*?)</p>', html, re.S)
    assert not Opportunity.objects.exists()


def test_capacity_cannot_go_below_places_taken(provider):
    opp = opportunity(provider=provider.organisation, capacity=3)
    for i in range(2):
        bookings.register(young_person(f"y{i}@example.org", f"Y{i}"), opp, shared_name=f"Y{i}")
    opp.refresh_from_db()
    form = OpportunityForm(_form_data(capacity="1"), instance=opp)
    assert not form.is_valid()
    assert form.errors["capacity"][0] == ("The number of places cannot be less than the 2 places already "
                                          "booked")


# --- who may see what ---------------------------------------------------------------------------------------


def test_public_pages_need_no_account():
    opp = opportunity()
    urls = {
        "search": reverse("opportunities:search"), "detail": reverse("opportunities:detail", args=[opp.pk]),
        "signup": reverse("opportunities:signup"),
        "signup_check_email": reverse("opportunities:signup_check_email"),
        "signup_confirm": reverse("opportunities:signup_confirm", args=["MQ", "no-such-token"]),
        "shortlist": reverse("opportunities:shortlist") + f"?ids={opp.pk}",
        "shortlist_print": reverse("opportunities:shortlist_print") + f"?ids={opp.pk}",
        "borough_map": reverse("opportunities:borough_map", args=[LAMBETH]),
        "venue_map": reverse("opportunities:venue_map", args=[opp.pk]),
    }
    assert set(urls) == set(PUBLIC_VIEWS)
    for url in urls.values():
        r = Client().get(url)
        assert r.status_code == 200, url
        assert opp.title in r.content.decode() or "sign-up" in url or url.endswith(".svg")
    assert "This link has expired" in Client().get(urls["signup_confirm"], follow=True).content.decode()


def _protected(opp_pk: int, reg_pk: int, org_pk: int) -> dict[str, tuple[str, str]]:
    """url name -> (method, url) for every non-public page."""
    r = reverse
    return {
        "mine": ("get", r("opportunities:mine")),
        "favourite": ("post", r("opportunities:favourite", args=[opp_pk])),
        "register": ("get", r("opportunities:register", args=[opp_pk])),
        "cancel": ("post", r("opportunities:cancel", args=[reg_pk])),
        "provider_list": ("get", r("opportunities:provider_list")),
        "provider_new": ("get", r("opportunities:provider_new")),
        "provider_detail": ("get", r("opportunities:provider_detail", args=[opp_pk])),
        "provider_edit": ("get", r("opportunities:provider_edit", args=[opp_pk])),
        "provider_archive": ("get", r("opportunities:provider_archive", args=[opp_pk])),
        "provider_registrations": ("get", r("opportunities:provider_registrations", args=[opp_pk])),
        "moderation": ("get", r("opportunities:moderation")),
        "moderate": ("get", r("opportunities:moderate", args=[opp_pk])),
        "organisations": ("get", r("opportunities:organisations")),
        "verify": ("post", r("opportunities:verify", args=[org_pk])),
    }


def test_every_protected_page_sends_anonymous_visitors_to_sign_in_and_refuses_the_wrong_role(provider):
    from vru.web.opportunities import urls

    opp = opportunity(provider=provider.organisation, capacity=3)
    reg = bookings.register(young_person(), opp, shared_name="Sam")
    pages = _protected(opp.pk, reg.pk, provider.organisation_id)
    names = {p.name for p in urls.urlpatterns}
    assert set(pages) | set(PUBLIC_VIEWS) == names  # every page is checked
    analyst = signed_in(user("analyst@example.org", "analyst"))
    for name, (method, url) in pages.items():
        r = getattr(Client(), method)(url)
        assert r.status_code == 302 and r.headers["Location"].startswith(reverse("login")), name
        assert getattr(analyst, method)(url).status_code == 403, name


def test_a_young_person_cannot_reach_provider_or_moderator_pages_and_a_provider_cannot_moderate(provider):
    opp = opportunity(provider=provider.organisation)
    yp = signed_in(young_person())
    for name in ("provider_list", "provider_new", "moderation", "organisations"):
        assert yp.get(reverse(f"opportunities:{name}")).status_code == 403
    assert yp.get(reverse("opportunities:provider_registrations", args=[opp.pk])).status_code == 403
    pc = signed_in(provider)
    assert pc.get(reverse("opportunities:moderation")).status_code == 403
    assert pc.get(reverse("opportunities:moderate", args=[opp.pk])).status_code == 403
    assert pc.post(reverse("opportunities:verify", args=[provider.organisation_id]),
                   {"verified": "1"}).status_code == 403


def test_another_organisations_opportunity_is_404(provider, other_provider):
    opp = opportunity(provider=provider.organisation)
    c = signed_in(other_provider)
    for name in ("provider_detail", "provider_edit", "provider_archive", "provider_registrations"):
        assert c.get(reverse(f"opportunities:{name}", args=[opp.pk])).status_code == 404, name
    assert c.post(reverse("opportunities:provider_edit", args=[opp.pk]), _form_data()).status_code == 404
    archive = reverse("opportunities:provider_archive", args=[opp.pk])
    assert c.post(archive, {"reason": "x"}).status_code == 404
    opp.refresh_from_db()
    assert opp.status == "published"


def test_someone_elses_registration_cannot_be_cancelled():
    opp = opportunity(capacity=2)
    reg = bookings.register(young_person(), opp, shared_name="Sam")
    other = signed_in(young_person("alex@example.org", "Alex"))
    assert other.post(reverse("opportunities:cancel", args=[reg.pk])).status_code == 404
    reg.refresh_from_db()
    assert reg.cancelled is None


def test_an_unverified_provider_is_told_to_wait(db):
    staff = user("new@example.org", "provider", org("New Project", verified=False))
    r = signed_in(staff).get(reverse("opportunities:provider_new"))
    assert r.status_code == 403
    assert "waiting for verification" in r.content.decode()
    r = signed_in(staff).post(reverse("opportunities:provider_new"), _form_data())
    assert r.status_code == 403 and not Opportunity.objects.exists()


def test_administrator_verifies_a_provider_and_it_is_audited():
    admin = user("admin@example.org", "administrator")
    new = org("New Project", verified=False)
    c = signed_in(admin)
    assert "New Project" in c.get(reverse("opportunities:organisations")).content.decode()
    c.post(reverse("opportunities:verify", args=[new.pk]), {"verified": "1"})
    new.refresh_from_db()
    assert new.verified and new.verified_by == admin and new.verified_at is not None
    entry = AuditLog.objects.get(action="verify provider")
    assert entry.user == admin and entry.object_id == str(new.pk)
    c.post(reverse("opportunities:verify", args=[new.pk]), {"verified": "0"})
    assert not Organisation.objects.get(pk=new.pk).verified
    assert AuditLog.objects.filter(action="withdraw verification").exists()


def test_withdrawing_verification_takes_the_providers_opportunities_down_everywhere(moderator):
    from vru.web.opportunities.oruk import entity_id

    admin = user("admin@example.org", "administrator")
    club = org("Club", verified=True)
    live = opportunity(provider=club, title="Boxing club", topic="boxing", capacity=5)
    waiting = opportunity(provider=club, title="Pending boxing", status="pending")
    approved = opportunity(provider=club, title="Approved boxing", status="approved")
    opportunity(provider=org("Other"), title="Boxing elsewhere", topic="boxing")
    sam = signed_in(young_person())
    service = f"/api/v1/opportunities/services/{entity_id('service', live.pk)}"

    def public() -> dict:
        found = Client().get(reverse("opportunities:search"), {"q": "boxing"}).content.decode()
        api = Client().get("/api/v1/opportunities/services", {"search": "boxing"}).json()
        shortlist = Client().get(reverse("opportunities:shortlist"), {"ids": str(live.pk)}).content.decode()
        return {"search": "Boxing club" in found,
                "detail": Client().get(reverse("opportunities:detail", args=[live.pk])).status_code,
                "api": "Boxing club" in {x["name"] for x in api["contents"]},
                "service": Client().get(service).status_code,
                "shortlist": "Boxing club" in shortlist,
                "other": "Boxing elsewhere" in found}

    shown = {"search": True, "detail": 200, "api": True, "service": 200, "shortlist": True, "other": True}
    assert public() == shown
    signed_in(admin).post(reverse("opportunities:verify", args=[club.pk]), {"verified": "0"})
    assert public() == {"search": False, "detail": 404, "api": False, "service": 404, "shortlist": False,
                        "other": True}
    assert sam.post(reverse("opportunities:favourite", args=[live.pk])).status_code == 404
    with pytest.raises(bookings.BookingError):
        bookings.register(young_person("kim@example.org", "Kim"), Opportunity.objects.get(pk=live.pk),
                          shared_name="Kim")
    with pytest.raises(lifecycle.TransitionError, match="not a verified provider"):
        lifecycle.transition(Opportunity.objects.get(pk=waiting.pk), "approve", moderator)
    # the time rules do not publish an approved item of an unverified provider either
    assert lifecycle.apply_time_rules()["published"] == 0
    assert Opportunity.objects.get(pk=approved.pk).status == "approved"
    signed_in(admin).post(reverse("opportunities:verify", args=[club.pk]), {"verified": "1"})
    assert public() == shown
    assert sam.post(reverse("opportunities:favourite", args=[live.pk])).status_code == 302


def test_verify_refuses_an_unknown_value():
    admin = user("admin@example.org", "administrator")
    club = org("Club", verified=True)
    r = signed_in(admin).post(reverse("opportunities:verify", args=[club.pk]), {"verified": "yes"})
    assert r.status_code == 400
    club.refresh_from_db()
    assert club.verified is True


def test_provider_list_costs_the_same_queries_for_one_or_many_opportunities(provider):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = signed_in(provider)
    opportunity(provider=provider.organisation, title="First")
    with CaptureQueriesContext(connection) as one:
        assert c.get(reverse("opportunities:provider_list")).status_code == 200
    for i in range(6):
        opportunity(provider=provider.organisation, title=f"More {i}")
    with CaptureQueriesContext(connection) as many:
        assert c.get(reverse("opportunities:provider_list")).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize("name", ["favourite", "register", "verify", "moderate", "provider_new", "signup"])
def test_csrf_is_enforced(name, provider, moderator):
    opp = opportunity(provider=provider.organisation, status="pending", capacity=3)
    live = opportunity(provider=provider.organisation, title="live", capacity=3)
    who = {"favourite": young_person, "register": young_person,
           "verify": lambda: user("a@example.org", "administrator"),
           "moderate": lambda: moderator, "provider_new": lambda: provider, "signup": lambda: None}[name]()
    args = {"favourite": [live.pk], "register": [live.pk], "verify": [provider.organisation_id],
            "moderate": [opp.pk], "provider_new": [], "signup": []}[name]
    c = Client(enforce_csrf_checks=True)
    if who:
        c.force_login(who)
    data = {"action": "approve", "verified": "0"} if name in ("moderate", "verify") else _form_data()
    assert c.post(reverse(f"opportunities:{name}", args=args), data).status_code == 403
    opp.refresh_from_db()
    assert opp.status == "pending" and not Registration.objects.exists()


# --- signposting ------------------------------------------------------------------------------------------


def test_signposting_shortlist_lives_only_in_the_url():
    a, b = opportunity(title="Football"), opportunity(title="Coding club", topic="coding")
    gone = opportunity(title="Gone", status="archived")
    caseworker = signed_in(user("cw@example.org", "caseworker"))
    page = caseworker.get(reverse("opportunities:search")).content.decode()
    assert page.count(">Add to shortlist<") == 2
    assert "Add to shortlist" not in Client().get(reverse("opportunities:search")).content.decode()
    # adding carries the list in the query string
    page = caseworker.get(reverse("opportunities:search"), {"sl": f"{a.pk}"}).content.decode()
    assert f"sl={a.pk}%2C{b.pk}" in page
    before = {m.objects.count() for m in (Opportunity, ModerationEvent, Registration, AuditLog)}
    r = Client().get(reverse("opportunities:shortlist"), {"ids": f"{b.pk},{a.pk},{gone.pk},{b.pk},junk"})
    html = r.content.decode()
    assert html.index("Coding club") < html.index("Football") and "Gone" not in html
    assert "1 opportunity on this list is no longer available" in " ".join(html.split())
    assert f"ids={b.pk}%2C{a.pk}%2C{gone.pk}" in html  # the shareable link
    printable = Client().get(reverse("opportunities:shortlist_print"), {"ids": f"{a.pk}"}).content.decode()
    assert "How to apply" in printable and "Football" in printable
    assert {m.objects.count() for m in (Opportunity, ModerationEvent, Registration, AuditLog)} == before


def test_shortlist_ids_are_parsed_defensively():
    assert signposting.parse_ids("3,1,3,x,-2,,7 8") == [3, 1, 7, 8]
    assert len(signposting.parse_ids(",".join(str(i) for i in range(1, 100)))) == signposting.MAX_ITEMS
    assert signposting.parse_ids(None) == []
