"""The ``opportunities:favourite`` view, ``/opportunities/<int:pk>/favourite/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in, young_person

from vru.web.opportunities.models import Favourite

pytestmark = pytest.mark.django_db


def test_favourites_add_list_remove():
    opp = opportunity()
    yp = young_person()
    c = signed_in(yp)
    c.post(reverse("opportunities:favourite", args=[opp.pk]))
    assert Favourite.objects.filter(user=yp, opportunity=opp).exists()
    c.get(reverse("opportunities:mine"))  # shows (and uses up) the "saved" message
    assert opp.title in c.get(reverse("opportunities:mine")).content.decode()
    c.post(reverse("opportunities:favourite", args=[opp.pk]))
    c.get(reverse("opportunities:mine"))
    assert opp.title not in c.get(reverse("opportunities:mine")).content.decode()
    assert not Favourite.objects.exists()
