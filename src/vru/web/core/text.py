"""Free text that must say something: a reason, a justification, a finding.

:func:`visible_text` removes the invisible characters (Unicode format characters, category Cf: zero-width
spaces, direction marks, soft hyphens; the zero-width joiner and non-joiner only where they join nothing)
and makes every run of spaces (category Z, and tabs) one space, so that twelve zero-width spaces are an
empty answer; :func:`reason_letters` counts the letters (any script, with the combining vowel signs of the
Indic scripts) left, so that ".........." or "- - - - -" is not a reason, and neither is a bare reference
number ("12345", "RR-3BD4C206": it names the case, it does not say why; a word holding a digit does not
count). A Han, Hangul or Kana character counts as two letters: one is a syllable or a word ("盗窃案",
theft case, is three). :class:`ReasonField` is a form field doing both before its length checks, with a
message next to the field. Used by the referrals and tagging apps.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core import validators

#: a reason needs at least this many letters: "........" or twelve zero-width spaces are not a reason
MIN_REASON_LETTERS = 5


#: the zero-width non-joiner and joiner: they change how the characters either side are drawn (a Hindi
#: half-form, "क्" ZWJ "ष"; a Persian word with a ZWNJ; an emoji sequence), so they are kept
#: between two of them
JOINERS = frozenset("\u200c\u200d")


def _joinable(ch: str) -> bool:
    """Whether ``ch`` is drawn and may be joined: a letter, a mark or a symbol (an emoji)."""
    return unicodedata.category(ch)[0] in "LMS" and ch not in INVISIBLE_LETTERS


def visible_text(text: str) -> str:
    """``text`` without its invisible characters (category Cf) and with every run of spaces (category Z, and
    tabs) in a line made one space, trimmed: what a reason is kept as. A zero-width joiner or non-joiner
    between two letters, marks or symbols stays (:data:`JOINERS`); elsewhere it joins nothing and goes.
    Other control characters (a NUL) stay, for the field's own check to refuse."""
    out = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category == "Cf":
            if ch in JOINERS and 0 < i < len(text) - 1 and _joinable(text[i - 1]) and _joinable(text[i + 1]):
                out.append(ch)
            continue
        out.append(" " if category.startswith("Z") or ch in "\t\r\f\v" else ch)
    return "\n".join(" ".join(line.split()) for line in "".join(out).splitlines()).strip()


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


#: the characters that count as two letters in a reason (:func:`reason_letters`), by their Unicode names:
#: a Han ideograph is a word or a syllable, a Hangul syllable block a syllable (NFC makes its jamo one), a
#: Kana a syllable; "도난 사건" (theft case) is four, "盗窃案" three
WIDE_LETTER_NAMES = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HANGUL SYLLABLE",
                     "HIRAGANA LETTER", "KATAKANA LETTER", "HALFWIDTH KATAKANA LETTER")

#: a referral's reference (``referrals.models.new_reference``): it names a case, it does not say why
REFERENCE = re.compile(r"\bRR-[0-9A-F]{8}\b", re.IGNORECASE)


def _count(text: str, wide: int = 1) -> int:
    count, mark_room = 0, False  # mark_room: the last visible character was a counted letter
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch in INVISIBLE_MARKS or category == "Cf":
            continue
        if category.startswith("L"):
            mark_room = ch not in INVISIBLE_LETTERS
            if mark_room:
                count += wide if wide > 1 and unicodedata.name(ch, "").startswith(WIDE_LETTER_NAMES) else 1
        elif category.startswith("M"):
            count += mark_room
            mark_room = False
        else:
            mark_room = False
    return count


def letters(text: str) -> int:
    """How many letters ``text`` holds: each letter (Unicode category L: any script) counts, and so does one
    combining mark (category M) following it. In Hindi or Bengali a vowel is often a mark on its consonant
    ("चोरी", theft, is two letters and two vowel signs), so a reason in those scripts is counted as fairly as
    one in Latin letters; a letter's further marks do not count ("x" and six accents is two). The text is put
    in NFC first, so a Latin "é" counts once whether typed as one character or as "e" and an accent.
    Spaces, punctuation, symbols, digits, invisible characters (format characters, :data:`INVISIBLE_LETTERS`,
    :data:`INVISIBLE_MARKS`) and a mark on anything but a letter (a dot, a digit, a space) do not count."""
    return _count(text)


def _is_reference(word: str) -> bool:
    return any(unicodedata.category(ch) == "Nd" for ch in word) or REFERENCE.search(word) is not None


def reason_letters(text: str) -> int:
    """The letters that make ``text`` a reason: :func:`letters`, leaving out each word (split at spaces)
    that holds a digit or is a referral reference (``RR-3BD4C206``, ``CR/12345/26``: they name a case, not
    why), and counting a Han, Hangul or Kana character as two (:data:`WIDE_LETTER_NAMES`)."""
    return sum(_count(word, wide=2) for word in text.split() if not _is_reference(word))


def _no_words_message(text: str, min_letters: int) -> str:
    message = f"Write the reason in words: at least {min_letters} letters"
    if any(_is_reference(word) for word in text.split()):
        return message + " (a reference number alone does not say why)"
    return message + " (not only spaces, dots or symbols)"


def reason_problem(text: str, min_letters: int = MIN_REASON_LETTERS) -> str | None:
    """Why ``text`` is not a reason in words (None: it is one)."""
    cleaned = visible_text(text or "")
    if reason_letters(cleaned) < min_letters:
        return _no_words_message(cleaned, min_letters)
    return None


def text_width(text: str) -> int:
    """How long ``text`` is for a reason's ``min_length``: its characters, a Han, Hangul or Kana character
    counting as two (:data:`WIDE_LETTER_NAMES`), as in :func:`reason_letters`."""
    return sum(2 if unicodedata.name(ch, "").startswith(WIDE_LETTER_NAMES) else 1 for ch in text)


class _MinWidth(validators.MinLengthValidator):
    def clean(self, x):
        return text_width(x)


class ReasonField(forms.CharField):
    """A reason in words: cleaned with :func:`visible_text` before any check (so ``min_length`` counts
    visible characters, a Han, Hangul or Kana character as two: :func:`text_width`), then it needs
    ``min_letters`` letters (any script; :func:`reason_letters`), else a message next to the field. It is
    kept as cleaned."""

    def __init__(self, *args, min_letters: int = MIN_REASON_LETTERS, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_letters = min_letters
        self.validators = [_MinWidth(v.limit_value) if type(v) is validators.MinLengthValidator else v
                           for v in self.validators]

    def to_python(self, value):
        value = super().to_python(value)
        return visible_text(value) if value else value

    def validate(self, value):
        super().validate(value)
        short = self.min_length is not None and text_width(value or "") < self.min_length  # its own message
        if value and not short and reason_letters(value) < self.min_letters:
            raise forms.ValidationError(_no_words_message(value, self.min_letters), code="no_words")
