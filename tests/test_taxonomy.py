"""The harmonised crime taxonomy: the tree, the mapping tables, and docs/taxonomy.md."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from vru import taxonomy

ROOT = Path(__file__).resolve().parents[1]
GEN_SCRIPT = ROOT / "scripts" / "gen_taxonomy_doc.py"
DOC = ROOT / "docs" / "taxonomy.md"

# The 14 current data.police.uk crime types (anti-social behaviour included).
POLICE_UK_TYPES = (
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences",
)
KNIFE = ("possession_of_article_with_blade_or_point", "other_knife_offences")


@pytest.fixture(scope="module")
def cats():
    return taxonomy.categories()


@pytest.fixture(scope="module")
def cmap():
    return taxonomy.category_map()


def parents(cats) -> dict[str, str]:
    return dict(zip(cats["code"], cats["parent"], strict=True))


# --- the tree -----------------------------------------------------------------------------------

def test_codes_unique_and_well_formed(cats):
    assert cats["code"].is_unique
    assert all(re.fullmatch(r"[a-z][a-z_]*[a-z]", c) for c in cats["code"])
    assert (cats["label"].str.strip() != "").all()


def test_one_root_for_crime_and_one_for_asb(cats):
    roots = set(cats.loc[cats["parent"] == "", "code"])
    assert roots == {"all_crime", "anti_social_behaviour"}
    assert taxonomy.descendants("anti_social_behaviour") == {"anti_social_behaviour"}
    assert "anti_social_behaviour" not in taxonomy.descendants("all_crime")


def test_every_parent_known_and_no_cycles(cats):
    par = parents(cats)
    for code, p in par.items():
        assert p == "" or p in par, (code, p)
    for code in par:
        seen = [code]
        while par[seen[-1]]:
            nxt = par[seen[-1]]
            assert nxt not in seen, f"cycle: {seen + [nxt]}"
            seen.append(nxt)
        assert seen[-1] in ("all_crime", "anti_social_behaviour")
        assert taxonomy.ancestors(code) == seen


def test_every_code_is_reached_from_a_root(cats):
    reached = taxonomy.descendants("all_crime") | taxonomy.descendants("anti_social_behaviour")
    assert reached == set(cats["code"])


def test_violence_roll_ups():
    vap = taxonomy.descendants(taxonomy.VIOLENCE_AGAINST_THE_PERSON)
    assert {"violence_with_injury", "violence_without_injury", "homicide",
            "stalking_and_harassment"} <= vap
    assert not vap & taxonomy.descendants(taxonomy.SEXUAL_OFFENCES)
    assert taxonomy.ROBBERY not in vap
    vso = taxonomy.descendants("violence_and_sexual_offences")
    assert vap | taxonomy.descendants(taxonomy.SEXUAL_OFFENCES) | {
        "violence_and_sexual_offences"} == vso


def test_knife_categories_roll_up_to_possession_of_weapons():
    for k in KNIFE:
        anc = taxonomy.ancestors(k)
        assert anc[1] == taxonomy.KNIFE_OFFENCES
        assert taxonomy.POSSESSION_OF_WEAPONS in anc
        assert k in taxonomy.descendants(taxonomy.POSSESSION_OF_WEAPONS)
    assert taxonomy.descendants(taxonomy.KNIFE_OFFENCES) == {taxonomy.KNIFE_OFFENCES, *KNIFE}


def test_named_constants_exist(cats):
    for c in (taxonomy.VIOLENCE_AGAINST_THE_PERSON, taxonomy.VIOLENCE_WITH_INJURY,
              taxonomy.ROBBERY, taxonomy.SEXUAL_OFFENCES, taxonomy.POSSESSION_OF_WEAPONS,
              taxonomy.KNIFE_OFFENCES):
        assert c in set(cats["code"])


def test_unknown_code_raises():
    with pytest.raises(KeyError):
        taxonomy.descendants("knife_crime")
    with pytest.raises(KeyError):
        taxonomy.ancestors("knife_crime")


# --- the mapping tables -------------------------------------------------------------------------

def test_every_mapping_target_exists_and_keys_unique(cats, cmap):
    assert set(cmap["category"]) <= set(cats["code"])
    assert not cmap.duplicated(["scheme", "major", "minor"]).any()
    assert set(cmap["scheme"]) == set(taxonomy.SCHEMES)


def test_every_leaf_is_a_mapping_target(cats, cmap):
    """A leaf no source maps to would be a category that can never hold a count."""
    par = set(cats["parent"])
    leaves = set(cats["code"]) - par
    assert leaves <= set(cmap["category"]), leaves - set(cmap["category"])


def test_every_police_uk_type_maps():
    for t in POLICE_UK_TYPES:
        assert taxonomy.harmonise("police_uk", "", t) is not None, t
    assert taxonomy.harmonise("police_uk", "", "Anti-social behaviour") == "anti_social_behaviour"
    assert taxonomy.harmonise("police_uk", "", "Violence and sexual offences") == \
        "violence_and_sexual_offences"
    # The pre-May-2013 name of the same type (data.police.uk API slug "violent-crime").
    assert taxonomy.harmonise("police_uk", "", "Violent crime") == "violence_and_sexual_offences"
    assert taxonomy.harmonise("police_uk", "", "Possession of weapons") == "possession_of_weapons"


def test_scheme_sizes_match_the_documented_classifications(cmap):
    for scheme, majors, minors in (("mps_detailed", 12, 56), ("mps_coarse", 12, 32)):
        m = cmap[cmap["scheme"] == scheme]
        # the names releases since 2024 added (each with a note saying where it is seen) aside
        m = m[m["note"] == ""] if scheme == "mps_coarse" else m
        assert (m["major"].nunique(), len(m)) == (majors, minors), scheme
    assert len(cmap[cmap["scheme"] == "police_uk"]) == 16


def test_mps_vintages_are_told_apart_by_case(cmap):
    det = cmap[cmap["scheme"] == "mps_detailed"]
    coarse = cmap[cmap["scheme"] == "mps_coarse"]
    assert all(a.isupper() and b.isupper() for a, b in zip(coarse["major"], coarse["minor"],
                                                           strict=True))
    assert not any(a.isupper() for a in det["major"])
    assert not set(zip(det["major"], det["minor"], strict=True)) & set(
        zip(coarse["major"], coarse["minor"], strict=True))


def test_knife_categories_only_in_detailed_vintage(cmap):
    for k in (taxonomy.KNIFE_OFFENCES, *KNIFE):
        assert set(cmap.loc[cmap["category"] == k, "scheme"]) <= {"mps_detailed"}
    assert taxonomy.harmonise("mps_detailed", "Possession of Weapons",
                              "Possession of Article with Blade or Point") == KNIFE[0]


def test_asb_only_from_police_uk(cmap):
    assert set(cmap.loc[cmap["category"] == "anti_social_behaviour", "scheme"]) == {"police_uk"}


def test_minor_categories_sit_under_their_major(cmap):
    """Each MPS minor category maps inside the category its major maps to (scheme mps_major)."""
    major_target = {a.lower(): c for a, c in zip(
        cmap.loc[cmap["scheme"] == "mps_major", "minor"],
        cmap.loc[cmap["scheme"] == "mps_major", "category"], strict=True)}
    checked = 0
    for scheme in ("mps_detailed", "mps_coarse"):
        m = cmap[cmap["scheme"] == scheme]
        for major, cat in zip(m["major"], m["category"], strict=True):
            target = major_target.get(major.lower())
            if target:
                assert cat in taxonomy.descendants(target), (scheme, major, cat)
                checked += 1
    assert checked > 20


def test_harmonise_strips_and_refuses_unknown():
    assert taxonomy.harmonise("mps_coarse", " ROBBERY ", "ROBBERY OF PERSONAL PROPERTY ") == \
        "robbery_of_personal_property"
    assert taxonomy.harmonise("mps_coarse", "Robbery", "Robbery of Personal Property") is None
    assert taxonomy.harmonise("police_uk", "", "Knife crime") is None
    with pytest.raises(ValueError):
        taxonomy.harmonise("mps", "Robbery", "Robbery")


# --- docs/taxonomy.md ---------------------------------------------------------------------------

def _generator():
    spec = importlib.util.spec_from_file_location("gen_taxonomy_doc", GEN_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_docs_taxonomy_md_is_up_to_date():
    text = _generator().render()
    assert DOC.exists(), "run python scripts/gen_taxonomy_doc.py"
    assert DOC.read_text(encoding="utf-8") == text, \
        "docs/taxonomy.md is stale: run python scripts/gen_taxonomy_doc.py"


def test_docs_list_every_category_and_mapping(cats, cmap):
    text = _generator().render()
    for code in cats["code"]:
        assert f"(`{code}`)" in text
    for scheme in taxonomy.SCHEMES:
        assert f"### `{scheme}`" in text
    for minor in cmap["minor"]:
        assert f"| {minor.replace('|', chr(92) + '|')} |" in text
    for phrase in ("only in the detailed MPS vintage", "combines violence and sexual offences",
                   "Anti-social behaviour is not crime"):
        assert phrase in text
