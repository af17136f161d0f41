"""Questionnaires as data (docs/web-survey.md, "Questionnaires").

A questionnaire version is a folder under ``survey/data/`` (``victim-voice-1``): ``questionnaire.json``
(the groups of questions, one group per page, each question's option set) and one ``<language>.json``
per offered language (its name, its text direction, whether a person has reviewed it, and every string).
``load_folder`` reads and checks a folder into one *definition* (a plain dict, stored whole in
:class:`~vru.web.survey.models.QuestionnaireVersion` so that a live version can never change under its
answers). :class:`Questionnaire` answers questions about a definition: the groups, the options of a
question, a string in a language, and which strings are missing (publishing is refused while any is).

Option sets are lists of codes; two come from the platform itself: the crime types are codes of the
harmonised crime taxonomy (``vru.taxonomy``, checked on load) and ``geography:boroughs`` is the 33 London
boroughs (GSS codes, ``vru.geography.boroughs``), shown by their official names in every language
(proper names: they are not translated, and they are the only strings that are not).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from vru.geography.boroughs import BOROUGHS

BOROUGH_SET = "geography:boroughs"
DIRECTIONS = ("ltr", "rtl")
REVIEW = ("original", "reviewed", "not_reviewed")
# The satisfaction scale's top three codes make "satisfied" (the USS headline: completely, very or fairly).
SATISFIED = ("completely_satisfied", "very_satisfied", "fairly_satisfied")
DONT_KNOW = "dont_know"
SOURCE_LANGUAGE = "en"


class QuestionnaireError(ValueError):
    """A questionnaire folder or definition that is not valid; the message names the file and key."""


def data_root() -> Path:
    return Path(str(resources.files("vru.web.survey").joinpath("data")))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise QuestionnaireError(f"{path}: file not found") from exc
    except json.JSONDecodeError as exc:
        raise QuestionnaireError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def load_folder(folder: str | Path) -> dict:
    """Read ``questionnaire.json`` and every offered language's file in ``folder`` into a definition.

    Raises :class:`QuestionnaireError` naming the file and the key for anything malformed: an unknown
    option set, a crime type that is not in the taxonomy, a language file without ``dir``, a question
    without its English text. Missing *translations* are not an error here (a draft may lack them);
    :meth:`Questionnaire.missing_strings` lists them and publishing refuses them.
    """
    folder = Path(folder)
    if not folder.is_absolute() and not folder.exists():
        folder = data_root() / folder
    spec_path = folder / "questionnaire.json"
    spec = _read_json(spec_path)
    for key in ("slug", "number", "languages", "option_sets", "groups"):
        if key not in spec:
            raise QuestionnaireError(f"{spec_path}: missing key {key!r}")
    if SOURCE_LANGUAGE not in spec["languages"]:
        raise QuestionnaireError(f"{spec_path}: languages must include {SOURCE_LANGUAGE!r}")
    from vru.taxonomy import categories

    crime_codes = set(categories()["code"])
    sets: dict[str, list[str]] = {}
    for name, codes in spec["option_sets"].items():
        if codes == BOROUGH_SET:
            sets[name] = list(BOROUGHS)
            continue
        if not isinstance(codes, list) or not codes or len(set(codes)) != len(codes):
            raise QuestionnaireError(f"{spec_path}: option_sets.{name} must be a list of distinct codes")
        if name == "crime_type":
            unknown = sorted(set(codes) - crime_codes)
            if unknown:
                raise QuestionnaireError(f"{spec_path}: option_sets.crime_type: {unknown} are not codes of "
                                         "the crime taxonomy (vru/data/taxonomy.csv)")
        sets[name] = list(codes)
    seen: set[str] = set()
    for gi, group in enumerate(spec["groups"]):
        for qi, q in enumerate(group.get("questions", [])):
            where = f"{spec_path}: groups[{gi}].questions[{qi}]"
            if q.get("key") in seen or not q.get("key"):
                raise QuestionnaireError(f"{where}: missing or repeated key {q.get('key')!r}")
            seen.add(q["key"])
            if not q.get("text") and q.get("options") not in sets:
                raise QuestionnaireError(f"{where}: unknown option set {q.get('options')!r}")
    strings: dict[str, dict[str, str]] = {}
    meta: dict[str, dict[str, str]] = {}
    for lang in spec["languages"]:
        path = folder / f"{lang}.json"
        doc = _read_json(path)
        if doc.get("dir") not in DIRECTIONS:
            raise QuestionnaireError(f"{path}: 'dir' must be one of {DIRECTIONS}")
        if doc.get("review") not in REVIEW:
            raise QuestionnaireError(f"{path}: 'review' must be one of {REVIEW}")
        if not doc.get("name"):
            raise QuestionnaireError(f"{path}: 'name' (the language's own name) is missing")
        meta[lang] = {"name": doc["name"], "dir": doc["dir"], "review": doc["review"]}
        strings[lang] = {k: v for k, v in (doc.get("strings") or {}).items() if isinstance(v, str)}
    definition = {
        "slug": spec["slug"], "number": int(spec["number"]), "title": spec.get("title", spec["slug"]),
        "languages": list(spec["languages"]), "option_sets": sets, "groups": spec["groups"],
        "meta": meta, "strings": strings, "proper_names": {BOROUGH_SET: dict(BOROUGHS)},
        "borough_sets": [n for n, c in spec["option_sets"].items() if c == BOROUGH_SET],
    }
    missing_en = Questionnaire(definition).structural_ids() - set(strings[SOURCE_LANGUAGE])
    if missing_en:
        raise QuestionnaireError(f"{folder / 'en.json'}: strings missing: {sorted(missing_en)}")
    from .pool import SIZE, plain_bound

    if plain_bound(definition) > SIZE:
        raise QuestionnaireError(f"{spec_path}: a response could take {plain_bound(definition)} bytes, more "
                                 f"than a draft or pool file holds ({SIZE}): fewer questions or shorter "
                                 "max_length")
    return definition


@dataclass(frozen=True)
class Question:
    key: str
    group: str
    options: tuple[str, ...]  # empty for the free-text question
    required: bool
    text: bool
    max_length: int
    stage: bool
    right: int | None
    widget: str
    option_set: str


class Questionnaire:
    """A definition (see :func:`load_folder`) and what the pages and the results need from it."""

    def __init__(self, definition: dict):
        self.d = definition

    @property
    def languages(self) -> list[str]:
        return self.d["languages"]

    @cached_property
    def groups(self) -> list[str]:
        return [g["key"] for g in self.d["groups"]]

    @cached_property
    def questions(self) -> dict[str, Question]:
        out = {}
        for g in self.d["groups"]:
            for q in g["questions"]:
                opts = () if q.get("text") else tuple(self.d["option_sets"][q["options"]])
                out[q["key"]] = Question(
                    key=q["key"], group=g["key"], options=opts, required=bool(q.get("required")),
                    text=bool(q.get("text")), max_length=int(q.get("max_length", 2000)),
                    stage=bool(q.get("stage")), right=q.get("right"), widget=q.get("widget", "radios"),
                    option_set=q.get("options", ""))
        return out

    def group_questions(self, group: str) -> list[Question]:
        return [q for q in self.questions.values() if q.group == group]

    def direction(self, lang: str) -> str:
        return self.d["meta"][lang]["dir"]

    def language_name(self, lang: str) -> str:
        return self.d["meta"][lang]["name"]

    def review(self, lang: str) -> str:
        return self.d["meta"][lang]["review"]

    def text(self, lang: str, string_id: str, **fmt) -> str:
        """The string in ``lang`` (English when a draft lacks it; a published version lacks none)."""
        s = self.d["strings"].get(lang, {}).get(string_id) or self.d["strings"][SOURCE_LANGUAGE][string_id]
        return s.format(**fmt) if fmt else s

    def has_text(self, string_id: str) -> bool:
        return string_id in self.d["strings"][SOURCE_LANGUAGE]

    def option_label(self, lang: str, question: Question, code: str) -> str:
        if question.option_set in self.d.get("borough_sets", []):
            return self.d["proper_names"][BOROUGH_SET][code]
        return self.text(lang, f"o.{code}")

    def structural_ids(self) -> set[str]:
        """The strings the questions themselves need: each group's title, each question's text, each
        option's label (boroughs excepted: proper names)."""
        ids = {f"g.{g}" for g in self.groups}
        for q in self.questions.values():
            ids.add(f"q.{q.key}")
            if q.option_set not in self.d.get("borough_sets", []):
                ids.update(f"o.{c}" for c in q.options)
        return ids

    def missing_strings(self) -> dict[str, list[str]]:
        """For each offered language, the strings (every string the English file has) that it lacks or
        leaves empty; empty dict when nothing is missing."""
        wanted = set(self.d["strings"][SOURCE_LANGUAGE]) | self.structural_ids()
        out = {}
        for lang in self.languages:
            have = {k for k, v in self.d["strings"].get(lang, {}).items() if v.strip()}
            gap = sorted(wanted - have)
            if gap:
                out[lang] = gap
        return out
