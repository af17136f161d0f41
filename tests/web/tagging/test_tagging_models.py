"""The tagging models and database: roles and permissions, database bounds on numbers and distances."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from vru.tagging.positions import MAX_PRECISION_M
from vru.web.accounts.roles import role_permissions
from vru.web.tagging.models import MAX_DISTANCE_M, MAX_RADIUS_M, MatchPoint, Zone
from vru.web.tagging.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_the_database_roles_hold_the_tagging_permissions_and_administrators_none():
    for role, perms in ROLE_PERMISSIONS.items():
        held = {f"{p.content_type.app_label}.{p.codename}"
                for p in Group.objects.get(name=role).permissions.all()}
        tagging = {p for p in held if p.startswith("tagging.")}
        assert tagging == set(perms), role
    assert ROLE_PERMISSIONS["administrator"] == {"tagging.view_figures"}  # no trail, wearer or match
    assert role_permissions()["police analyst"] >= {"tagging.view_match", "tagging.add_crimebatch"}


def test_numbers_are_bounded_in_the_database(world):
    w = world.wearers[0]
    z = Zone(wearer=w, kind="curfew", name="x", curfew_easting=530000, curfew_northing=180000,
             curfew_radius_m=10**9)
    with pytest.raises(IntegrityError), transaction.atomic():
        z.save()


def test_the_importer_and_the_match_point_table_share_their_bounds():
    from vru.tagging import positions
    from vru.web.tagging import models

    assert models.MAX_SPEED_KMH is positions.MAX_SPEED_KMH
    assert models.MAX_PRECISION_M is positions.MAX_PRECISION_M


def test_the_distance_bound_covers_the_precision_cap_plus_the_largest_radius():
    assert MAX_DISTANCE_M >= MAX_PRECISION_M + MAX_RADIUS_M


@pytest.mark.world("ingested")
def test_the_database_refuses_a_distance_past_the_bound(world):
    p = MatchPoint.objects.first()
    MatchPoint.objects.filter(pk=p.pk).update(distance_m=MAX_DISTANCE_M)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchPoint.objects.filter(pk=p.pk).update(distance_m=MAX_DISTANCE_M + 1)
