"""Rescue and Response: every form of the app refuses bad input with a message next to the field and writes
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import referrals_base as base
from django.urls import reverse
from django.utils import timezone
from factories import signed_in
from referrals_base import BRENT, _cases, _day, error_next_to, make_case, referral_post, snapshot

from vru.web.accounts.models import AuditLog
from vru.web.referrals.models import (
    Allocation,
    ChangeRecord,
    Contact,
    MissingEpisode,
    Need,
    Rescue,
    RiskNote,
)

pytestmark = pytest.mark.django_db


def _dob_making(age: int) -> str:
    """A date of birth that makes the person ``age`` today (their birthday 40 days ago)."""
    d = timezone.localdate() - timedelta(days=40)
    return d.replace(year=d.year - age).isoformat()


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
    resp = signed_in(getattr(w, who)).post(reverse(f"referrals:{url}", args=args), data(c))
    html = resp.content.decode()
    assert resp.status_code == 400, (name, resp.status_code)
    field = field.format(need=c["need"].pk, closed_need=c["closed_need"].pk)
    assert says in error_next_to(html, field), (name, error_next_to(html, field))
    # nothing half-written; the page sent back shows the case, so it is a read: exactly one audit row
    reads = 0 if url == "new" else 1
    assert snapshot() == {**before, "AuditLog": before["AuditLog"] + reads}, name
    assert reads == 0 or AuditLog.objects.order_by("-pk").first().action == "view case"
    assert "<title>Error:" in html


# ------------------------------------------------------------------------------ a NUL in every text field
def test_a_nul_character_in_any_field_of_any_form_is_refused_next_to_it_never_a_500(w):
    """PostgreSQL refuses a NUL in a text value (a 500 if it reached the database, as the search's once did):
    every field of every form that takes one, sent with a NUL, is a 400 with the form sent back, and nothing
    is written (run on PostgreSQL by scripts/test-web-postgres.sh; on SQLite too)."""
    from referrals_base import snapshot

    nul = "a\x00b"
    r = make_case(w, provider=w.pa)
    need = Need.objects.create(referral=r, category="exit", desired_outcome="x")
    note = RiskNote.objects.create(
        referral=r, level="low", text="x", review_on=timezone.localdate(), created_by=w.cw_a
    )
    contact = Contact.objects.create(
        referral=r, when=timezone.now(), kind="session", attendance="attended", recorded_by=w.cw_a
    )
    rescue = Rescue.objects.create(
        referral=r, county="K", police_force="Kent", rescued_on=timezone.localdate()
    )
    episode = MissingEpisode.objects.create(referral=r, started_on=timezone.localdate())
    waiting = make_case(w, status="submitted")
    restricted = base.restricted_case(w)
    day = timezone.localdate().isoformat()
    ok_reason = "a valid reason"

    def u(name, *args):
        return reverse(f"referrals:{name}", args=args)

    sends = [
        (w.referrer, u("new"), base.referral_post(**{f: nul}))
        for f in (
            "kind",
            "sector",
            "borough",
            "gender",
            "missing_episodes",
            "name",
            "date_of_birth",
            "consent",
            "lawful_basis",
            "concerns",
            "contact",
            "nrm_referred_on",
        )
    ]
    sends += [
        (w.mgr_a, u("decide", waiting.pk), {"decision": "decline", "decline_reason": "other", "note": nul}),
        (w.mgr_a, u("decide", waiting.pk), {"decision": nul}),
        (w.mgr_a, u("allocate", r.pk), {"provider": nul, "reason": ok_reason}),
        (w.mgr_a, u("allocate", r.pk), {"provider": str(w.pb.pk), "reason": nul}),
        (
            w.cw_a,
            u("contact", r.pk),
            {"when": day + "T09:00", "kind": "session", "attendance": "attended", "note": nul},
        ),
        (w.cw_a, u("contact", r.pk), {"when": nul, "kind": "session", "attendance": "attended"}),
        (w.cw_a, u("need", r.pk), {"category": "exit", "desired_outcome": nul}),
        (w.cw_a, u("risk", r.pk), {"level": "low", "text": nul, "review_on": day}),
        (w.cw_a, u("rescue", r.pk), {"county": nul, "police_force": "Kent", "rescued_on": day}),
        (
            w.cw_a,
            u("rescue", r.pk),
            {"county": "Kent", "police_force": "Kent", "rescued_on": day, "note": nul},
        ),
        (w.cw_a, u("missing", r.pk), {"started_on": nul}),
        (w.cw_a, u("close", r.pk), {**base.closing_post(need, timezone.localdate()), "note": nul}),
        (
            w.cw_a,
            u("update", r.pk),
            {"borough": BRENT, "gender": "male", "missing_episodes": "1", "reason": ok_reason, "name": nul},
        ),
        (
            w.cw_a,
            u("update", r.pk),
            {
                "borough": BRENT,
                "gender": "male",
                "missing_episodes": "1",
                "reason": ok_reason,
                "contact": nul,
            },
        ),
        (
            w.cw_a,
            u("update", r.pk),
            {"borough": BRENT, "gender": "male", "missing_episodes": "1", "reason": nul},
        ),
        (w.mgr_a, u("restrict", r.pk), {"restricted": "on", "allowed_staff": [nul]}),
        (
            w.cw_a,
            u("review_risk", r.pk, note.pk),
            {"outcome": "remains", "level": "low", "note": nul, "next_review_on": day},
        ),
        (
            w.cw_a,
            u("change_contact", r.pk, contact.pk),
            {"when": day + "T09:00", "kind": "session", "attendance": "attended", "reason": nul},
        ),
        (
            w.cw_a,
            u("change_rescue", r.pk, rescue.pk),
            {"county": nul, "police_force": "Kent", "rescued_on": day, "reason": ok_reason},
        ),
        (w.cw_a, u("change_missing", r.pk, episode.pk), {"started_on": day, "reason": nul}),
        (
            w.cw_a,
            u("change_need", r.pk, need.pk),
            {"category": "exit", "desired_outcome": nul, "reason": ok_reason},
        ),
        (
            w.cw_a,
            u("change_risk", r.pk, note.pk),
            {"level": "low", "text": nul, "review_on": day, "reason": ok_reason},
        ),
        (w.cw_a, u("break_glass", restricted.pk), {"reason": "long enough " + nul}),
    ]
    before = snapshot()
    for who, url, data in sends:
        resp = signed_in(who).post(url, data)
        assert resp.status_code == 400, (url, sorted(data), resp.status_code)
    after = snapshot()
    # nothing written but the one read of each case page sent back
    assert {k: v for k, v in after.items() if k != "AuditLog"} == {
        k: v for k, v in before.items() if k != "AuditLog"
    }
    written = AuditLog.objects.order_by("-pk")[: after["AuditLog"] - before["AuditLog"]]
    assert {a.action for a in written} == {"view case"}
    for url in (u("reports") + "?year=%00", "/api/v1/referrals/reports/?year=%00"):
        assert signed_in(w.analyst).get(url).status_code == 404


def test_a_change_a_reassignment_and_a_decline_need_a_reason_in_words(w):
    r = make_case(w, provider=w.pa)
    c = signed_in(w.cw_a)
    upd = {"borough": base.LAMBETH, "gender": "male", "missing_episodes": "0", "reason": "\u200b" * 12}
    resp = c.post(reverse("referrals:update", args=[r.pk]), upd)
    assert resp.status_code == 400 and 'id="id_reason-error"' in resp.content.decode()
    assert not ChangeRecord.objects.exists()
    move = {"provider": w.pb.pk, "reason": "........"}
    resp = signed_in(w.mgr_a).post(reverse("referrals:allocate", args=[r.pk]), move)
    assert resp.status_code == 400 and "in words" in resp.content.decode()
    assert Allocation.objects.filter(referral=r).count() == 1
    waiting = make_case(w, status="submitted")
    decline = {"decision": "decline", "decline_reason": "other", "note": "\u200b\u200b\u200b . . ."}
    resp = signed_in(w.mgr_a).post(reverse("referrals:decide", args=[waiting.pk]), decline)
    assert resp.status_code == 400 and 'id="id_note-error"' in resp.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == "submitted"
