"""The opportunities web app: the models, their database constraints and the role groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from factories import opportunity, young_person

from vru.web.opportunities.models import Opportunity, YoungPerson
from vru.web.opportunities.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_roles_hold_this_apps_permissions_after_migrate():
    for name, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        got = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert perms <= got, name
    assert not Group.objects.get(name="provider").permissions.filter(codename="moderate_opportunity").exists()
    assert not Group.objects.get(name="analyst").permissions.filter(content_type__app_label="opportunities")


def test_the_database_refuses_out_of_bounds_integers_and_the_migration_names_them():
    """The CHECK constraints hold whatever writes the row (a bulk update, the shell), and the migration
    that adds them names any stored row outside the bounds instead of failing blindly."""
    import importlib

    from django.apps import apps as django_apps
    from django.db import DataError, IntegrityError, connection, transaction


    opp = opportunity(capacity=5)
    yp = young_person()
    for qs, change in [(Opportunity.objects.filter(pk=opp.pk), {"capacity": 100_001}),
                       (Opportunity.objects.filter(pk=opp.pk), {"capacity": None, "places_taken": 10**9}),
                       (Opportunity.objects.filter(pk=opp.pk), {"max_age": 200}),
                       (Opportunity.objects.filter(pk=opp.pk), {"is_free": False, "price": 10**6}),
                       (YoungPerson.objects.filter(user=yp), {"birth_year": 30000})]:
        with pytest.raises((IntegrityError, DataError)), transaction.atomic():  # PostgreSQL: numeric(7,2)
            qs.update(**change)
    migration = importlib.import_module("vru.web.opportunities.migrations.0007_bounds")
    migration.refuse_out_of_bounds(django_apps, None)  # nothing out of bounds: passes
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA ignore_check_constraints = ON")
            try:
                Opportunity.objects.filter(pk=opp.pk).update(capacity=10**12, places_taken=0)
            finally:
                cur.execute("PRAGMA ignore_check_constraints = OFF")
        with pytest.raises(RuntimeError) as e:
            migration.refuse_out_of_bounds(django_apps, None)
        assert f"opportunity {opp.pk}: capacity = {10**12}" in str(e.value)
