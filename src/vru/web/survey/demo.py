"""Synthetic survey responses with known satisfaction rates (docs/web-survey.md, "Demo data").

No real victim's answer is ever in the demo or the tests. :func:`generate` writes ``n`` responses for one
ISO year with, for each stage, *exactly* ``round(rate * rated)`` satisfied answers among those who gave a
rating (the rest spread over the other points of the scale), so that the results can be checked against a
hand computation; it returns the answers it wrote. :func:`seed` (``vru serve``'s demo) loads and publishes
the questionnaire and writes two years of responses once.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction

from . import codes
from .models import Answer, QuestionnaireVersion, Response
from .questionnaire import DONT_KNOW, SATISFIED, load_folder

DEFAULT_FOLDER = "victim-voice-3"  # version 3: the first page says what the database server records
# Known rates for the demo, near published USS figures (Northumbria, 12 months to February 2017).
DEMO_RATES = {"stage_contact": 0.90, "stage_actions": 0.78, "stage_followup": 0.62,
              "stage_treatment": 0.88, "stage_overall": 0.75}
COMMENTS = [
    "Nobody kept me informed after the first call.",
    "The officer was kind and listened to me.",
    "I had to wait hours for anyone to come.",
    "They closed the case with no action even though there was CCTV.",
    "I needed an interpreter and did not get one.",
    "Everything was fine.",
]


def load_and_publish(folder: str = DEFAULT_FOLDER) -> QuestionnaireVersion:
    """The version in ``folder``: created (as a draft, then published) unless it exists."""
    definition = load_folder(folder)
    version = QuestionnaireVersion.objects.filter(slug=definition["slug"],
                                                  number=definition["number"]).first()
    if version is None:
        version = QuestionnaireVersion.objects.create(slug=definition["slug"], number=definition["number"],
                                                      definition=definition)
    if version.status == QuestionnaireVersion.DRAFT:
        version.publish()
    return version


def generate(version: QuestionnaireVersion, n: int, year: int, rates: dict[str, float], *, seed: int = 0,
             dont_know: float = 0.05, comment_share: float = 0.3, verified_share: float = 0.7) -> list[dict]:
    """Write ``n`` synthetic responses completed in ISO year ``year``; return each one's answers (with
    ``_week`` and ``_verified``)."""
    rng = np.random.default_rng(seed)
    q = version.questionnaire
    rows: list[dict] = [{} for _ in range(n)]
    for key, question in q.questions.items():
        if question.stage:
            rate = rates[key]
            dk = rng.random(n) < dont_know
            rated = np.flatnonzero(~dk)
            k = int(round(rate * len(rated)))
            satisfied = set(rng.choice(rated, size=k, replace=False).tolist())
            others = [c for c in question.options if c not in SATISFIED and c != DONT_KNOW]
            for i in range(n):
                if dk[i]:
                    rows[i][key] = DONT_KNOW
                elif i in satisfied:
                    rows[i][key] = str(rng.choice(SATISFIED))
                else:
                    rows[i][key] = str(rng.choice(others))
        elif question.text:
            for i in range(n):
                if rng.random() < comment_share:
                    rows[i][key] = str(rng.choice(COMMENTS))
        elif question.required:
            for i in range(n):
                rows[i][key] = str(rng.choice(question.options))
        else:  # optional: some leave it blank
            for i in range(n):
                if rng.random() < 0.9:
                    rows[i][key] = str(rng.choice(question.options))
    weeks = rng.integers(1, 53, size=n)
    verified = rng.random(n) < verified_share
    with transaction.atomic():
        for i, answers in enumerate(rows):
            r = Response.objects.create(version=version, language=str(rng.choice(q.languages)), iso_year=year,
                                        iso_week=int(weeks[i]), verified=bool(verified[i]))
            Answer.objects.bulk_create([
                Answer(response=r, version=version, question=k, value="" if q.questions[k].text else v,
                       text=v if q.questions[k].text else "") for k, v in answers.items()])
            answers["_week"], answers["_verified"] = int(weeks[i]), bool(verified[i])
    return rows


def seed(stdout=None) -> dict:
    """The demo: the questionnaire published and, once, 400 responses this year and 350 the year before."""
    version = load_and_publish()
    if Response.objects.filter(version__slug=version.slug).exists():
        return {"responses": 0}
    year, _ = codes.iso_week()
    before = {k: max(0.0, v - 0.05) for k, v in DEMO_RATES.items()}
    generate(version, 350, year - 1, before, seed=1)
    generate(version, 400, year, DEMO_RATES, seed=2)
    if stdout:
        stdout.write("survey: questionnaire published, 750 synthetic responses\n")
    return {"responses": 750}
