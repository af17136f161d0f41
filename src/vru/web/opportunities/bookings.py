"""Registering for a place, and cancelling, safely under concurrent requests.

A place is taken by one conditional UPDATE (``places_taken = places_taken + 1 WHERE id = ... AND
places_taken < capacity``) in the same transaction as the ``Registration`` insert. The database
evaluates the condition on the current row (PostgreSQL re-checks it after waiting for a concurrent
update of the same row; SQLite serialises writers), so two people can never take the last place, and
a failed insert (already registered) rolls back the increment. The check constraint
``opp_not_overbooked`` guards the same rule a second time.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .lifecycle import live_q
from .models import Opportunity, Registration


class BookingError(Exception):
    """The registration could not be made (full, already registered, no longer open)."""


def register(user, opp: Opportunity, *, shared_name: str, shared_email: str = "",
             note: str = "") -> Registration:
    try:
        with transaction.atomic():
            taken = (Opportunity.objects.filter(live_q(), pk=opp.pk)
                     .filter(Q(capacity__isnull=True) | Q(places_taken__lt=F("capacity")))
                     .update(places_taken=F("places_taken") + 1))
            if not taken:
                if Opportunity.objects.filter(live_q(), pk=opp.pk).exists():
                    raise BookingError("Sorry, there are no places left")
                raise BookingError("This opportunity is no longer open for registration")
            return Registration.objects.create(user=user, opportunity=opp, shared_name=shared_name,
                                               shared_email=shared_email, note=note)
    except IntegrityError as exc:
        if Registration.objects.filter(user=user, opportunity=opp, cancelled__isnull=True).exists():
            raise BookingError("You are already registered for this opportunity") from exc
        raise


def cancel(registration: Registration) -> bool:
    """Cancel an active registration and free its place. Returns False if it was already cancelled.

    What the young person shared (email, note) is deleted with the cancellation; the provider keeps
    only that a place was booked and given back."""
    with transaction.atomic():
        done = (Registration.objects.filter(pk=registration.pk, cancelled__isnull=True)
                .update(cancelled=timezone.now(), shared_email="", note=""))
        if not done:
            return False
        Opportunity.objects.filter(pk=registration.opportunity_id, places_taken__gt=0).update(
            places_taken=F("places_taken") - 1)
    return True
