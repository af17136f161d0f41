"""Rescue and Response: the management commands (the risk reviews due, the subject access search)."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from factories import user
from referrals_base import NAME, _out, make_case

from vru.web.accounts.models import AuditLog
from vru.web.referrals import services
from vru.web.referrals.models import (
    RiskNote,
    YoungPerson,
)

pytestmark = pytest.mark.django_db


def test_the_reviews_command_lists_risk_notes_that_are_due(w):
    r = make_case(w, provider=w.pa)
    today = timezone.localdate()
    RiskNote.objects.create(referral=r, level="high", text="x", review_on=today, created_by=w.cw_a)
    RiskNote.objects.create(
        referral=r, level="low", text="y", review_on=today + timedelta(days=30), created_by=w.cw_a
    )
    out = _out("referrals_reviews")
    assert out.count(r.reference) == 1 and "1 risk note(s) due" in out and NAME not in out
    assert "2 risk note(s) due" in _out("referrals_reviews", "--on", (today + timedelta(days=31)).isoformat())


def test_the_data_protection_officers_search_finds_every_referral_in_any_state_and_audits_each(w, tmp_path):
    import os
    from io import StringIO

    from django.core.management import call_command

    from vru.web.referrals.models import SubjectAccessRequest, YoungPerson

    name = "Ottoline Searchable"
    made = [
        make_case(w, provider=w.pa, name=name),
        make_case(w, status="declined", name=name),
        make_case(w, status="submitted", name=name),
        make_case(w, status="submitted", kind="intelligence", name=name),
        make_case(w, status="draft", name=name),
    ]
    other = make_case(w, name="Someone Else")
    dob = YoungPerson.objects.get(referral=made[0]).date_of_birth.isoformat()
    dpo = user("dpo@example.org", "provider manager")  # subject access's permission
    nobody = user("nobody.special@example.org", "caseworker")  # an active account without it
    out = tmp_path / "sar.json"
    # the name and date of birth come on standard input, one a line, never on the command line (review 4, 9)
    person = f"  ottoline   SEARCHABLE \n{dob}\n"
    args = ["--user", dpo.email]
    call_command(
        "referrals_subject_access",
        *args,
        "--reason",
        "Letter of 3 May, ref DP-7",
        "--out",
        str(out),
        stdin=StringIO(person),
        stderr=StringIO(),
    )
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    data = json.loads(out.read_text())
    assert sorted(i["referral"][0]["reference"] for i in data["referrals"]) == sorted(
        r.reference for r in made
    )
    sar = SubjectAccessRequest.objects.get()
    assert sar.user == dpo and sar.referrals.count() == 5
    rows = AuditLog.objects.filter(action="subject access export (DPO)")
    assert sorted(rows.values_list("object_id", flat=True)) == sorted(str(r.pk) for r in made)
    assert all(f"request {sar.pk}" in a.purpose and "DP-7" not in a.purpose for a in rows)
    assert not AuditLog.objects.filter(object_id=str(other.pk)).exists()
    for bad, says, given_person in (
        (["--reason", "short"], "--reason", person),
        (["--reason", "..............."], "in words", person),
        (["--reason", "A proper reason"], "date of birth", "Ottoline Searchable\n3 May\n"),
        (["--reason", "A proper reason"], "name", f"   \n{dob}\n"),
        (["--reason", "A proper reason", "--user", "nobody@example.org"], "--user", person),
        (["--reason", "A proper reason", "--user", nobody.email], "may not answer", person),
        (["--reason", "A proper reason", "--name", "Ottoline Searchable"], "command line", person),
        (["--reason", "A proper reason", "--dob", dob], "command line", person),
    ):
        given = dict(zip(args[::2], args[1::2], strict=True))
        given.update(dict(zip(bad[::2], bad[1::2], strict=True)))
        with pytest.raises(CommandError, match=says) as err:
            call_command(
                "referrals_subject_access",
                *[x for kv in given.items() for x in kv],
                stdin=StringIO(given_person),
                stdout=StringIO(),
            )
        assert "Ottoline" not in str(err.value) and dob not in str(err.value)  # never echoed back
    assert SubjectAccessRequest.objects.count() == 1  # nothing of the refused ones written
    # erasure blanks the request's reason
    services.anonymise(made[1])
    sar.refresh_from_db()
    assert sar.reason == "[erased]"


# ----------------------------------------------------------------- 9: subject access search at a prompt
def test_the_subject_access_search_prompts_for_the_person_without_echo(w, monkeypatch, tmp_path):
    import getpass

    make_case(w, status="submitted", name="Ottoline Prompted")
    dob = YoungPerson.objects.get().date_of_birth.isoformat()
    dpo = user("dpo4@example.org", "provider manager")
    asked = []

    def fake(prompt):
        asked.append(prompt)
        return "Ottoline Prompted" if "name" in prompt.lower() else dob

    class Terminal(StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(getpass, "getpass", fake)
    out = tmp_path / "sar.json"
    call_command(
        "referrals_subject_access", "--user", dpo.email, "--reason", "Letter of 4 May, ref DP-9",
        "--out", str(out), stdin=Terminal(), stderr=StringIO(),
    )
    assert asked == ["Full name: ", "Date of birth (YYYY-MM-DD): "]
    assert "Ottoline Prompted" in out.read_text()
