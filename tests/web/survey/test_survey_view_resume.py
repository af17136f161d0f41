"""The resume page, /survey/<lang>/resume/ (``survey:resume``): a resume code brings a draft back."""

from __future__ import annotations

import pytest
from factories import survey_page
from survey_helpers import client

from vru.web.survey import codes, drafts

pytestmark = pytest.mark.django_db


def test_resume_code_brings_back_the_answers_on_another_device(version):
    a = client()
    a.post("/survey/en/", {"code": ""})
    resume_code = a.cookies["vru_survey"].value
    page = a.get("/survey/en/code/").content.decode()
    assert codes.display(resume_code) in page
    data = survey_page(version, "incident")
    data["version"] = version.pk
    assert a.post("/survey/en/q/1/", data).status_code == 302
    b = client()
    r = b.post("/survey/en/resume/", {"resume_code": codes.display(resume_code).lower()})
    assert r.status_code == 302 and r["Location"].endswith("/survey/en/q/2/")
    assert 'value="E09000001" selected' in b.get("/survey/en/q/1/").content.decode()
    files = drafts.store().files()
    assert [p.name for p in files] == [codes.code_hash(resume_code, "resume")]
    assert not [p for p in files if resume_code.encode() in p.read_bytes() or resume_code in str(p)]
    bad = client().post("/survey/en/resume/", {"resume_code": "ACDE-FGHJ-KMNP"})
    assert bad.status_code == 400 and "not known" in bad.content.decode()
