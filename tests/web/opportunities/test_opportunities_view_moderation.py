"""The ``opportunities:moderation`` view, ``/opportunities/moderation/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import opportunity, signed_in

pytestmark = pytest.mark.django_db


def test_queue_lists_pending_only(moderator):
    pending = opportunity(title="Waiting one", status="pending")
    opportunity(title="Already out")
    page = signed_in(moderator).get(reverse("opportunities:moderation")).content.decode()
    assert pending.title in page and "Already out" not in page
