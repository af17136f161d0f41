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
_TIME = re.compile(r"\b([01]?\d|2[0-3])[.:]([0-5]\d)\b")
_DATE = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})\b")
# digits with up to three separators between them (times and dates are taken out first)
_RUN = re.compile(r"(\+\s*)?\d(?:[\s.\-\u2010-\u2015_()\[\]*~|,/\\]{0,3}\d)+")

_AT = r"(?:@|\(at\)|\[at\]|\{at\}|<at>|\bat\b)"
_DOT = r"(?:\.|\(dot\)|\[dot\]|\{dot\}|<dot>|\bdot\b)"
_TLD = r"(?:com|org|net|edu|gov|io|info|biz|co\s*" + _DOT + r"\s*uk|org\s*" + _DOT + r"\s*uk|ac\s*" + \
    _DOT + r"\s*uk|uk|ie|fr|de|me)"
_PROVIDERS = r"(?:gmail|googlemail|hotmail|outlook|live|yahoo|icloud|me\.com|aol|proton(?:mail)?|" \
    r"btinternet|sky|virginmedia|mail|gmx|yandex)"
_EMAIL = re.compile(
    r"[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"  # plain
    rf"|[a-z0-9][a-z0-9._%+\-]*\s*{_AT}\s*[a-z0-9\-]+(?:\s*{_DOT}\s*[a-z0-9\-]+)*\s*{_DOT}\s*{_TLD}\b"
    rf"|[a-z0-9][a-z0-9._%+\-]*\s*{_AT}\s*{_PROVIDERS}\b")
# platforms: a name that means nothing else is enough ("add me on tiktok", "whatsapp me"); a short or
# everyday one ("snap", "ig", "sc") only with what makes it a handle ("snap: sam", "ig - sam_9", "my ig")
_PLATFORM = (r"snap\s*chat|insta\s*gram|insta|tik\s*tok|whats\s*app|wats\s*app|telegram|discord|kik|facebook"
             r"|twitter|onlyfans|bereal")
_SHORT_PLATFORM = r"snap|sc|ig|tt|wa|fb|yt|tg|threads|twitch|youtube"
_SOCIAL = re.compile(
    r"(?:^|[\s(:,;])@[a-z0-9_.]{2,}"  # @handle
    rf"|\b(?:{_PLATFORM})\b(?=\s*(?:[:\-=@]|[a-z0-9_.]{{2,}}))"
    rf"|\b(?:{_SHORT_PLATFORM})\b(?=\s*(?:[:\-=@]|[a-z0-9]*[0-9_.][a-z0-9_.]*\b|(?:me|name|id|handle)\b))"
    rf"|\b(?:my|on|add me on|dm me on|message me on)\s+(?:{_SHORT_PLATFORM})\b")
# an address spelt out with spaces between the letters ("s a m @ g m a i l . c o m")
_SPACED_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|co\.uk|org\.uk|"
                           r"ac\.uk|io|me|uk)(?![a-z])")
_URL = re.compile(r"https?\s*:\s*/\s*/|\bwww\s*\.|\b(?:wa\.me|t\.me|bit\.ly|linktr\.ee|snapchat\.com|"
                  r"instagram\.com|tiktok\.com|facebook\.com|fb\.com|discord\.gg|x\.com|twitter\.com)\b"
                  r"|\b[a-z0-9\-]{2,}\.(?:com|org|net|io|co\.uk|org\.uk|me|ly|gg|app|link|xyz)\b(?:/\S*)?")


def _plain(text: str) -> str:
    """NFKC, without invisible characters, every decimal digit as ASCII, lower case."""
    t = unicodedata.normalize("NFKC", text)
    t = "".join(ch for ch in t if unicodedata.category(ch) not in ("Cf", "Mn", "Me", "Cc") or ch in "\n\t")
    t = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in t)
    return t.casefold()


def normalise(text: str) -> str:
    """What the text says, with its disguises taken off (see the module's docstring)."""
    t = _plain(text)
    for _ in range(2):  # "double oh" -> "oh oh"; a repeat of a repeat is not a thing
        t = _REPEAT.sub(lambda m: " ".join([m.group(2)] * (2 if m.group(1) == "double" else 3)), t)
    t = _DIGIT_WORD.sub(lambda m: DIGIT_WORDS[m.group(1)], t)
    t = re.sub(r"\bplus\s*(?=\d)", "+", t)
    for _ in range(3):  # lookalikes next to lookalikes ("9oo")
        t = _LOOKALIKE.sub(lambda m: _LOOKALIKE_DIGIT[m.group()], t)
    return t


def _is_phone(run: str) -> bool:
    digits = re.sub(r"\D", "", run)
    n = len(digits)
    if run.startswith("+"):
        return 8 <= n <= 15  # international, +CC ...
    if digits.startswith("00"):
        return 10 <= n <= 15  # international, 00 CC ...
    if digits.startswith("0"):
        return 10 <= n <= 15  # UK, 0 and 9 or 10 digits (a few more: a number with something added)
    if digits.startswith("44"):
        return 11 <= n <= 13  # UK, without the +
    if digits.startswith("7"):
        return n == 10  # a UK mobile without its 0
    return n >= 9 and re.fullmatch(r"\+?\d+", run) is not None  # a long plain number


def _drop_dates(text: str) -> str:
    def date(m):
        d, mo = int(m.group(1)), int(m.group(2))
        return " " if (1 <= d <= 31 and 1 <= mo <= 12) or (1 <= mo <= 31 and 1 <= d <= 12) else m.group()

    return _TIME.sub(" ", _DATE.sub(date, text))


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
    if any(_is_phone(m.group()) for m in _RUN.finditer(_drop_dates(t))):
        return "phone number"
    return None
