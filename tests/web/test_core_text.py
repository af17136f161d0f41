"""vru.web.core.text: reasons in words, shared by the referrals and tagging apps."""

from __future__ import annotations

import pytest
from django import forms

from vru.web.core import text as T


def test_visible_text_drops_format_characters_and_makes_spaces_single():
    assert T.visible_text("a\u200b\u200bb \u2003 c\n d\u00ad") == "ab c\nd"
    assert T.visible_text("\u200b" * 12) == ""
    assert T.visible_text("\ufeff\u2060\u200e\u200f") == ""


def test_letters_count_any_script_not_digits_or_symbols():
    assert T.letters("Ünïcødé 123 ... ---") == 7
    assert T.letters("Ахмед 李") == 6
    assert T.reason_problem("1234567890") is not None
    assert T.reason_problem("Case ref") is None


class _Form(forms.Form):
    reason = T.ReasonField(min_length=10, error_messages={"min_length": "too short"})


@pytest.mark.parametrize("value, error", [
    ("\u200b" * 20, "This field is required."),
    ("\u00a0" * 3 + "ab\u200bc", "too short"),
    (". . . . . . . .", "Write the reason in words"),
    ("12345678901234", "Write the reason in words"),
])
def test_the_field_refuses_invisible_or_wordless_reasons_next_to_itself(value, error):
    f = _Form({"reason": value})
    assert not f.is_valid()
    assert error in f.errors["reason"][0]


def test_the_field_keeps_the_cleaned_text():
    f = _Form({"reason": "  Crime\u200b ref\u2003 01/234  "})
    assert f.is_valid(), f.errors
    assert f.cleaned_data["reason"] == "Crime ref 01/234"


def test_the_referrals_app_uses_the_shared_field():
    from vru.web.referrals import forms as referral_forms

    assert referral_forms.ReasonField is T.ReasonField


@pytest.mark.parametrize("reason", [
    "चोरी हुई",  # Hindi, "theft happened": 4 letters and 3 vowel signs
    "সাক্ষী",  # Bengali, "witness": 3 letters, 2 vowel signs and a virama
    "பயம் உண்டு",  # Tamil, "there is fear"
])
def test_indic_reasons_count_their_vowel_signs(reason):
    assert T.reason_problem(reason) is None
    assert _Form({"reason": reason + " " + reason}).is_valid()


def test_marks_count_only_on_a_letter():
    assert T.letters("चोरी") == 4
    assert T.letters("e\u0301") == T.letters("\u00e9") == 1  # NFC: an accent typed apart counts once
    assert T.letters(". \u0301\u0301\u0301 1\u0902\u0902 \u093e\u093e") == 0  # on a dot, digit, nothing
    assert T.letters("\u3164\u093e\u093e\u093e\u093e\u093e") == 0  # on a Hangul filler: still invisible
    assert T.letters("a\ufe0f\u0301") == 2  # a variation selector neither counts nor cuts the letter off
    assert T.letters("\u093e\ufe0f" * 5) == 0


@pytest.mark.parametrize("value", [
    "\u3164" * 12, "\u200b\u200d\u2060" * 5, "\ufe0f\u034f" * 10, "\u0301" * 12, "\u115f\u1160\uffa0" * 4,
])
def test_reasons_of_invisible_filler_or_lone_marks_stay_refused(value):
    assert T.reason_problem(value) is not None
    assert not _Form({"reason": value}).is_valid()


@pytest.mark.parametrize("value", ["12345", "12345678901234", "CR/12345/26"])
def test_a_bare_reference_number_is_not_a_reason_and_the_message_says_so(value):
    problem = T.reason_problem(value)
    assert problem is not None and "reference number alone does not say why" in problem
    f = _Form({"reason": value.ljust(10, "0")})
    assert not f.is_valid()
    assert "reference number alone" in f.errors["reason"][0]
    assert T.reason_problem(f"Assault, {value}") is None
