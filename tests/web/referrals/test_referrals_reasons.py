"""Rescue and Response: a reason counts letters of any script, and invisible fillers are not letters."""

from __future__ import annotations

import pytest

from vru.web.core import text
from vru.web.core import text as T

pytestmark = pytest.mark.django_db


def test_the_letters_count_any_script():
    assert text.reason_problem("Zuständig: Jugendamt") is None
    assert text.reason_problem("مراجعة عاجلة") is None
    assert text.reason_problem("\u200b\u200b...!!!") is not None
    assert text.visible_text("a\u200b\u200bb \u2003 c\n d") == "ab c\nd"


@pytest.mark.parametrize("filler", ["\u3164", "\u115f", "\u1160", "\uffa0"])
def test_hangul_fillers_are_not_letters_of_a_reason(filler):
    assert T.letters(filler * 12) == 0
    assert T.reason_problem(filler * 12) is not None
    assert T.reason_problem(filler * 12 + "ab") is not None
    # other default-ignorable characters are marks or format characters: never letters either
    assert T.letters("\u180b\u180c\u180d\u180e\u180f\u034f\ufe0f\U000e0041") == 0
    # a real Hangul reason still counts
    assert T.letters("사건 번호 확인") == 6
    assert T.reason_problem("사건 번호 확인") is None
