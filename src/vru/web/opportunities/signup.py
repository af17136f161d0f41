"""Young people's sign-up, confirmed by email (docs/web-opportunities.md, "Sign-up").

The sign-up page answers every valid request the same way ("Check your email"), whether or not the
address already has an account, so it tells nobody which addresses have accounts. What differs is the
email, which only the owner of the address reads:

- **a new address**: an account is created *inactive* with no password (the nickname and year of birth
  given), and the email holds a link to choose a password. Choosing it activates the account and signs
  the person in. The password is chosen only after the address is proven: someone who signs up with
  another person's address cannot know the password of the account it becomes.
- **an address waiting for confirmation** (signed up, link not used): the details are updated and a new
  link is sent.
- **an address with an account**: an email saying someone tried to sign up with it, with the links to
  sign in and to reset the password. Nothing is changed.

The link is Django's password-reset token machinery with its own salt (:class:`SignUpTokenGenerator`):
valid for ``PASSWORD_RESET_TIMEOUT`` (3 days), and once only, because the token covers the password
and ``is_active``, which choosing the password changes.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode

from vru.web.accounts.models import User
from vru.web.core.forms import GovukFormMixin

from .models import YoungPerson
from .roles import YOUNG_PERSON


class SignUpTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset tokens under another salt, so a sign-up link is never a password-reset link."""

    key_salt = "vru.web.opportunities.signup.SignUpTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{user.last_login}{timestamp}{user.email}"


signup_tokens = SignUpTokenGenerator()
NEXT_SESSION_KEY = "lvn_signup_next"


def is_pending(user: User) -> bool:
    """An account made by sign-up whose link has not been used yet (inactive, no password)."""
    return (not user.is_active and not user.has_usable_password() and user.last_login is None
            and YoungPerson.objects.filter(user=user).exists())


def purge_unconfirmed(now=None) -> int:
    """Delete sign-ups whose link has expired unused (retention: nothing is kept for a person who never
    confirmed). A pending account older than ``PASSWORD_RESET_TIMEOUT`` can no longer be confirmed, so
    its nickname and year of birth serve no purpose. Returns how many accounts were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    stale = User.objects.filter(is_active=False, last_login__isnull=True, date_joined__lt=cutoff,
                                young_person__isnull=False)
    deleted = 0
    for user in stale:
        if not is_pending(user):
            continue
        with transaction.atomic():
            user.delete()
        deleted += 1
    return deleted


def start(request, email: str, nickname: str, birth_year: int, next_url: str = "") -> None:
    """Send the email of a sign-up for ``email`` (see the module's docstring)."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        if user is None:
            user = User(email=email, is_active=False)
            user.set_unusable_password()
            user.save()
            YoungPerson.objects.create(user=user, nickname=nickname, birth_year=birth_year)
            user.groups.add(Group.objects.get(name=YOUNG_PERSON))
        elif is_pending(user):
            YoungPerson.objects.filter(user=user).update(nickname=nickname, birth_year=birth_year)
        else:
            if user.is_active:
                _send(request, user, "exists", {
                    "login_url": request.build_absolute_uri(reverse("login")),
                    "reset_url": request.build_absolute_uri(reverse("password_reset"))})
            return
    path = reverse("opportunities:signup_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": signup_tokens.make_token(user)})
    if next_url:
        path += "?" + urlencode({"next": next_url})
    _send(request, user, "confirm", {"link": request.build_absolute_uri(path), "nickname": nickname})


def _send(request, user: User, which: str, ctx: dict) -> None:
    ctx = {**ctx, "email": user.email, "site": request.get_host()}
    subject = render_to_string(f"opportunities/email/signup_{which}_subject.txt", ctx).strip()
    body = render_to_string(f"opportunities/email/signup_{which}.txt", ctx)
    send_mail(subject, body, None, [user.email])


class ChoosePasswordForm(GovukFormMixin, SetPasswordForm):
    """Django's set-password form (its validators), in GOV.UK markup."""


class ConfirmView(auth_views.PasswordResetConfirmView):
    """The link of the sign-up email: Django's reset-confirm view (the token leaves the address bar
    before the page is shown), with the sign-up tokens; choosing the password activates the account
    and signs the young person in. Only an account waiting for confirmation can be confirmed."""

    token_generator = signup_tokens
    form_class = ChoosePasswordForm
    template_name = "opportunities/signup_confirm.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("opportunities:search")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and is_pending(user) else None

    def dispatch(self, *args, **kwargs):
        nxt = self.request.GET.get("next", "")
        if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={self.request.get_host()},
                                                   require_https=self.request.is_secure()):
            self.request.session[NEXT_SESSION_KEY] = nxt  # the redirect to the form drops the query
        return super().dispatch(*args, **kwargs)

    def form_valid(self, form):
        form.user.is_active = True  # saved with the password by the form
        response = super().form_valid(form)
        nickname = YoungPerson.objects.get(user=form.user).nickname
        messages.success(self.request, f"Welcome, {nickname}: your account is ready")
        return response

    def get_success_url(self):
        return self.request.session.pop(NEXT_SESSION_KEY, None) or str(self.success_url)
