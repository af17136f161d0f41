"""How a reason's letters are counted: a referral reference or a word with digits is not words, a letter's
stacked marks count once, the joiners that shape a script are kept, and a Han, Hangul or Kana character
counts as two letters."""

from __future__ import annotations

import unicodedata

import pytest
from django import forms

from vru.web.core import text as T
from vru.web.referrals.models import new_reference


class _Form(forms.Form):
    reason = T.ReasonField(min_length=5)


def test_no_referral_reference_is_a_reason():
    refs = [new_reference() for _ in range(2000)] + ["RR-ABCDEFAB", "rr-abcdefab", "(RR-3BD4C206)."]
    passed = [r for r in refs if T.reason_problem(r) is None]
    assert passed == []
    assert "reference number alone" in T.reason_problem("RR-ABCDEFAB")
    assert not _Form({"reason": "RR-3BD4C206"}).is_valid()


@pytest.mark.parametrize("reason", ["RR-3BD4C206 moved out of area", "Assault, CR/12345/26",
                                    "Seen 3x at school"])
def test_a_reference_with_words_is_a_reason(reason):
    assert T.reason_problem(reason) is None


@pytest.mark.parametrize("value", ["B4 C3 A1 D2 E5 F6", "x1y2z3 q4w5e6", "ab12 cd34 ef56 gh78"])
def test_words_holding_digits_do_not_count(value):
    assert T.reason_letters(value) == 0 and T.reason_problem(value) is not None


@pytest.mark.parametrize("value, count", [
    ("x" + "\u0301" * 6, 2),  # an accent on an accent on ...
    ("a" + "\u20dd" * 4, 2),  # enclosing circles
    ("\u0915" + "\u093c" * 4, 2),  # क and four nuktas
    ("चोरी", 4),  # two letters, each with its vowel sign
])
def test_a_letter_counts_one_mark_at_most(value, count):
    assert T.letters(value) == count


def test_stacked_marks_are_not_a_reason():
    assert T.reason_problem("x" + "\u0301" * 6) is not None
    assert T.reason_problem("ab" + "\u0301" * 8) is not None


@pytest.mark.parametrize("value", [
    "\u0915\u094d\u200d\u0937 \u0939\u0941\u0906",  # a Hindi half-form, क्‍ष
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u0628\u0631\u0648\u0645",  # Persian: می‌خواهم بروم
    "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 at risk",  # an emoji sequence
    "Fire \u2764\ufe0f\u200d\U0001f525 reported",  # a variation selector before the joiner
])
def test_joiners_between_letters_or_symbols_are_kept(value):
    assert T.visible_text(value) == value
    f = _Form({"reason": value})
    assert f.is_valid(), f.errors
    assert f.cleaned_data["reason"] == value


@pytest.mark.parametrize("value, kept", [
    ("\u200dabc def\u200d", "abc def"),
    ("abc \u200d def", "abc def"),
    ("abc\u200d\u200d\u200ddef", "abcdef"),
    ("abc\u200bdef", "abcdef"),
    ("\u200d" * 12, ""),
])
def test_joiners_that_join_nothing_go(value, kept):
    assert T.visible_text(value) == kept


@pytest.mark.parametrize("reason", ["도난 사건", "盗窃案", "盗難事件", "とうなん",
                                    unicodedata.normalize("NFD", "도난 사건")])
def test_han_hangul_and_kana_count_two_letters_each(reason):
    assert T.reason_problem(reason) is None
    assert _Form({"reason": reason}).is_valid()


def test_they_count_two_characters_towards_the_minimum_length_too():
    class Justification(forms.Form):
        reason = T.ReasonField(min_length=10, error_messages={"min_length": "too short"})

    assert T.text_width("盗窃案件 발생") == 13
    assert Justification({"reason": "盗窃案件发生"}).is_valid()  # six characters, a word each
    assert "too short" in Justification({"reason": "盗窃案"}).errors["reason"][0]
    assert "too short" in Justification({"reason": "abcdefg"}).errors["reason"][0]


@pytest.mark.parametrize("value", ["盗", "盗窃", "도난"])
def test_one_or_two_such_characters_are_still_too_few(value):
    assert T.reason_problem(value) is not None
