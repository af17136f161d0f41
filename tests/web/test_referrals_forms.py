"""Rescue and Response: every form refuses bad input with a message next to the field (and in
the error summary at the top, linked to it), answers 400, and writes nothing, not even an audit row; the
risk review page; the caseload search is a POST, so that a name is never in a URL.

Fixtures and helpers come from test_referrals.py (the same synthetic world)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import test_referrals as base
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from test_referrals import NAME, W, client, make_case, referral_post

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import Contact, MissingEpisode, Need, NeedOutcome, Referral, Rescue, RiskNote

pytestmark = pytest.mark.django_db
w = base.w  # the fixture: the same synthetic world


def snapshot() -> dict:
    """How many rows each table of the app holds, and the audit log; and every value of the app's rows, so
    that a row changed in place (a correction half-saved) shows too, not only a row added."""
    models = apps.get_app_config("referrals").get_models()
    counts: dict = {m.__name__: m.objects.count() for m in models}
    counts["AuditLog"] = AuditLog.objects.count()
    counts["allowed"] = Referral.allowed_staff.through.objects.count()
    counts["barred"] = Referral.barred_staff.through.objects.count()
    counts["values"] = repr([list(m._base_manager.order_by("pk").values()) for m in models])
    return counts


def error_next_to(html: str, field: str) -> str:
    """The message shown next to ``field`` (fails when there is none), checked to be in the summary too."""
    marker = f'id="id_{field}-error"'
    assert marker in html, f"no message next to {field}"
    assert f'href="#id_{field}' in html.split('class="govuk-error-summary"')[1].split("</ul>")[0], field
    return html.split(marker)[1].split("</p>")[0]


def _day(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _dob_making(age: int) -> str:
    """A date of birth that makes the person ``age`` today (their birthday 40 days ago)."""
    d = timezone.localdate() - timedelta(days=40)
    return d.replace(year=d.year - age).isoformat()


def _cases(w: W) -> dict:
    """The referral of each form's test: an open case of provider A with a need, a due risk note, a contact,
    a rescue and a missing episode (for the corrections), and a closed case with its outcome."""
    r = make_case(w, provider=w.pa, days_ago=20)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="Stops running lines")
    note = RiskNote.objects.create(
        referral=r, level="high", text="Owes a debt", review_on=timezone.localdate(), created_by=w.cw_a
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    contact = Contact.objects.create(
        referral=r, when=timezone.now() - timedelta(days=1), kind="session", attendance="attended",
        recorded_by=w.cw_a,
    )
    rescue = Rescue.objects.create(referral=r, county="Norfolk", police_force="Norfolk", rescued_on=yesterday)
    episode = MissingEpisode.objects.create(referral=r, started_on=yesterday)
    closed = make_case(w, provider=w.pa, days_ago=20)
    closed_need = Need.objects.create(referral=closed, category="exit", desired_outcome="Stays in school")
    NeedOutcome.objects.create(
        closure=base.close_case(w, closed, yesterday), need=closed_need, achievement="achieved"
    )
    return {
        "case": r, "need": need, "note": note, "contact": contact, "rescue": rescue, "episode": episode,
        "closed": closed, "closed_need": closed_need, "pb": w.pb,
    }


def _closing(need, closed_on: str, **over) -> dict:
    return {"closed_on": closed_on, "reason": "completed", "engaged": "on", "involvement": "ceased",
            "in_eet": "yes", "fewer_missing": "yes", "nrm_outcome": "none", f"outcome_{need.pk}": "achieved",
            **over}


# (name, who, url name, data, field, words in the message)
BAD = [
    ("dob 9", "referrer", "new", lambda c: referral_post(date_of_birth=_dob_making(9)), "date_of_birth",
     "makes them 9"),
    ("dob 26", "referrer", "new", lambda c: referral_post(date_of_birth=_dob_making(26)), "date_of_birth",
     "makes them 26"),
    ("dob 9 in a draft", "referrer", "new",
     lambda c: referral_post(submit=None, draft="1", date_of_birth=_dob_making(9)), "date_of_birth", "MASH"),
    ("dob in the future", "referrer", "new", lambda c: referral_post(date_of_birth=_day(3)), "date_of_birth",
     "in the past"),
    ("not a date", "referrer", "new", lambda c: referral_post(date_of_birth="31/02/2010"), "date_of_birth",
     "real date"),
    ("outside London", "referrer", "new", lambda c: referral_post(borough="W06000015"), "borough",
     "Choose one of the options listed"),
    ("no sign", "referrer", "new", lambda c: referral_post(ind_county_lines=None), "ind_county_lines",
     "at least one"),
    ("no name", "referrer", "new", lambda c: referral_post(name=""), "name", "full name"),
    ("decline without a reason", "mgr_a", "decide", lambda c: {"decision": "decline"}, "decline_reason",
     "reason"),
    ("contact before the referral", "cw_a", "contact",
     lambda c: {"when": _day(-25) + "T10:00", "kind": "session", "attendance": "attended"}, "when",
     "before the referral"),
    ("contact in the future", "cw_a", "contact",
     lambda c: {"when": _day(2) + "T10:00", "kind": "session", "attendance": "attended"}, "when",
     "future"),
    ("contact without attendance", "cw_a", "contact",
     lambda c: {"when": _day(-1) + "T10:00", "kind": "session"}, "attendance",
     "Choose whether they attended"),
    ("rescue without a police force", "cw_a", "rescue",
     lambda c: {"county": "Norfolk", "rescued_on": _day(-2)}, "police_force", "Choose the police force"),
    ("need without an outcome", "cw_a", "need", lambda c: {"category": "exit", "desired_outcome": ""},
     "desired_outcome", "desired outcome"),
    ("risk reviewed in the past", "cw_a", "risk",
     lambda c: {"level": "low", "text": "x", "review_on": _day(-1)}, "review_on", "today or later"),
    ("rescue back before found", "cw_a", "rescue",
     lambda c: {"county": "Norfolk", "police_force": "Norfolk", "rescued_on": _day(-2),
                "returned_on": _day(-3)},
     "returned_on", "before the rescue"),
    ("missing ended before it began", "cw_a", "missing",
     lambda c: {"started_on": _day(-2), "ended_on": _day(-4)}, "ended_on", "before the start"),
    ("closure before the referral", "cw_a", "close",
     lambda c: {"closed_on": _day(-21), "reason": "completed", "engaged": "on", "involvement": "ceased",
                "in_eet": "yes", "fewer_missing": "yes", "nrm_outcome": "none",
                f"outcome_{c['case'].need_records.get().pk}": "achieved"},
     "closed_on", "before the referral"),
    ("closure without an outcome per need", "cw_a", "close",
     lambda c: {"closed_on": _day(0), "reason": "completed", "engaged": "on",
                "involvement": "ceased", "in_eet": "yes", "fewer_missing": "yes", "nrm_outcome": "none"},
     "outcome_{need}", "achieved, partly achieved or not achieved"),
    ("change without a reason", "cw_a", "update",
     lambda c: {"borough": "E09000005", "gender": "male", "missing_episodes": "3"}, "reason", "reason"),
    ("restricted to nobody", "mgr_a", "restrict", lambda c: {"restricted": "on"}, "allowed_staff",
     "at least one"),
    ("a staff id past any integer column", "mgr_a", "restrict",
     lambda c: {"restricted": "on", "allowed_staff": "99999999999999999999"}, "allowed_staff",
     "Choose one of the options listed"),
    ("review that remains without a date", "cw_a", "review_risk",
     lambda c: {"outcome": "remains", "level": "high", "note": "Still owes money"}, "next_review_on",
     "next review"),
    ("review more than a year ahead", "cw_a", "review_risk",
     lambda c: {"outcome": "remains", "level": "high", "note": "Still owes money",
                "next_review_on": _day(400)},
     "next_review_on", "once a year"),
    # the decision, the reassignment and the referral's other checks
    ("decline for Other without a note", "mgr_a", "decide",
     lambda c: {"decision": "decline", "decline_reason": "other"}, "note", "Say why"),
    ("reassignment without a reason", "mgr_a", "allocate", lambda c: {"provider": str(c["pb"].pk)}, "reason",
     "Give the reason for moving"),
    ("NRM decision without its date", "referrer", "new",
     lambda c: referral_post(nrm_referred="on", nrm_referred_on=_day(-10), rg_decision="positive"),
     "rg_decided_on", "date of the decision"),
    ("consent as the basis without consent", "referrer", "new",
     lambda c: referral_post(lawful_basis="consent", consent="refused"), "lawful_basis", "Consent cannot"),
    ("intelligence for a borough without a council", "referrer", "new",
     lambda c: referral_post(kind="intelligence", borough="E09000007"), "borough",
     "does not receive intelligence"),
    # the corrections: the same checks as when recorded, and a reason; the record is left as it was
    ("contact corrected without a reason", "cw_a", "change_contact",
     lambda c: {"when": _day(-2) + "T10:00", "kind": "session", "attendance": "late"}, "reason",
     "reason for the correction"),
    ("contact corrected into the future", "cw_a", "change_contact",
     lambda c: {"when": _day(2) + "T10:00", "kind": "session", "attendance": "attended",
                "reason": "typed the wrong day"}, "when", "future"),
    ("rescue corrected back before found", "cw_a", "change_rescue",
     lambda c: {"county": "Kent", "police_force": "Kent", "rescued_on": _day(-2), "returned_on": _day(-3),
                "reason": "typed the wrong day"}, "returned_on", "before the rescue"),
    ("missing episode corrected to end before it began", "cw_a", "change_missing",
     lambda c: {"started_on": _day(-2), "ended_on": _day(-4), "reason": "found on the Monday"}, "ended_on",
     "before the start"),
    ("need corrected without an outcome", "cw_a", "change_need",
     lambda c: {"category": "exit", "desired_outcome": "", "reason": "worded badly"}, "desired_outcome",
     "desired outcome"),
    ("risk corrected to a review in the past", "cw_a", "change_risk",
     lambda c: {"level": "low", "text": "Owes less", "review_on": _day(-1), "reason": "paid some back"},
     "review_on", "today or later"),
    ("closure corrected to before the referral", "cw_a", "change_closure",
     lambda c: _closing(c["closed_need"], _day(-21), reason_for_change="typed the wrong year"), "closed_on",
     "before the referral"),
    ("closure corrected without a reason", "cw_a", "change_closure",
     lambda c: _closing(c["closed_need"], _day(-2)), "reason_for_change", "reason for the correction"),
    ("closure corrected without an outcome", "cw_a", "change_closure",
     lambda c: _closing(c["closed_need"], _day(-2), reason_for_change="typed the wrong day",
                        **{f"outcome_{c['closed_need'].pk}": ""}),
     "outcome_{closed_need}", "achieved, partly achieved or not achieved"),
]


@pytest.mark.parametrize("name,who,url,data,field,says", BAD, ids=[b[0] for b in BAD])
def test_every_form_refuses_bad_input_next_to_the_field_and_writes_nothing(
    w, name, who, url, data, field, says
):
    c = _cases(w)
    r = c["case"]
    if url == "decide":
        r = make_case(w, status="submitted")
    args = {
        "new": [],
        "review_risk": [r.pk, c["note"].pk],
        "change_contact": [r.pk, c["contact"].pk],
        "change_rescue": [r.pk, c["rescue"].pk],
        "change_missing": [r.pk, c["episode"].pk],
        "change_need": [r.pk, c["need"].pk],
        "change_risk": [r.pk, c["note"].pk],
        "change_closure": [c["closed"].pk],
    }.get(url, [r.pk])
    before = snapshot()
    resp = client(getattr(w, who)).post(reverse(f"referrals:{url}", args=args), data(c))
    html = resp.content.decode()
    assert resp.status_code == 400, (name, resp.status_code)
    field = field.format(need=c["need"].pk, closed_need=c["closed_need"].pk)
    assert says in error_next_to(html, field), (name, error_next_to(html, field))
    # nothing half-written; the page sent back shows the case, so it is a read: exactly one audit row
    reads = 0 if url == "new" else 1
    assert snapshot() == {**before, "AuditLog": before["AuditLog"] + reads}, name
    assert reads == 0 or AuditLog.objects.order_by("-pk").first().action == "view case"
    assert "<title>Error:" in html


def test_allocation_to_a_full_provider_is_a_message_next_to_the_field_and_writes_nothing(w):
    make_case(w, provider=w.pa), make_case(w, provider=w.pa)  # capacity 2: full
    r = make_case(w, status="accepted")
    before = snapshot()
    resp = client(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), {"provider": w.pa.pk})
    assert resp.status_code == 400
    assert "at capacity (2 of 2 open cases)" in error_next_to(resp.content.decode(), "provider")
    assert snapshot() == {**before, "AuditLog": before["AuditLog"] + 1}  # the page sent back: one read


def test_a_break_glass_reason_too_short_is_refused_next_to_the_field(w):
    r = make_case(w, provider=w.pa)
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    before = snapshot()
    resp = client(w.cw_a).post(reverse("referrals:break_glass", args=[r.pk]), {"reason": "need it"})
    assert resp.status_code == 400 and "at least 10" in error_next_to(resp.content.decode(), "reason")
    assert snapshot() == before


# -------------------------------------------------------------------------------------- risk review
def test_a_risk_that_remains_is_reviewed_and_carried_on_by_a_new_note(w):
    c = _cases(w)
    r, note = c["case"], c["note"]
    cw = client(w.cw_a)
    page = cw.get(reverse("referrals:case", args=[r.pk])).content.decode()
    review_url = reverse("referrals:review_risk", args=[r.pk, note.pk])
    assert review_url in page and "due" in page.split('id="risks"')[1]
    listed = cw.get(reverse("referrals:cases")).content.decode().split('id="cases"')[1]
    assert "Risk review due" in listed
    before = AuditLog.objects.count()
    form = cw.get(review_url)
    assert form.status_code == 200 and "Owes a debt" in form.content.decode()
    assert AuditLog.objects.count() == before + 1  # the page shows the note: one audit row
    assert AuditLog.objects.first().action == "view case"
    nxt = _day(30)
    resp = cw.post(review_url, {"outcome": "remains", "level": "medium", "note": "Debt paid in part",
                                "next_review_on": nxt})
    assert resp.status_code == 302
    note.refresh_from_db()
    assert note.reviewed_at is not None and note.reviewed_by == w.cw_a
    assert note.review_note == "Debt paid in part"
    follow = note.follow_up
    assert (follow.level, follow.text, follow.review_on.isoformat()) == ("medium", "Owes a debt", nxt)
    assert follow.reviewed_at is None and follow.created_by == w.cw_a
    row = AuditLog.objects.get(action="review risk note")
    assert row.user == w.cw_a and row.object_id == str(r.pk)
    found = f"remains, medium, next review in {nxt[:7]}"  # the month only (review 4, 8)
    assert row.purpose == f"{r.reference}: casework: risk note {note.pk} reviewed ({found})"
    assert NAME not in row.purpose
    # reviewed once: the page is gone, the case page says so, the list no longer flags it
    assert cw.get(review_url).status_code == 404
    assert cw.post(review_url, {"outcome": "ended", "note": "Again and again"}).status_code == 404
    page = cw.get(reverse("referrals:case", args=[r.pk])).content.decode().split('id="risks"')[1]
    assert "Debt paid in part" in page and "review by" in page
    assert "Risk review due" not in cw.get(reverse("referrals:cases")).content.decode()
    # the command lists the new note when it comes due, not the reviewed one
    assert "0 risk note(s) due" in base._out("referrals_reviews")
    assert "1 risk note(s) due" in base._out("referrals_reviews", "--on", nxt)


def test_a_risk_that_no_longer_applies_is_closed_by_its_review(w):
    c = _cases(w)
    r, note = c["case"], c["note"]
    resp = client(w.mgr_a).post(
        reverse("referrals:review_risk", args=[r.pk, note.pk]), {"outcome": "ended", "note": "Debt cleared"}
    )
    assert resp.status_code == 302
    note.refresh_from_db()
    assert note.reviewed_at and note.follow_up is None and RiskNote.objects.count() == 1
    assert AuditLog.objects.get(action="review risk note").purpose.endswith("(no longer applies)")
    resp = client(w.cw_a).get(reverse("referrals:case", args=[r.pk])).content.decode()
    assert "no longer applies" in resp.split('id="risks"')[1]


def test_only_the_cases_own_staff_review_its_risk_notes(w):
    c = _cases(w)
    r, note = c["case"], c["note"]
    other = make_case(w, provider=w.pb)
    url = reverse("referrals:review_risk", args=[r.pk, note.pk])
    data = {"outcome": "ended", "note": "Debt cleared"}
    refused = ((w.cw_b, 404), (w.mgr_b, 404), (w.referrer, 403), (w.council_brent, 403), (w.analyst, 403))
    for u, code in refused:
        assert client(u).get(url).status_code == code, u
        assert client(u).post(url, data).status_code == code, u
    # a note named under another case's id (one the user may open) is not found either
    wrong = reverse("referrals:review_risk", args=[other.pk, note.pk])
    assert client(w.cw_b).post(wrong, data).status_code == 404
    assert client(w.cw_a).post(reverse("referrals:review_risk", args=[r.pk, 987654]), data).status_code == 404
    # restricted: the review needs the glass broken first, like every casework write
    r.restricted = True
    r.save()
    r.allowed_staff.add(w.cw_a2)
    assert client(w.cw_a).post(url, data).status_code == 403
    note.refresh_from_db()
    assert note.reviewed_at is None and not AuditLog.objects.filter(action="review risk note").exists()


# --------------------------------------------------------------------------------------- search
def test_the_caseload_search_is_a_post_and_a_name_in_a_url_finds_nothing(w):
    r = make_case(w, provider=w.pa)
    other = make_case(w, provider=w.pa, name="Someone Else")
    c = client(w.cw_a)
    got = c.get(reverse("referrals:cases"), {"q": "Zebedee"}).content.decode().split('id="cases"')[1]
    assert r.reference in got and other.reference in got  # the query string is ignored: the whole list
    assert not AuditLog.objects.filter(action="search").exists()
    page = c.get(reverse("referrals:cases")).content.decode()
    assert '<form method="post"' in page and "csrfmiddlewaretoken" in page.split('role="search"')[1]
    got = c.post(reverse("referrals:cases"), {"q": "Zebedee"}).content.decode().split('id="cases"')[1]
    assert r.reference in got and other.reference not in got
    assert AuditLog.objects.get(action="search").purpose == "casework: search of the caseload, 1 found"
