"""Who sees which tagging record: the per-object rules the pages and the JSON API share.

- an offender manager sees the wearers of their own organisation, and those wearers' trails, zones and
  breaches; another organisation's record is 404 (not 403), so that ids cannot be probed;
- a police analyst sees the crime batches of their own force (``ForceOrganisation`` of their
  organisation) and its QUALIFIED matches; another force's, and a pending or dismissed match, is 404 too;
- a tagging reviewer (the unit's hub; ``tagging.change_match``) sees every force's matches, of every
  status: the hub qualifies or dismisses a match before it is shared with a force.

The permission each view needs is checked before these (``require_perms`` for the pages, the API's
permission class): these rules only narrow what a permitted user sees.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from . import services
from .models import Breach, CrimeBatch, Match, Wearer


def own_wearers(user):
    """The wearers of the user's organisation (none without one)."""
    org = getattr(user, "organisation_id", None)
    return Wearer.objects.filter(organisation_id=org) if org else Wearer.objects.none()


def wearer_or_404(user, pk) -> Wearer:
    return get_object_or_404(own_wearers(user), pk=pk)


def own_breaches(user):
    return Breach.objects.filter(wearer__in=own_wearers(user)).select_related("wearer", "zone")


def breach_or_404(user, pk) -> Breach:
    return get_object_or_404(own_breaches(user), pk=pk)


def force_batches(user):
    """The crime batches of the user's force (none if their organisation is no force)."""
    force = services.force_of(user)
    return CrimeBatch.objects.filter(force=force) if force else CrimeBatch.objects.none()


def batch_or_404(user, pk) -> CrimeBatch:
    return get_object_or_404(force_batches(user), pk=pk)


def force_matches(user):
    """The matches the user sees: a tagging reviewer (who may qualify or dismiss) every match; anyone else
    the qualified matches of the crimes of their force (only qualified matches are shared)."""
    if user.has_perm("tagging.change_match"):
        return Match.objects.all()
    force = services.force_of(user)
    if not force:
        return Match.objects.none()
    return Match.objects.filter(crime_version__crime__force=force, status="qualified")


def match_or_404(user, pk) -> Match:
    qs = force_matches(user).select_related("crime_version__crime", "wearer", "run")
    return get_object_or_404(qs, pk=pk)
