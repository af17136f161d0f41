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
