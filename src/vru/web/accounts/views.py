"""The signed-in home page (dashboards come in later slices)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    return render(request, "accounts/home.html", {"roles": request.user.roles})
