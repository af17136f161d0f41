"""Every respondent page in the chosen language and direction, with the language switch on each."""

from __future__ import annotations

import pytest
from survey_helpers import client

pytestmark = pytest.mark.django_db


def test_each_page_is_in_the_chosen_language_and_direction(version):
    c = client()
    r = c.get("/survey/")
    html = r.content.decode()
    for lang in version.questionnaire.languages:
        assert f'href="/survey/{lang}/"' in html
    assert c.post("/survey/ur/", {"code": ""}).status_code == 302
    for url in ("/survey/ur/", "/survey/ur/code/", "/survey/ur/q/1/", "/survey/ur/q/6/",
                "/survey/ur/resume/"):
        html = c.get(url).content.decode()
        assert '<html lang="ur" dir="rtl"' in html, url
        assert 'id="translation-status" data-review="not_reviewed"' in html, url
        assert 'href="/survey/en/' in html, url  # the language can be changed on every page
    assert '<html lang="en" dir="ltr"' in c.get("/survey/en/q/1/").content.decode()
    assert "translation-status" not in c.get("/survey/en/q/1/").content.decode()
