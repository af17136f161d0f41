"""What several survey test modules share besides fixtures: the respondent's browser (an address, a user
agent and a referrer that must never be stored) and the count of drafts waiting."""

from __future__ import annotations

from django.test import Client

from vru.web.survey import drafts

IP = "203.0.113.77"
UA = "Mozilla/5.0 (AnonTest) UA-9f3c"
REFERER = "https://referrer.example/secret-page"


def client() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=UA, HTTP_REFERER=REFERER)


def n_drafts() -> int:
    return drafts.store().count()
