"""Free text that must say something: a reason, a justification, a finding.

:func:`visible_text` removes the invisible characters (Unicode format characters, category Cf: zero-width
spaces and joiners, direction marks, soft hyphens) and makes every run of spaces (category Z, and tabs) one
space, so that twelve zero-width spaces are an empty answer; :func:`letters` counts the letters (any script,
with the combining vowel signs of the Indic scripts) left, so that ".........." or "- - - - -" is not a
reason, and neither is a bare reference number ("12345": it names the case, it does not say why).
:class:`ReasonField` is a form field doing both before its length checks, with a message next to the field.
Used by the referrals and tagging apps.
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
#: The rest of that set is a format character (Cf, removed by :func:`visible_text`), a mark (Mn: see
#: :data:`INVISIBLE_MARKS`) or unassigned, none of which counts.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")

#: combining marks (category Mn) with no visible glyph (Default_Ignorable_Code_Point): the combining grapheme
#: joiner, the Khmer inherent vowels, the Mongolian free variation selectors and the variation selectors.
#: They never count, even after a letter.
INVISIBLE_MARKS = frozenset(
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0))
)


def letters(text: str) -> int:
    """How many letters ``text`` holds: each letter (Unicode category L: any script) counts, and so does each
    combining mark (category M) that follows a counted letter, directly or after its other marks. In Hindi or
    Bengali a vowel is often a mark on its consonant ("चोरी", theft, is two letters and two vowel signs), so a
    reason in those scripts is counted as fairly as one in Latin letters. The text is put in NFC first, so a
    Latin "é" counts once whether typed as one character or as "e" and an accent. Spaces, punctuation,
    symbols, digits, invisible characters (:data:`INVISIBLE_LETTERS`, :data:`INVISIBLE_MARKS`) and a mark
    on anything but a letter (a dot, a digit, a space) do not count."""
    count, on_letter = 0, False  # on_letter: the last visible character was a counted letter or its mark
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch in INVISIBLE_MARKS:
            continue
        if category.startswith("L"):
            on_letter = ch not in INVISIBLE_LETTERS
        elif not category.startswith("M"):
            on_letter = False
        count += on_letter
    return count


def _no_words_message(text: str, min_letters: int) -> str:
    message = f"Write the reason in words: at least {min_letters} letters"
    if any(unicodedata.category(ch) == "Nd" for ch in text):
        return message + " (a reference number alone does not say why)"
    return message + " (not only spaces, dots or symbols)"


def reason_problem(text: str, min_letters: int = MIN_REASON_LETTERS) -> str | None:
    """Why ``text`` is not a reason in words (None: it is one)."""
    cleaned = visible_text(text or "")
    if letters(cleaned) < min_letters:
        return _no_words_message(cleaned, min_letters)
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
            raise forms.ValidationError(_no_words_message(value, self.min_letters), code="no_words")
