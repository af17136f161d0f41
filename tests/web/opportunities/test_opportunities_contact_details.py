"""The opportunities web app: contact details in disguise refused in a nickname or a note to a provider."""

from __future__ import annotations

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


# Contact details as people disguise them to get round a filter. Every one must be refused.
EVASIONS = [
    # a unit or a time right after a number must not hide it (found by the second review)
    "text me 07700900123s", "07700900123p", "Sam 0770 0900 123s", "my number 07700900123th",
    "07700900123 pm", "07700 900 123 mins", "call me 07700900123st", "call 07.70 09.00 123",
    # phone numbers: spaces, dots, dashes, brackets, international forms
    "Sam 0770 0900 123", "call me 0770.090.0123", "07700900123", "07700-900-123", "(0770) 090 0123",
    "+44 7700 900123", "+447700900123", "0044 7700 900 123", "44 7700 900123", "text 7700 900 123",
    "+1 (415) 555-2671", "+33 6 12 34 56 78", "ring 020 7946 0018", "0 7 7 0 0 9 0 0 1 2 3",
    "0-7-7-0-0-9-0-0-1-2-3", "07700/900123", "07700 900 123 (my mum's)", "Sam 07700\u00ad900123",
    # digits as words, mixed with digits, letter O for zero
    "oh seven seven oh oh nine oh oh one two three",
    "zero seven seven zero zero nine zero zero one two three",
    "07 seven 00 nine 00 one 2 3", "07seven00nine00one23", "O77OO9OO123", "07700 9OO 123",
    "oh double seven double oh nine double oh one two three", "my num is 0 7 7 double 0 9 0 0 1 2 3",
    "seven seven oh oh, nine oh oh, one two three",
    "plus four four seven seven double oh nine double oh one two three",
    # other scripts' digits, full width, invisible characters
    "０７７００９００１２３", "٠٧٧٠٠٩٠٠١٢٣",
    "0\u200b7\u200b7\u200b0\u200b0\u200b9\u200b0\u200b0\u200b1\u200b2\u200b3",
    # email addresses
    "sam@gmail.com", "sam at gmail dot com", "sam(at)gmail(dot)com", "sam [at] hotmail [dot] co [dot] uk",
    "sam @ gmail . com", "email sam at gmail", "sam dot j at outlook dot com", "ⓢⓐⓜ@ⓖⓜⓐⓘⓛ.ⓒⓞⓜ",
    "sam＠gmail．com", "s a m @ g m a i l . c o m",
    # social media and links
    "@sam_2009", "snap: samxx", "sc: samxx", "snap - sam_x", "insta sam.j", "ig: samj",
    "add me on tiktok @samj", "whatsapp me", "whats app me", "wa.me/447700900123",
    "wa dot me slash 447700900123", "t.me/samj", "https://instagram.com/samj", "www.example.com/sam",
    "my snapchat is samj", "find me on insta @samj", "discord sam#1234", "fb.com/sam",
    # numbers joined across words and odd separators
    "077 009 and then 00123", "first half 07700 second half 900123", "ring 07700 ... 900123",
    "0;7;7;0;0;9;0;0;1;2;3",
    # look-alike letters (Cyrillic s and a), leet, accents
    "\u0455napchat sammy", "inst\u0430 sammy", "Sn@pchat sammy", "5napchat sammy", "sn\u00e4pchat sammy",
    # addresses in brackets and words
    "sam[@]gmail[.]com", "evil(dot)com", "sam at g mail dot com",
    # a name with a platform, no marker
    "sammy on insta", "snap sammy", "i g sammy",
]


# What young people and providers ordinarily write. None of it may be refused.
ORDINARY = [
    "Sessions 10:00-12:00, 14:00-16:00 on 12/08/2025", "Open 9.30-11.30 and 13.00-15.00",
    "Ages 14-18", "Saturday 10:00-12:00", "2 x 90 minute sessions", "Unit 5, 123 High Street", "SE15 5AB",
    "£5", "£5.50 per session", "Sessions 09.00-12.00, 13.00-16.00", "Dates 01/02/2025 - 03/02/2025",
    "Dates 14.02.2025 to 21.02.2025", "09.00 - 10.30 and 11.00 - 12.30", "Fine at 10.30 on Saturday",
    "I use a wheelchair", "I need a quiet room at the start", "I am deaf in one ear", "Meet at the park at 6",
    "I have asthma; my inhaler is in my bag", "Room 101", "Year 10 at school", "Bus 35 or 345 stops outside",
    "Born in 2009", "I can come on Tuesday and Thursday", "One of my friends is coming too",
    "I'm seven minutes away", "I'd like to bring one friend", "Number 10 bus", "Three sessions a week",
    "I was told about it at school. Looking forward to it", "I need step-free access",
    "4 x 45 minutes, 2 breaks", "Postcode SW9 8QQ", "I can do Monday at 4pm", "Ages 14, 15, 16, 17 and 18",
    "Oh no, I might be late", "I want to try it at home. Co-op is near", "My friend Ig is coming",
    "It was a snap decision", "Please call my name when it's my turn", "Sessions 1-3 of 10",
    "Two of us, both 15", "I'm 16 and in year 11", "Can I bring my own boots? Size 9",
    "I heard about it on the radio", "The O2 arena", "Meet @ the park", "Someone often helps me",
    "Ages 14/15 welcome",
    # a platform's name is not a handle; "at" a place is not an email address
    "I saw this on TikTok and want to join", "found it on Instagram yesterday",
    "My youth worker posted it on Facebook so I signed up", "I'm on whatsapp groups with my team",
    "I use Telegram for school stuff", "My brother goes to the kik boxing club",
    "I'll be at home. Me and my brother will come together", "I'm at school. Me and my friend want to come",
    "I am at college. Info about me: I like art", "I'm at uni. Org stuff is hard",
    "My mum works at Sky so she can drive me", "I want to get into working at live events",
    "I love football.Me and my mates play every day", "I watch YT: mostly gaming", "FB - family breakfast",
    "I love snap - the card game", "I am in sc 2 at school", "I have a twitch - tourettes",
    "my ig is not public",
    # more of what opportunities and notes ordinarily say: times, ages, prices, addresses, postcodes
    "Ages 14-18, Tel no. not needed", "Tel no. not needed", "I'm 16 and at sixth form", "2 x 90 min",
    "Sessions 01, 02, 03, 04 and 05 please", "Tuesdays 6-8pm, £2 a session, ages 13 to 19",
    "Flat 3, 27 Acre Lane, Brixton SW2 5SG", "Meet at 10:30 at 12 Camberwell Road SE5 0EZ",
    "£0.50 per session, 2 x 90 minutes, ages 14 to 18", "Doors open 17.45, starts 18.00, ends 20.30",
    "Bus 35, 45 or 345 to Camberwell Green, then 5 minutes' walk",
    "Can I come to sessions 1,2,3,4,5,6,7,8,9,10?",
    "I'm free 10/11, 11/11 and 12/11", "Runs 18:00 - 20:00, ages 13 - 19", "Shirt size 10-12, shoe size 5",
    "I scored 0 0 1 goals haha", "I'm in room 0.12 on Tuesdays 2-3", "doctor says 2 x 5ml, 3 times a day",
    "Years 2009-2011 welcome", "I have an IG account but it's private", "Heard about it on TikTok",
    "I'm in Year 9 at school, set 1 for maths", "Cost £120 for 10 weeks, or £15 a week",
]


NICKNAMES = ["Sam", "Jo-Ann", "Zoë", "D'Andre", "Priya K", "Kai 2009", "Lol", "Big Mo", "Ola", "Tee"]


def test_the_lists_are_long_enough():
    assert len(EVASIONS) >= 59 + 15 and len(ORDINARY) >= 47 + 19 + 20
    assert len(set(EVASIONS)) == len(EVASIONS) and len(set(ORDINARY)) == len(ORDINARY)


@pytest.mark.parametrize("text", EVASIONS)
def test_a_note_to_the_provider_refuses_contact_details_in_disguise(text):
    from vru.web.opportunities.forms import RegisterForm

    form = RegisterForm({"note": text})
    assert not form.is_valid(), text
    assert "Do not write a phone number, email address" in form.errors["note"][0]


@pytest.mark.parametrize("text", [e for e in EVASIONS if len(e) <= 60])
def test_a_nickname_refuses_contact_details_in_disguise(text):
    from vru.web.opportunities.forms import SignUpForm

    form = SignUpForm({"email": "a@example.org", "nickname": text,
                       "birth_year": timezone.localdate().year - 16})
    assert not form.is_valid() and "must not be an email address" in form.errors["nickname"][0], text


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_notes_are_accepted(text):
    from vru.web.opportunities.forms import RegisterForm

    form = RegisterForm({"note": text})
    assert form.is_valid(), (text, form.errors)


@pytest.mark.parametrize("text", NICKNAMES)
def test_ordinary_nicknames_are_accepted(text):
    from vru.web.opportunities.forms import SignUpForm

    form = SignUpForm({"email": "a@example.org", "nickname": text,
                       "birth_year": timezone.localdate().year - 16})
    assert form.is_valid(), (text, form.errors)


@pytest.mark.parametrize(("nickname", "note"), [("Sam 0770", "0900123"), ("Sam 07700", "900 123 text me")])
def test_a_number_split_across_the_nickname_and_the_note_is_refused(nickname, note):
    """The provider sees the nickname with the note, so they are checked together."""
    from vru.web.opportunities.forms import RegisterForm

    assert RegisterForm({"note": note}).is_valid()  # each part alone is not a number
    form = RegisterForm({"note": note}, nickname=nickname)
    assert not form.is_valid() and "looks like a phone number" in form.errors["note"][0]


@pytest.mark.parametrize("nickname", NICKNAMES)
def test_ordinary_nicknames_with_ordinary_notes_are_accepted(nickname):
    from vru.web.opportunities.forms import RegisterForm

    refused = [n for n in ORDINARY if not RegisterForm({"note": n}, nickname=nickname).is_valid()]
    assert refused == []
