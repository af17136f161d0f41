"""Keep contact details out of what adults see of a young person (the nickname, the note to a provider).

:func:`contact_details` finds phone numbers, email addresses, social-media handles and web addresses,
including their usual disguises: spaces, dots, dashes and brackets inside a number, digits written as
words ("oh seven seven oh", "double seven", mixed with digits), letter O for zero, full-width and other
scripts' digits, zero-width and other invisible characters, "at"/"dot" for "@"/".".

The text is normalised first (:func:`normalise`: Unicode NFKC, invisible characters removed, every
decimal digit as ASCII, lower case, digit words as digits), then matched. This is a safeguard, not a
guarantee: a determined person can always find a new disguise, so moderation and the providers' own
safeguarding duties remain (docs/web-opportunities.md).
"""

from __future__ import annotations

import re
import unicodedata

DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "nought": "0", "nil": "0", "one": "1", "two": "2",
               "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_WORD = "|".join(sorted(DIGIT_WORDS, key=len, reverse=True))
# a word is a digit word when no letter touches it ("0seven7", "oh-seven"; not "someone", "often")
_REPEAT = re.compile(rf"(?<![a-z])(double|triple)[\s-]*({_WORD}|\d)(?![a-z])")
_DIGIT_WORD = re.compile(rf"(?<![a-z])({_WORD})(?![a-z])")
# a letter o / l / i standing for 0 / 1 inside a number ("O77OO 9OO l23")
_LOOKALIKE = re.compile(r"(?<=\d)[oli]|[oli](?=\d)|(?<=\d[\s.\-])[oli](?=[\s.\-]?\d)")
_LOOKALIKE_DIGIT = {"o": "0", "l": "1", "i": "1"}
# a clock time (09.00, 9:30) or a date (01/02/2025, 1.2.25): never part of a phone number
# Not when another group of digits stands just before it ("07.70 09.00 123" is a number, not a time).
_TIME = re.compile(r"(?<!\d[\s.\-])\b([01]?\d|2[0-3])[.:]([0-5]\d)\b")
_DATE = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})\b")
# money and quantities with a unit: never part of a phone number ("£0.50", "2 x 5ml", "4pm")
# At most six digits, and not just after another group of digits: a unit after a phone number
# ("07700900123s", "07700 900 123 mins") must not hide it.
_AMOUNT = re.compile(r"[£$€]\s*\d{1,6}(?:[.,]\d+)?|(?<!\d[\s.\-])\b\d{1,6}(?:[.,]\d+)?\s*"
                     r"(?:p|pm|am|ml|mg|kg|km|m|cm|mins?|minutes?|hrs?|hours?|yrs?|years?|st|nd|rd|th|s)\b")
# a group of digits, with the "+" of an international number
_GROUP = re.compile(r"(\+\s*)?\d+")
# what may stand between two groups of one number: separators (any but letters and digits, a few of
# them), or a few filler words ("077 009 and then 00123", "first half 07700 second half 900123")
_SEPARATORS = re.compile(r"[^a-z0-9+]{0,6}")
_FILLER = re.compile(r"[^a-z0-9+]{1,6}(?:[a-z']{1,8}[^a-z0-9+]{1,6}){1,3}")

# Cyrillic and Greek letters that look like Latin ones ("ѕnapchat", "instа"), folded for matching only
# (a small table of the common look-alikes, after lower-casing; Unicode TR39's full skeleton would need a
# dependency for little more here)
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ɡ": "g", "з": "3", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ѵ": "v", "ɑ": "a", "ı": "i",
})
# "[@]", "(dot)", "{ . }": a symbol or its word in brackets
_BRACKETED = re.compile(r"[\[({<]\s*(@|at|\.|dot)\s*[\])}>]")

_DOT = r"(?:\.|\bdot\b)"
_TIGHT_DOT = r"(?:\.(?!\s)|\s*\bdot\b)"  # after the word "at", a sentence's full stop is not a dot
_TLD = r"(?:com|org|net|edu|gov|io|info|biz|co\s*" + _DOT + r"\s*uk|org\s*" + _DOT + r"\s*uk|ac\s*" + \
    _DOT + r"\s*uk|uk|ie|fr|de|me)"
_TLD_AFTER_AT = _TLD.replace(_DOT, _TIGHT_DOT).replace("|me)", ")")  # "at work.Me and ..."
# after "@" any mail provider; after the word "at" only names that mean nothing else ("at Sky", "at live
# events" are ordinary)
_PROVIDERS = r"(?:gmail|g\s?mail|googlemail|hotmail|outlook|live|yahoo|icloud|me\.com|aol|proton(?:mail)?|" \
    r"btinternet|sky|virginmedia|mail|gmx|yandex)"
_MAIL_ONLY_PROVIDERS = r"(?:gmail|g\s?mail|googlemail|hotmail|outlook|yahoo|icloud|aol|proton\s?mail|" \
    r"btinternet|virginmedia|gmx|yandex)"
_LOCAL = r"[a-z0-9][a-z0-9._%+\-]*"
_EMAIL = re.compile(
    rf"{_LOCAL}@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"  # plain
    rf"|{_LOCAL}\s*@\s*[a-z0-9\-]+(?:\s*{_DOT}\s*[a-z0-9\-]+)*\s*{_DOT}\s*{_TLD}\b"  # "sam @ gmail . com"
    rf"|{_LOCAL}\s*@\s*{_PROVIDERS}\b"  # "sam@gmail"
    # "sam at gmail dot com", "sam at g mail dot com": the word "at" then a domain (two words at most)
    rf"|{_LOCAL}\s+at\s+(?:[a-z0-9\-]+\s+)?[a-z0-9\-]+(?:{_TIGHT_DOT}\s*[a-z0-9\-]+)*{_TIGHT_DOT}\s*"
    rf"{_TLD_AFTER_AT}\b"
    rf"|{_LOCAL}\s+at\s+{_MAIL_ONLY_PROVIDERS}\b")  # "email sam at gmail"

_LEET = {"a": "a@4", "s": "s5$", "i": "i1!l", "o": "o0", "e": "e3", "t": "t7", "g": "g9", "b": "b8"}


def _leet(name: str) -> str:
    """A platform's name, letters or their look-alike digits and symbols ("5napchat", "sn@pchat"), a
    space allowed between its words ("tik tok")."""
    return "".join(r"\s?" if ch == " " else f"[{re.escape(_LEET.get(ch, ch))}]" for ch in name)


_PLATFORMS = ["snap chat", "snap", "sc", "insta gram", "insta", "ig", "i g", "the gram", "tik tok", "tt",
              "whats app", "wats app", "wa", "telegram", "tg", "discord", "kik", "face book", "fb", "twitter",
              "only fans", "bereal", "you tube", "yt", "twitch", "threads", "signal"]
_P = r"(?<![a-z0-9])(?:" + "|".join(_leet(p) for p in sorted(_PLATFORMS, key=len, reverse=True)) + \
    r")(?![a-z0-9])"
# a handle: a token with a letter and a digit, "_", "." or "#" in it ("sam_9", "sam.j", "sam#1234")
_HANDLE = r"(?=[a-z0-9_.#]*[a-z])(?=[a-z0-9_.#]*[0-9_#]|[a-z0-9_#]+\.[a-z0-9_#])[a-z0-9_.#]{2,}"
_CLAUSE_END = r"\s*(?:$|[.!?;,)\n])"
# ordinary words that are never a handle ("my ig is not public", "heard about it on tiktok")
_NOT_A_NAME = (r"(?:it|its|this|that|these|those|them|they|you|us|we|he|she|him|her|me|i|i'm|im|am|is|are|"
               r"was|were|be|been|not|no|yes|also|too|there|here|about|ad|ads|advert|adverts|post|posts|"
               r"video|videos|something|stuff|anything|everything|all|one|page|group|groups|live|private|"
               r"public|saw|seen|heard|found|read|watched|posted|shared|online|now|again|sometimes|lot)")
_WORD = rf"(?!{_NOT_A_NAME}(?![a-z0-9_.#']))[a-z0-9_.#']{{2,}}"
_SOCIAL = re.compile(
    r"(?:^|[\s(:,;])@[a-z0-9_.]{2,}"  # @handle
    rf"|\b(?:add|find|follow|dm|message|msg|hmu|text|reach|contact)\s+(?:me\s+|us\s+)?(?:on|at|via)\s+{_P}"
    rf"|{_P}\s+me\b"  # "whatsapp me", "snap me"
    rf"|{_P}\s*(?:[:=@]|-+|\bis\b|\b(?:name|handle|id|username)\b)\s*{_HANDLE}"  # "snap - sam_x"
    rf"|{_P}\s*[:=@]\s*{_WORD}{_CLAUSE_END}"  # "ig: samj"
    rf"|\bmy\s+{_P}\s*(?:\b(?:name|handle|id|username)\s*)?(?:is|:|=)?\s*{_WORD}{_CLAUSE_END}"  # "my ig sam"
    rf"|{_P}\s+{_HANDLE}"  # "insta sam.j", "sc sam2009"
    rf"|(?:^|[.!?;,\n(]\s*){_P}\s+{_WORD}{_CLAUSE_END}"  # "snap sammy", a clause of its own
    rf"|(?<![a-z0-9_.#']){_WORD}\s+on\s+{_P}{_CLAUSE_END}")  # "sammy on insta", at the end of a clause
# an address spelt out with spaces between the letters ("s a m @ g m a i l . c o m")
_SPACED_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|co\.uk|org\.uk|"
                           r"ac\.uk|io|me|uk)(?![a-z])")
# web addresses; a bare "word.me" or "word.info" is a sentence run together ("football.Me and ...")
_URL = re.compile(r"https?\s*:\s*/\s*/|\bwww\s*\.|\b(?:wa\.me|t\.me|bit\.ly|linktr\.ee|snapchat\.com|"
                  r"instagram\.com|tiktok\.com|facebook\.com|fb\.com|discord\.gg|x\.com|twitter\.com)\b"
                  r"|\b[a-z0-9\-]{2,}\.(?:com|org|net|io|co\.uk|org\.uk|ly|gg|app|link|xyz)\b(?:/\S*)?"
                  r"|\b[a-z0-9\-]{2,}\s+dot\s+(?:com|org|net|io|co\s+dot\s+uk|org\s+dot\s+uk)\b")


def _plain(text: str) -> str:
    """NFKC, without accents (after NFKD) or invisible characters, every decimal digit as ASCII, lower
    case, Cyrillic and Greek look-alikes as the Latin letters they resemble."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(ch for ch in t if unicodedata.category(ch) not in ("Cf", "Mn", "Me", "Cc") or ch in "\n\t")
    t = unicodedata.normalize("NFKC", t)
    t = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in t)
    return t.casefold().translate(_CONFUSABLES)


def normalise(text: str) -> str:
    """What the text says, with its disguises taken off (see the module's docstring)."""
    t = _BRACKETED.sub(lambda m: "@" if m.group(1) in ("@", "at") else ".", _plain(text))
    for _ in range(2):  # "double oh" -> "oh oh"; a repeat of a repeat is not a thing
        t = _REPEAT.sub(lambda m: " ".join([m.group(2)] * (2 if m.group(1) == "double" else 3)), t)
    t = _DIGIT_WORD.sub(lambda m: DIGIT_WORDS[m.group(1)], t)
    t = re.sub(r"\bplus\s*(?=\d)", "+", t)
    for _ in range(3):  # lookalikes next to lookalikes ("9oo")
        t = _LOOKALIKE.sub(lambda m: _LOOKALIKE_DIGIT[m.group()], t)
    return t


def _is_phone(digits: str, plus: bool, separated: bool, filler: bool) -> bool:
    """Whether ``digits`` (one number's, in order) are a phone number: UK 0 and 9 or 10 digits, or an
    international +CC / 00CC number; without filler words in between, also a UK number without its 0
    or a long plain number (as before)."""
    n = len(digits)
    if filler:  # joined across words: only what is unmistakably a number to call
        if plus:
            return 10 <= n <= 15
        return (digits.startswith("00") and 12 <= n <= 15) or (digits.startswith("0") and 10 <= n <= 11)
    if plus:
        return 8 <= n <= 15  # international, +CC ...
    if digits.startswith("00"):
        return 10 <= n <= 15  # international, 00 CC ...
    if digits.startswith("0"):
        return 10 <= n <= 15  # UK, 0 and 9 or 10 digits (a few more: a number with something added)
    if digits.startswith("44"):
        return 11 <= n <= 13  # UK, without the +
    if digits.startswith("7"):
        return n == 10  # a UK mobile without its 0
    return n >= 9 and not separated  # a long plain number


def _phone_in(text: str) -> bool:
    """Whether a phone number is in ``text`` (normalised, dates, times and amounts taken out): groups of
    digits joined across separators, or across a few filler words between groups of 3 digits or more;
    every run of consecutive groups is tried."""
    groups = list(_GROUP.finditer(text))
    for i, first in enumerate(groups):
        digits, plus = re.sub(r"\D", "", first.group()), first.group(1) is not None
        separated = filler = False
        for prev, nxt in zip(groups[i:], groups[i + 1:] + [None], strict=True):
            if _is_phone(digits, plus, separated, filler):
                return True
            if nxt is None or len(digits) > 15:
                break
            gap = text[prev.end():nxt.start()]
            if nxt.group(1) is not None:
                break  # a "+" starts another number
            if _SEPARATORS.fullmatch(gap):
                separated = separated or gap != ""
            elif (_FILLER.fullmatch(gap) and len(re.sub(r"\D", "", prev.group())) >= 3
                  and len(nxt.group()) >= 3):
                separated = filler = True
            else:
                break
            digits += nxt.group()
    return False


def _drop_dates(text: str) -> str:
    def date(m):
        d, mo = int(m.group(1)), int(m.group(2))
        return " " if (1 <= d <= 31 and 1 <= mo <= 12) or (1 <= mo <= 31 and 1 <= d <= 12) else m.group()

    return _AMOUNT.sub(" ", _TIME.sub(" ", _DATE.sub(date, text)))


def contact_details(text: str) -> str | None:
    """``"phone number"``, ``"email address"``, ``"social media name"`` or ``"web address"`` if ``text``
    holds one (in any disguise this module knows), else None."""
    t = normalise(text)
    if _EMAIL.search(t) or _SPACED_EMAIL.search(re.sub(r"\s+", "", _plain(text))):
        return "email address"
    if _URL.search(t):
        return "web address"
    if _SOCIAL.search(t):
        return "social media name"
    if _phone_in(_drop_dates(t)):
        return "phone number"
    return None
