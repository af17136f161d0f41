"""Free text that must say something: a reason, a justification, a finding.

:func:`visible_text` removes the invisible characters (Unicode format characters, category Cf: zero-width
spaces and joiners, direction marks, soft hyphens) and makes every run of spaces (category Z, and tabs) one
space, so that twelve zero-width spaces are an empty answer; :func:`letters` counts the letters (any script)
left, so that ".........." or "- - - - -" is not a reason. :class:`ReasonField` is a form field doing both
before its length checks, with a message next to the field. Used by the referrals and tagging apps.
"""

from __future__ import annotations

import unicodedata

from django import forms

#: a reason needs at least this many letters: "........" or twelve zero-width spaces are not a reason
MIN_REASON_LETTERS = 5


def visible_text(text: str) -> str:
    """``text`` without its invisible characters (category Cf) and with every run of spaces (category Z, and
    tabs) in a line made one space, trimmed: what a reason is kept as. Other control characters (a NUL) stay,
    for the field's own check to refuse."""
    out = "".join(" " if unicodedata.category(ch).startswith("Z") or ch in "\t\r\f\v" else ch
                  for ch in text if unicodedata.category(ch) != "Cf")
    return "\n".join(" ".join(line.split()) for line in out.splitlines()).strip()


#: "letters" with no visible glyph (Unicode Default_Ignorable_Code_Point, category L): the Hangul fillers.
#: The rest of that set is a format character (Cf), a mark (Mn: variation selectors, Mongolian free
#: variation selectors) or unassigned, none of which counts as a letter anyway.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def letters(text: str) -> int:
    """How many letters (Unicode category L: any script) ``text`` holds; spaces, punctuation, symbols, digits
    and invisible characters (the Hangul fillers of :data:`INVISIBLE_LETTERS` included) do not count."""
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L") and ch not in INVISIBLE_LETTERS)


def reason_problem(text: str, min_letters: int = MIN_REASON_LETTERS) -> str | None:
    """Why ``text`` is not a reason in words (None: it is one)."""
    if letters(visible_text(text or "")) < min_letters:
        return f"Write the reason in words: at least {min_letters} letters (not only spaces, dots or symbols)"
    return None


class ReasonField(forms.CharField):
    """A reason in words: cleaned with :func:`visible_text` before any check (so ``min_length`` counts
    visible characters), then it needs ``min_letters`` letters (any script), else a message next to the
    field. It is kept as cleaned."""

    def __init__(self, *args, min_letters: int = MIN_REASON_LETTERS, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_letters = min_letters

    def to_python(self, value):
        value = super().to_python(value)
        return visible_text(value) if value else value

    def validate(self, value):
        super().validate(value)
        short = self.min_length is not None and len(value or "") < self.min_length  # its own message
        if value and not short and letters(value) < self.min_letters:
            raise forms.ValidationError(
                f"Write the reason in words: at least {self.min_letters} letters, not only spaces, dots "
                "or symbols",
                code="no_words",
            )
