"""The questionnaires as data (vru.web.survey.questionnaire): the bundled folders use the platform's
taxonomy and boroughs, and a bad folder is refused naming its file and key."""

from __future__ import annotations

import json

import pytest

from vru.geography.boroughs import BOROUGHS
from vru.taxonomy import categories
from vru.web.survey.questionnaire import Questionnaire, QuestionnaireError, load_folder

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("folder", ["victim-voice-1", "victim-voice-2", "victim-voice-3"])
def test_the_questionnaire_is_data_with_the_platforms_taxonomy_and_boroughs(folder):
    d = load_folder(folder)
    q = Questionnaire(d)
    assert set(q.questions["crime_type"].options) <= set(categories()["code"])
    assert list(q.questions["borough"].options) == list(BOROUGHS) and len(BOROUGHS) == 33
    stages = [k for k, x in q.questions.items() if x.stage]
    assert stages == ["stage_contact", "stage_actions", "stage_followup", "stage_treatment", "stage_overall"]
    assert q.questions["stage_overall"].options == (
        "completely_satisfied", "very_satisfied", "fairly_satisfied", "neither", "fairly_dissatisfied",
        "very_dissatisfied", "completely_dissatisfied", "dont_know")
    rights = [x for x in q.questions.values() if x.right]
    assert [x.right for x in rights] == list(range(1, 13))
    assert all(x.options == ("yes", "no", "not_applicable", "dont_know") for x in rights)
    for key in ("age_band", "sex", "ethnic_group", "disability", "sexual_orientation"):
        assert not q.questions[key].required and "prefer_not_to_say" in q.questions[key].options
    assert q.questions["comment"].text and not q.questions["comment"].required
    assert len(q.languages) >= 7 and {"ar", "ur"} <= set(q.languages)
    assert q.direction("ar") == q.direction("ur") == "rtl" and q.direction("en") == "ltr"
    assert all(q.review(lang) == "not_reviewed" for lang in q.languages if lang != "en")
    assert q.missing_strings() == {}


def test_a_bad_questionnaire_folder_is_refused_naming_file_and_key(tmp_path):
    from vru.web.survey.questionnaire import data_root

    folder = tmp_path / "v"
    folder.mkdir()
    for f in (data_root() / "victim-voice-1").iterdir():
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    spec = json.loads((folder / "questionnaire.json").read_text())
    spec["option_sets"]["crime_type"].append("shoplifting_by_dragons")
    (folder / "questionnaire.json").write_text(json.dumps(spec))
    with pytest.raises(QuestionnaireError, match=r"questionnaire.json: option_sets.crime_type.*dragons"):
        load_folder(folder)
