"""The Django admin of the tagging models: closed to administrators, audited for superusers, activations
checked for overlaps."""

from __future__ import annotations

import pytest
from django.forms.models import inlineformset_factory
from factories import signed_in, superuser, user

from vru.web.accounts.models import AuditLog
from vru.web.tagging.admin import ActivationFormSet
from vru.web.tagging.models import DeviceActivation, Wearer

pytestmark = pytest.mark.django_db


def test_the_admin_inline_refuses_two_overlapping_rows_sent_together(handed_over):
    w = handed_over
    wearer = w.wearers[3]
    FormSet = inlineformset_factory(Wearer, DeviceActivation, formset=ActivationFormSet,
                                    fields=["device_id", "active_from", "active_to"], extra=2)
    prefix = FormSet().prefix
    data = {f"{prefix}-TOTAL_FORMS": "3", f"{prefix}-INITIAL_FORMS": "1", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}
    cur = wearer.activations.get()
    data |= {f"{prefix}-0-id": str(cur.pk), f"{prefix}-0-wearer": str(wearer.pk),
             f"{prefix}-0-device_id": cur.device_id, f"{prefix}-0-active_from": "2024-03-01 00:00:00"}
    for i in (1, 2):
        data |= {f"{prefix}-{i}-device_id": "D-TWICE",
                 f"{prefix}-{i}-active_from": f"2024-03-0{i + 4} 00:00:00"}
    fs = FormSet(data, instance=wearer)
    assert not fs.is_valid()
    assert "Two activations of device D-TWICE overlap" in str(fs.non_form_errors())


@pytest.mark.world("pages")
def test_the_admin_of_wearers_is_closed_to_administrators_and_audited_for_superusers(world):
    admin = signed_in(user("staff.admin@x.test", "administrator", world.probation, is_staff=True))
    assert admin.get("/admin/tagging/wearer/").status_code == 403
    assert admin.get(f"/admin/tagging/wearer/{world.wearers[0].pk}/change/").status_code in (302, 403)
    root = superuser("root@x.test")
    assert signed_in(root).get("/admin/tagging/wearer/").status_code == 200
    assert AuditLog.objects.filter(user=root, action="list").exists()
