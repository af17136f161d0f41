"""Issue 15, re-review 5: the hub moves a restricted case at another provider, invisible Hangul fillers are no
reason, the hub's moves are told to the losing provider, drafts saved before the upgrade keep their date, a
restricted case's access page stays open to its provider's manager, and the demo seed stays idempotent."""

from __future__ import annotations

import pytest

from vru.web.core import text as T


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
