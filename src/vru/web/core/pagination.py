"""The JSON API's pagination: DRF's ``limit``/``offset``, within bounds a database can take.

An offset past a 64-bit integer (``?offset=99999999999999999999``) was a 500 from SQLite ("datatype
mismatch"), and so was a limit that large: both are capped at 2^31 - 1 (a list may still be asked for
whole: the dashboard's hot spots are every LSOA). The platform's default (``REST_FRAMEWORK``), so every
list endpoint has it unless it sets its own (the Open Referral UK API pages by ``page``, as its
standard says)."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination


class BoundedPagination(LimitOffsetPagination):
    max_limit = 2**31 - 1
    max_offset = 2**31 - 1

    def get_offset(self, request):
        return min(super().get_offset(request), self.max_offset)
